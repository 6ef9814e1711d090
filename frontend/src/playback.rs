//! The playback of a trace: a pure reducer, tested natively.
//!
//! [`Playback`] says how far into the trace the reader is (`cursor`: events applied), where
//! the display clock stands while playing, how fast it runs and which socket the state
//! diagram is pinned to. Every change is an [`Action`]; [`Playback::apply`] is a pure function
//! of the state and the action. The cursor only ever rests between two steps (see
//! [`crate::steps`]): stepping moves by one step, and a seek or a frame that lands inside a
//! step shows that step whole. The page's reducer (`page_state.rs`) holds a `Playback` and
//! hands these actions on; animation frames and keys only dispatch them (see `hooks.rs`).

use std::rc::Rc;

use crate::pace::Pace;
use crate::steps::Steps;
use sockscope_engine::trace::{EventKind, SocketId, Trace};

/// The speeds the speed control offers, slowest first.
pub const SPEEDS: [f64; 7] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0];
/// [`SPEEDS`] as the speed control writes them (its option values and, with `×`, labels).
pub const SPEED_TEXT: [&str; 7] = ["0.25", "0.5", "1", "2", "4", "8", "16"];

/// What the reducer needs to know about a trace: its steps, its pace and where the state
/// changes are.
#[derive(Debug, Default)]
pub struct Timing {
    pub steps: Steps,
    pub pace: Pace,
    /// Indices of the trace's state-change events, in order.
    pub changes: Vec<usize>,
}

impl Timing {
    /// The timing of `trace`, whose narrated events (those with a story sentence) are at
    /// `narrated`, ascending.
    pub fn new(trace: &Trace, narrated: &[usize]) -> Timing {
        let changes = trace
            .events
            .iter()
            .enumerate()
            .filter(|(_, event)| matches!(event.kind, EventKind::State { .. }))
            .map(|(index, _)| index)
            .collect();
        let steps = Steps::new(trace, narrated);
        Timing { pace: Pace::new(&trace.events, steps.stops()), steps, changes }
    }

    pub fn len(&self) -> usize {
        self.pace.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pace.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct Playback {
    pub timing: Rc<Timing>,
    /// Events applied, `0..=len`. The view shows the world after them.
    pub cursor: usize,
    /// The display clock in seconds (see [`crate::pace`]); it leads `cursor` while playing.
    pub position: f64,
    pub playing: bool,
    /// A multiple of real time, one of [`SPEEDS`].
    pub speed: f64,
    /// The socket the reader pinned the state diagram to; `None` follows the socket each
    /// step is about.
    pub selected: Option<SocketId>,
}

impl PartialEq for Playback {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.timing, &other.timing)
            && self.cursor == other.cursor
            && self.position == other.position
            && self.playing == other.playing
            && self.speed == other.speed
            && self.selected == other.selected
    }
}

#[derive(Clone, Debug)]
pub enum Action {
    Play,
    Pause,
    TogglePlay,
    StepForward,
    StepBack,
    NextChange,
    PreviousChange,
    /// Go to the world after this many events (clamped to the trace).
    Seek(usize),
    Home,
    End,
    SetSpeed(f64),
    Faster,
    Slower,
    /// Real milliseconds elapsed since the last animation frame while playing.
    Tick(f64),
    Select(Option<SocketId>),
}

impl Playback {
    /// The playback at `cursor`, or at the end of the step `cursor` is inside.
    pub fn new(timing: Rc<Timing>, cursor: usize) -> Playback {
        let cursor = timing.steps.at_or_after(cursor.min(timing.len()));
        Playback {
            position: timing.pace.position_of(cursor),
            timing,
            cursor,
            playing: false,
            speed: 1.0,
            selected: None,
        }
    }

    /// The playback of another trace: at its start, paused, at the speed the reader chose.
    pub fn with_trace(&self, timing: Rc<Timing>) -> Playback {
        Playback { speed: self.speed, ..Playback::new(timing, 0) }
    }

    pub fn len(&self) -> usize {
        self.timing.len()
    }

    pub fn is_empty(&self) -> bool {
        self.timing.is_empty()
    }

    pub fn at_end(&self) -> bool {
        self.cursor >= self.len()
    }

    /// Simulated time in µs at the display clock (fractional while a gap is being played).
    pub fn sim_time(&self) -> f64 {
        self.timing.pace.sim_time(self.cursor, self.position)
    }

    /// Rests at `cursor`, or at the end of the step `cursor` is inside.
    fn seek(mut self, cursor: usize) -> Playback {
        self.cursor = self.timing.steps.at_or_after(cursor.min(self.len()));
        self.position = self.timing.pace.position_of(self.cursor);
        self
    }

    /// The state after `action`; the input is not changed.
    pub fn apply(&self, action: Action) -> Playback {
        let mut next = self.clone();
        match action {
            Action::Play => next = self.clone().start(),
            Action::Pause => next.playing = false,
            Action::TogglePlay => {
                next = if self.playing { Playback { playing: false, ..self.clone() } } else { self.clone().start() }
            }
            Action::StepForward => next = self.clone().stopped().seek(self.timing.steps.after(self.cursor)),
            Action::StepBack => next = self.clone().stopped().seek(self.timing.steps.before(self.cursor)),
            Action::NextChange => {
                // The first state change not yet applied is applied, with the rest of its step.
                let changes = &self.timing.changes;
                let index = changes.partition_point(|&change| change < self.cursor);
                let target = changes.get(index).map_or(self.len(), |&change| change + 1);
                next = self.clone().stopped().seek(target);
            }
            Action::PreviousChange => {
                // The step of the last change before the one on screen.
                let steps = &self.timing.steps;
                let changes = &self.timing.changes;
                let index = changes.partition_point(|&change| steps.at_or_after(change + 1) < self.cursor);
                let target = if index == 0 { 0 } else { changes[index - 1] + 1 };
                next = self.clone().stopped().seek(target);
            }
            Action::Seek(cursor) => next = self.clone().stopped().seek(cursor),
            Action::Home => next = self.clone().stopped().seek(0),
            Action::End => next = self.clone().stopped().seek(usize::MAX),
            Action::SetSpeed(speed) => {
                if speed.is_finite() {
                    next.speed = nearest_speed(speed);
                }
            }
            Action::Faster => next.speed = step_speed(self.speed, 1),
            Action::Slower => next.speed = step_speed(self.speed, -1),
            Action::Tick(elapsed_ms) => {
                if self.playing && elapsed_ms.is_finite() && elapsed_ms > 0.0 {
                    // A long frame (a background tab) advances at most a quarter second, so
                    // that returning to the page does not skip a whole story.
                    let elapsed = (elapsed_ms / 1000.0).min(0.25) * self.speed;
                    next.position = self.position + elapsed;
                    let pace = &self.timing.pace;
                    next.cursor = self.timing.steps.at_or_after(pace.applied_at(next.position)).max(self.cursor);
                    if next.position >= pace.total {
                        next.position = pace.total;
                        next.cursor = self.len();
                        next.playing = false;
                    }
                }
            }
            Action::Select(socket) => next.selected = socket,
        }
        next
    }

    fn stopped(mut self) -> Playback {
        self.playing = false;
        self
    }

    fn start(mut self) -> Playback {
        if self.is_empty() {
            return self;
        }
        if self.at_end() {
            self = self.seek(0);
        }
        self.position = self.timing.pace.position_of(self.cursor);
        self.playing = true;
        self
    }
}

/// The offered speed closest to `speed` (0.25x to 16x).
pub fn nearest_speed(speed: f64) -> f64 {
    let mut best = SPEEDS[0];
    for candidate in SPEEDS {
        if (candidate.ln() - speed.max(1e-9).ln()).abs() < (best.ln() - speed.max(1e-9).ln()).abs() {
            best = candidate;
        }
    }
    best
}

fn step_speed(speed: f64, direction: i32) -> f64 {
    let index = SPEEDS.iter().position(|&candidate| candidate == nearest_speed(speed)).unwrap_or(2) as i32;
    SPEEDS[(index + direction).clamp(0, SPEEDS.len() as i32 - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockscope_engine::builtin;

    fn timing(name: &str) -> Rc<Timing> {
        let scenario = builtin::get(name).expect("a built-in scenario");
        let trace = sockscope_engine::run(&scenario).expect("a built-in scenario runs").trace;
        let narrated: Vec<usize> =
            sockscope_engine::format::story(&trace, sockscope_engine::format::Numbering::Relative)
                .into_iter()
                .map(|(index, _)| index)
                .collect();
        Rc::new(Timing::new(&trace, &narrated))
    }

    fn tlpi() -> Playback {
        Playback::new(timing("tlpi-tcpdump"), 0)
    }

    /// Applies actions in order and returns every intermediate cursor.
    fn cursors(start: &Playback, actions: &[Action]) -> Vec<usize> {
        let mut state = start.clone();
        actions
            .iter()
            .map(|action| {
                state = state.apply(action.clone());
                state.cursor
            })
            .collect()
    }

    #[test]
    fn steps_seek_and_clamp() {
        let start = tlpi();
        let len = start.len();
        assert!(len > 50, "tlpi-tcpdump has {len} events");
        let stops = start.timing.steps.stops().to_vec();
        // A seek inside a step shows that step whole.
        let inside = (1..len).find(|cursor| !start.timing.steps.is_stop(*cursor)).expect("a step of several events");
        let end_of_inside = stops[stops.partition_point(|&stop| stop < inside)];
        let cases: Vec<(Vec<Action>, Vec<usize>)> = vec![
            (vec![Action::StepBack], vec![0]),
            (vec![Action::StepForward, Action::StepForward, Action::StepBack], vec![stops[1], stops[2], stops[1]]),
            (vec![Action::Seek(stops[10]), Action::Seek(usize::MAX), Action::StepForward], vec![stops[10], len, len]),
            (vec![Action::End, Action::Home], vec![len, 0]),
            (
                vec![Action::Seek(inside), Action::StepBack],
                vec![end_of_inside, stops[stops.partition_point(|&stop| stop < end_of_inside) - 1]],
            ),
        ];
        for (actions, expected) in cases {
            assert_eq!(cursors(&start, &actions), expected, "{actions:?}");
        }
    }

    #[test]
    fn every_action_rests_between_two_steps() {
        for name in ["tlpi-tcpdump", "three-way-handshake", "flow-control"] {
            let start = Playback::new(timing(name), 0);
            let steps = &start.timing.steps;
            let actions = [
                Action::StepForward,
                Action::StepBack,
                Action::NextChange,
                Action::PreviousChange,
                Action::Home,
                Action::End,
            ];
            for cursor in 0..=start.len() {
                let state = start.apply(Action::Seek(cursor));
                assert!(steps.is_stop(state.cursor), "{name}: a seek to {cursor} rests at {}", state.cursor);
                assert!(steps.is_stop(Playback::new(start.timing.clone(), cursor).cursor));
                for action in &actions {
                    let landed = state.apply(action.clone()).cursor;
                    assert!(steps.is_stop(landed), "{name}: {action:?} from {} lands at {landed}", state.cursor);
                }
            }
            let mut playing = start.apply(Action::SetSpeed(16.0)).apply(Action::Play);
            while playing.playing {
                playing = playing.apply(Action::Tick(16.0));
                assert!(steps.is_stop(playing.cursor), "{name}: playing rests at {}", playing.cursor);
            }
        }
    }

    #[test]
    fn state_change_navigation_lands_on_each_change() {
        let start = tlpi();
        let changes = start.timing.changes.clone();
        assert!(changes.len() >= 8, "tlpi-tcpdump has {} state changes", changes.len());
        let steps = &start.timing.steps;
        let mut state = start.clone();
        for &change in &changes {
            state = state.apply(Action::NextChange);
            assert_eq!(state.cursor, steps.at_or_after(change + 1), "the step of the change at {change}");
        }
        state = state.apply(Action::NextChange);
        assert_eq!(state.cursor, start.len(), "after the last change, next goes to the end");
        for &change in changes.iter().rev() {
            state = state.apply(Action::PreviousChange);
            assert_eq!(state.cursor, steps.at_or_after(change + 1));
        }
        assert_eq!(state.apply(Action::PreviousChange).cursor, 0);
    }

    #[test]
    fn playing_advances_with_speed_and_stops_at_the_end() {
        let start = tlpi().apply(Action::Play);
        assert!(start.playing);
        let slow = start.apply(Action::SetSpeed(0.25)).apply(Action::Tick(200.0));
        let fast = start.apply(Action::SetSpeed(16.0)).apply(Action::Tick(200.0));
        assert!(fast.position > slow.position);
        assert!((slow.position - 0.05).abs() < 1e-9);
        // A frame never moves the cursor backwards, and huge frames are capped.
        let capped = start.apply(Action::Tick(60_000.0));
        assert!((capped.position - 0.25).abs() < 1e-9);
        // Playing to the end stops there.
        let mut state = start.apply(Action::SetSpeed(16.0));
        let mut frames = 0;
        while state.playing {
            let next = state.apply(Action::Tick(16.0));
            assert!(next.cursor >= state.cursor);
            state = next;
            frames += 1;
            assert!(frames < 100_000, "playing must end");
        }
        assert_eq!(state.cursor, state.len());
        // Play at the end starts again from the beginning.
        assert_eq!(state.apply(Action::Play).cursor, 0);
        // Ticks while paused do nothing; stepping pauses.
        let paused = start.apply(Action::Pause);
        assert_eq!(paused.apply(Action::Tick(500.0)), paused);
        assert!(!start.apply(Action::StepForward).playing);
    }

    #[test]
    fn speed_texts_name_the_speeds() {
        for (speed, text) in SPEEDS.iter().zip(SPEED_TEXT) {
            assert_eq!(text.parse::<f64>(), Ok(*speed));
            assert_eq!(speed.to_string(), text);
        }
    }

    #[test]
    fn speed_snaps_to_the_offered_steps() {
        let state = tlpi();
        let cases = [(0.01, 0.25), (0.3, 0.25), (1.0, 1.0), (3.0, 4.0), (100.0, 16.0), (f64::NAN, 1.0)];
        for (asked, got) in cases {
            assert_eq!(state.apply(Action::SetSpeed(asked)).speed, got, "asked {asked}");
        }
        assert_eq!(state.apply(Action::Faster).speed, 2.0);
        assert_eq!(state.apply(Action::Slower).apply(Action::Slower).apply(Action::Slower).speed, 0.25);
        assert_eq!(state.apply(Action::SetSpeed(16.0)).apply(Action::Faster).speed, 16.0);
    }

    #[test]
    fn sim_time_follows_the_cursor_when_paused() {
        let state = tlpi().apply(Action::Seek(30));
        let trace_time = state.timing.pace.t_us[state.cursor - 1] as f64;
        assert_eq!(state.sim_time(), trace_time);
        assert_eq!(tlpi().sim_time(), 0.0);
    }

    #[test]
    fn another_trace_starts_paused_at_its_beginning_at_the_chosen_speed() {
        let playing = tlpi()
            .apply(Action::SetSpeed(4.0))
            .apply(Action::Select(Some(SocketId(1))))
            .apply(Action::Seek(30))
            .apply(Action::Play);
        let other = timing("three-way-handshake");
        let next = playing.with_trace(other.clone());
        assert!(Rc::ptr_eq(&next.timing, &other));
        assert_eq!((next.cursor, next.position, next.playing, next.speed, next.selected), (0, 0.0, false, 4.0, None));
    }
}
