//! Playback pace: when, in seconds of watching at 1x, each trace event is applied.
//!
//! Simulated time is a poor clock to watch: a segment crosses a 200 µs link, then nothing
//! happens for the 60 s of TIME_WAIT. The page therefore plays on its own "display" clock.
//! Every step (see [`crate::steps`]) that a reader should notice gets a short pause after it,
//! the events of one step are applied together, and the simulated
//! gap before the next event is shown for a time that grows with the logarithm of its
//! length, capped at [`MAX_GAP_SECS`]. Gaps of at least [`IDLE_MARK_US`] are listed as idle
//! stretches, so that the diagram can mark them as compressed; the countdowns keep showing
//! simulated time, which runs faster than real time through such a stretch.
//!
//! The same display clock is the sequence diagram's vertical axis, so an arrow's slope on
//! screen is exactly the path a moving segment follows while playing.

use sockscope_engine::trace::{Event, EventKind, Phase, TimerAction};

/// Pause after a step a reader should notice (a segment, a state change, a call).
pub const NOTICE_PAUSE_SECS: f64 = 0.45;
/// Pause after a step of bookkeeping only (a host, a process starting, a timer armed).
pub const MINOR_PAUSE_SECS: f64 = 0.0;
/// The longest that any simulated gap between two events is shown for, at 1x.
pub const MAX_GAP_SECS: f64 = 2.6;
/// Simulated gaps at least this long are marked as compressed idle time.
pub const IDLE_MARK_US: u64 = 500_000;

/// A stretch of simulated time with no events, shown shorter than it lasted.
#[derive(Clone, Debug, PartialEq)]
pub struct IdleGap {
    /// The event the stretch ends at.
    pub before_event: usize,
    /// How long it lasts in simulated microseconds.
    pub sim_us: u64,
    /// Where it starts and ends on the display clock.
    pub display_start: f64,
    pub display_end: f64,
}

/// Display times of every event of one trace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pace {
    /// `at[i]`: display time at which event `i` is applied. Never decreases.
    pub at: Vec<f64>,
    /// `moving_from[i]`: display time from which the simulated clock runs towards event `i`
    /// (after the pause that follows event `i - 1`).
    pub moving_from: Vec<f64>,
    /// Simulated time of every event, copied so that the clock can be read without the trace.
    pub t_us: Vec<u64>,
    /// The display time at which playing ends.
    pub total: f64,
    pub idle: Vec<IdleGap>,
}

/// Whether an event is something the story stops at while playing.
pub fn is_notable(event: &Event) -> bool {
    match &event.kind {
        EventKind::Segment(_) | EventKind::State { .. } | EventKind::Note { .. } | EventKind::End { .. } => true,
        EventKind::Syscall { phase, .. } => matches!(phase, Phase::Block | Phase::Return | Phase::Enter),
        EventKind::Timer { action, .. } => *action == TimerAction::Fired,
        EventKind::Host { .. }
        | EventKind::Process { .. }
        | EventKind::Fd { .. }
        | EventKind::Socket { .. }
        | EventKind::Queues { .. }
        | EventKind::Congestion { .. } => false,
    }
}

/// How long a simulated gap is shown for at 1x: nothing for simultaneous events, then a
/// little more for every doubling of its length, at most [`MAX_GAP_SECS`].
pub fn gap_secs(gap_us: u64) -> f64 {
    if gap_us == 0 {
        return 0.0;
    }
    let ms = gap_us as f64 / 1000.0;
    (0.35 + 0.16 * (1.0 + ms).log2()).min(MAX_GAP_SECS)
}

impl Pace {
    /// The pace of `events`, whose steps begin at `stops` (ascending positions, as
    /// [`crate::steps::Steps::stops`] gives them): the pause after a step comes before the
    /// first event of the next one, so that a step's events are applied at one display time.
    pub fn new(events: &[Event], stops: &[usize]) -> Pace {
        let mut pace = Pace {
            at: Vec::with_capacity(events.len()),
            moving_from: Vec::with_capacity(events.len()),
            t_us: events.iter().map(|event| event.t_us).collect(),
            total: 0.0,
            idle: Vec::new(),
        };
        let mut display = 0.0;
        let mut next_stop = 0;
        // Whether the step being laid out has an event a reader should notice.
        let mut step_notable = false;
        for (index, event) in events.iter().enumerate() {
            let starts_step = stops.get(next_stop) == Some(&index);
            if starts_step {
                next_stop += 1;
            }
            if index > 0 {
                let previous = &events[index - 1];
                let pause = if step_notable { NOTICE_PAUSE_SECS } else { MINOR_PAUSE_SECS };
                display += if starts_step { pause } else { 0.0 };
                let moving_from = display;
                let gap = event.t_us.saturating_sub(previous.t_us);
                display += gap_secs(gap);
                if gap >= IDLE_MARK_US {
                    pace.idle.push(IdleGap {
                        before_event: index,
                        sim_us: gap,
                        display_start: moving_from,
                        display_end: display,
                    });
                }
                pace.moving_from.push(moving_from);
            } else {
                pace.moving_from.push(0.0);
            }
            if starts_step {
                step_notable = false;
            }
            step_notable |= is_notable(event);
            pace.at.push(display);
        }
        if !events.is_empty() {
            display += if step_notable { NOTICE_PAUSE_SECS } else { MINOR_PAUSE_SECS };
        }
        pace.total = display;
        pace
    }

    pub fn len(&self) -> usize {
        self.at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// How many events have been applied once the display clock reads `position`.
    pub fn applied_at(&self, position: f64) -> usize {
        self.at.partition_point(|&at| at <= position)
    }

    /// The display time that shows the world after `applied` events.
    pub fn position_of(&self, applied: usize) -> f64 {
        match applied {
            0 => 0.0,
            n => self.at[(n - 1).min(self.at.len() - 1)],
        }
    }

    /// Simulated time (µs, fractional) at display time `position` with `applied` events
    /// applied: it stands still during the pause after an event and then runs linearly
    /// towards the next event's time.
    pub fn sim_time(&self, applied: usize, position: f64) -> f64 {
        if self.t_us.is_empty() {
            return 0.0;
        }
        let applied = applied.min(self.t_us.len());
        let previous = if applied == 0 { 0 } else { self.t_us[applied - 1] };
        if applied >= self.t_us.len() {
            return previous as f64;
        }
        let next = self.t_us[applied];
        let (from, to) = (self.moving_from[applied], self.at[applied]);
        let fraction = if to > from { ((position - from) / (to - from)).clamp(0.0, 1.0) } else { 0.0 };
        previous as f64 + fraction * (next.saturating_sub(previous)) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockscope_engine::trace::Event;

    fn note(t_us: u64) -> Event {
        Event { t_us, kind: EventKind::Note { pid: None, text: "x".into() } }
    }

    /// Every event a step of its own.
    fn every_event(events: &[Event]) -> Vec<usize> {
        (0..=events.len()).collect()
    }

    #[test]
    fn gap_display_grows_slowly_and_is_capped() {
        let cases = [(0, 0.0), (200, 0.39), (1_000_000, 1.94), (60_000_000, MAX_GAP_SECS)];
        for (gap_us, expected) in cases {
            assert!((gap_secs(gap_us) - expected).abs() < 0.02, "{gap_us} µs: {}", gap_secs(gap_us));
        }
        assert!(gap_secs(40_000) < gap_secs(200_000));
    }

    #[test]
    fn display_times_never_decrease_and_mark_idle_gaps() {
        let events = vec![note(0), note(0), note(200), note(60_000_200), note(60_000_400)];
        let pace = Pace::new(&events, &every_event(&events));
        assert!(pace.at.windows(2).all(|pair| pair[0] <= pair[1]));
        assert_eq!(pace.idle.len(), 1);
        assert_eq!(pace.idle[0].before_event, 3);
        assert_eq!(pace.idle[0].sim_us, 60_000_000);
        assert!(pace.total > pace.at[4]);
    }

    #[test]
    fn sim_clock_waits_through_the_pause_then_runs_linearly() {
        let events = vec![note(0), note(1_000_000)];
        let pace = Pace::new(&events, &every_event(&events));
        // During the pause after event 0 the clock stands at 0.
        assert_eq!(pace.sim_time(1, NOTICE_PAUSE_SECS / 2.0), 0.0);
        // Half-way through the gap it reads half the gap.
        let middle = (pace.moving_from[1] + pace.at[1]) / 2.0;
        assert!((pace.sim_time(1, middle) - 500_000.0).abs() < 1.0);
        assert_eq!(pace.sim_time(2, pace.total), 1_000_000.0);
        assert_eq!(pace.applied_at(middle), 1);
        assert_eq!(pace.applied_at(pace.at[1]), 2);
    }

    #[test]
    fn the_events_of_one_step_are_applied_together_and_the_pause_follows_the_step() {
        let fd = Event {
            t_us: 0,
            kind: EventKind::Fd {
                pid: sockscope_engine::trace::Pid(0),
                fd: 3,
                socket: sockscope_engine::trace::SocketId(0),
                action: sockscope_engine::trace::FdAction::Open,
            },
        };
        // Two steps: a note with the descriptor that belongs to it, then another note.
        let events = vec![note(0), fd, note(0)];
        let pace = Pace::new(&events, &[0, 2, 3]);
        assert_eq!(pace.at[0], pace.at[1], "the descriptor shows with its note");
        assert_eq!(pace.at[2] - pace.at[1], NOTICE_PAUSE_SECS, "the pause comes after the whole step");
        assert_eq!(pace.applied_at(pace.at[0]), 2);
    }
}
