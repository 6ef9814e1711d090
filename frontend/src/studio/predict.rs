//! Predict mode's questions: before a step that matters, the page asks what will happen.
//!
//! The scenario's author may write questions for chosen moments ([`Predict`], documented in
//! docs/scenario-format.md); each is asked before the step that holds its moment, with the
//! author's reason. The page writes its own for every other step that matters (unless the
//! author said `"generated": "skip"`), one per step, about the step's most telling event: a
//! timer expiring (when, counted from when it was armed), else a segment being sent (its
//! flags and numbers, as the diagram labels it), else a TCP state change (the state entered),
//! else a call returning (its result or errno) when that result teaches something: it failed,
//! it had blocked, or it is a count or a descriptor. The wrong choices are the mistakes
//! students make: an ACK of the ISN instead of ISN + 1 (forgetting that a SYN or FIN takes a
//! sequence number), the wrong flags, CLOSE_WAIT for TIME_WAIT, 0 for ECONNRESET, an RFC's
//! timeout for Linux's. The answer's reason is the step's own narration sentence.

use sockscope_engine::replay::result_text;
use sockscope_engine::scenario::{Generated, Moment, Predict};
use sockscope_engine::state::State;
use sockscope_engine::trace::{Fate, Phase, TimerAction, TimerKind};
use sockscope_engine::{EventKind, Trace};

use crate::model::Loaded;
use sockscope_engine::format::Numbering;

/// A question about the event `event`, asked with the page resting at `ask_at` (the step
/// before it) and answered by showing `reveal_at` (the step that holds it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub event: usize,
    pub ask_at: usize,
    pub reveal_at: usize,
    pub prompt: String,
    pub choices: Vec<String>,
    /// The index of the right choice in `choices`.
    pub answer: usize,
    /// Why: the author's reason, or the step's narration.
    pub why: String,
    pub author: Author,
}

/// Who wrote a question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Author {
    /// The scenario's author, in its `predict` field.
    Scenario,
    /// The page, from the run.
    Page,
}

/// The questions of a run, in the order of the run, and a sentence for each of the author's
/// questions whose moment this run does not have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Questions {
    pub asked: Vec<Question>,
    pub unplaced: Vec<String>,
}

/// The questions of a loaded run: the author's (`own`) and the page's.
pub fn questions(loaded: &Loaded, own: &Predict) -> Questions {
    let steps = &loaded.timing.steps;
    let mut asked = Vec::new();
    let mut unplaced = Vec::new();
    let numbered = loaded.numbered(Numbering::Relative);
    for (number, question) in own.questions.iter().enumerate() {
        let Some(event) = place(&loaded.trace, &question.before) else {
            unplaced.push(format!("question {} ({})", number + 1, describe(&question.before)));
            continue;
        };
        let (ask_at, reveal_at) = (steps.before(event + 1), steps.after(event));
        let why = if question.why.is_empty() { narration(numbered, ask_at, reveal_at) } else { question.why.clone() };
        asked.push(Question {
            event,
            ask_at,
            reveal_at,
            prompt: question.prompt.clone(),
            choices: question.choices.clone(),
            answer: question.answer as usize,
            why,
            author: Author::Scenario,
        });
    }
    if own.generated == Generated::Ask {
        let taken: Vec<usize> = asked.iter().map(|question| question.ask_at).collect();
        asked.extend(generated(loaded).into_iter().filter(|question| !taken.contains(&question.ask_at)));
    }
    // In the order of the run; the author's first where two share a step.
    asked.sort_by_key(|question| (question.ask_at, question.author == Author::Page, question.event));
    Questions { asked, unplaced }
}

/// The event a moment of the author's names, if the run has it.
fn place(trace: &Trace, moment: &Moment) -> Option<usize> {
    let nth = moment.nth.unwrap_or(1) as usize;
    let events = trace.events.iter().enumerate();
    if let Some(segment) = moment.segment {
        return events
            .filter(|(_, event)| matches!(&event.kind, EventKind::Segment(s) if s.fate == Fate::Sent))
            .nth(segment as usize - 1)
            .map(|(index, _)| index);
    }
    if let Some(state) = &moment.state {
        return events
            .filter(|(_, event)| match &event.kind {
                EventKind::State { host, to, .. } => {
                    to.name() == state && moment.host.as_ref().is_none_or(|wanted| wanted == host)
                }
                _ => false,
            })
            .nth(nth - 1)
            .map(|(index, _)| index);
    }
    if let Some(call) = &moment.call {
        return events
            .filter(|(_, event)| match &event.kind {
                EventKind::Syscall { call: name, process, phase: Phase::Return, .. } => {
                    name == call && moment.process.as_ref().is_none_or(|wanted| wanted == process)
                }
                _ => false,
            })
            .nth(nth - 1)
            .map(|(index, _)| index);
    }
    let after = (moment.time_ms? * 1000.0) as u64;
    let index = trace.events.partition_point(|event| event.t_us <= after);
    (index < trace.events.len()).then_some(index)
}

/// A moment as a reader of the scenario would name it.
fn describe(moment: &Moment) -> String {
    let nth = moment.nth.map_or_else(String::new, |nth| format!(" number {nth}"));
    if let Some(segment) = moment.segment {
        format!("segment {segment}")
    } else if let Some(state) = &moment.state {
        let host = moment.host.as_ref().map_or_else(String::new, |host| format!(" on {host}"));
        format!("{state}{host}{nth}")
    } else if let Some(call) = &moment.call {
        let process = moment.process.as_ref().map_or_else(String::new, |process| format!(" in {process}"));
        format!("{call}(){process}{nth}")
    } else {
        format!("after {} ms", moment.time_ms.unwrap_or_default())
    }
}

/// The first sentence of narration in the step from `start` to `end`.
fn narration(numbered: &crate::model::Numbered, start: usize, end: usize) -> String {
    numbered
        .story
        .iter()
        .filter(|(index, _)| (start..end).contains(index))
        .map(|(_, text)| text.as_str())
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The page's own questions about a loaded run, in order.
fn generated(loaded: &Loaded) -> Vec<Question> {
    let trace = &loaded.trace;
    let numbered = loaded.numbered(Numbering::Relative);
    let stops = loaded.timing.steps.stops();
    let label_of = |event: usize| {
        let arrow = loaded.diagram.arrows.iter().position(|arrow| arrow.sent == event)?;
        numbered.labels.get(arrow).cloned()
    };
    let hosts = super::hosts_of(trace);
    let mut out = Vec::new();
    for window in stops.windows(2) {
        let (start, end) = (window[0], window[1]);
        let events = || (start..end).filter_map(|index| trace.events.get(index).map(|event| (index, &event.kind)));
        let segment = events().find_map(|(index, kind)| match kind {
            EventKind::Segment(segment) if segment.fate == Fate::Sent => {
                let (from, to) = (super::host_name(&hosts, segment.from), super::host_name(&hosts, segment.to));
                let label = label_of(index)?;
                let prompt = format!("{from} sends a segment to {to}. Which one?");
                Some((index, prompt, label.clone(), segment_mistakes(&label)))
            }
            _ => None,
        });
        let state = || {
            events().find_map(|(index, kind)| match kind {
                EventKind::State { host, socket, from, to, .. } => Some((
                    index,
                    format!("Socket #{} on {host} leaves {from}. Which state does it enter?", socket.0),
                    to.to_string(),
                    state_mistakes(*to),
                )),
                _ => None,
            })
        };
        let call = || {
            events().find_map(|(index, kind)| match kind {
                EventKind::Syscall { process, call, args, phase: Phase::Return, result, errno, pid, .. }
                    if worth_asking(trace, index, *pid, call, errno.is_some()) =>
                {
                    Some((
                        index,
                        format!("{process}: what does {call}({args}) return?"),
                        result_text(*result, *errno),
                        call_mistakes(call),
                    ))
                }
                _ => None,
            })
        };
        // A timer that expires before the step sends anything is what the step is about.
        let timer = events().find_map(|(index, kind)| match kind {
            EventKind::Timer { action: TimerAction::Fired, .. } => timer_question(trace, index),
            _ => None,
        });
        let timer = timer.filter(|(fired, ..)| segment.as_ref().is_none_or(|(sent, ..)| fired < sent));
        let Some((event, prompt, right, mistakes)) = timer.or(segment).or_else(state).or_else(call) else { continue };
        let why = narration(numbered, start, end);
        let (choices, answer) = arrange(&right, mistakes, event);
        out.push(Question { event, ask_at: start, reveal_at: end, prompt, choices, answer, why, author: Author::Page });
    }
    out
}

/// A question about the timer that fires at event `fired`: how long after it was armed.
fn timer_question(trace: &Trace, fired: usize) -> Option<(usize, String, String, Vec<String>)> {
    let EventKind::Timer { host, socket, timer, deadline_us, .. } = &trace.events[fired].kind else { return None };
    let armed = trace.events[..fired].iter().rev().find_map(|event| match &event.kind {
        EventKind::Timer { host: h, socket: s, timer: t, action: TimerAction::Armed, deadline_us: d }
            if h == host && s == socket && t == timer && d == deadline_us =>
        {
            Some(event.t_us)
        }
        _ => None,
    })?;
    let waited = deadline_us.saturating_sub(armed);
    let prompt = format!(
        "{host} armed the {} timer of socket #{} at {}. How long after that does it expire?",
        timer.label(),
        socket.0,
        crate::view::sequence::clock(armed as f64)
    );
    Some((fired, prompt, after(waited), timer_mistakes(*timer, waited)))
}

/// "After 1.024 s", "After 40 ms".
fn after(us: u64) -> String {
    if us >= 1_000_000 {
        let seconds = format!("{:.3}", us as f64 / 1e6);
        format!("After {} s", seconds.trim_end_matches('0').trim_end_matches('.'))
    } else {
        let millis = format!("{:.3}", us as f64 / 1e3);
        format!("After {} ms", millis.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// The waits a reader may expect instead of `waited`: the RFCs' numbers where Linux has its
/// own, and a backoff forgotten or doubled.
fn timer_mistakes(timer: TimerKind, waited: u64) -> Vec<String> {
    const S: u64 = 1_000_000;
    const MS: u64 = 1_000;
    let wrong: Vec<u64> = match timer {
        // RFC 1122's old initial RTO, the 200 ms minimum, and a backoff forgotten or doubled.
        TimerKind::Retransmit | TimerKind::Persist | TimerKind::LossProbe => {
            vec![3 * S, 200 * MS, waited / 2, waited * 2]
        }
        // RFC 1122 allows up to 500 ms; BSD used 200 ms.
        TimerKind::DelayedAck => vec![200 * MS, 500 * MS, 0],
        // 2 × an MSL of 2 minutes (RFC 793), or of 1 minute.
        TimerKind::TimeWait | TimerKind::FinWait2 => vec![240 * S, 120 * S, 30 * S],
        // RFC 1122's two hours is Linux's too; 75 s is the probe interval.
        TimerKind::Keepalive => vec![75 * S, 60 * S, 600 * S],
        TimerKind::Linger => vec![0, waited * 2, 60 * S],
    };
    wrong
        .into_iter()
        .filter(|&us| us != waited)
        .map(|us| if us == 0 { "At once".to_string() } else { after(us) })
        .collect()
}

/// Whether a call's result is worth a question: it failed, it had blocked (what woke it is
/// the lesson), or it hands back a count or a descriptor. A socket(), bind() or listen() that
/// returns at once is not.
fn worth_asking(
    trace: &sockscope_engine::Trace,
    returned: usize,
    pid: sockscope_engine::trace::Pid,
    call: &str,
    failed: bool,
) -> bool {
    if failed || matches!(call, "accept" | "recv" | "recvfrom") {
        return true;
    }
    // Back to this call's entry: a block on the way means it waited.
    for event in trace.events[..returned].iter().rev() {
        if let EventKind::Syscall { pid: other, phase, .. } = &event.kind {
            if *other == pid {
                match phase {
                    Phase::Block => return true,
                    Phase::Enter => return false,
                    Phase::Return => {}
                }
            }
        }
    }
    false
}

/// The right answer among up to three mistakes, in an order that depends on the event, so
/// that the right one is not always in the same place.
fn arrange(right: &str, mistakes: Vec<String>, event: usize) -> (Vec<String>, usize) {
    let mut choices = vec![right.to_string()];
    for mistake in mistakes {
        if choices.len() < 4 && !choices.contains(&mistake) {
            choices.push(mistake);
        }
    }
    let turn = event % choices.len();
    choices.rotate_left(turn);
    let answer = (choices.len() - turn) % choices.len();
    (choices, answer)
}

/// Wrong versions of a segment's label (`S. seq 0 ack 1`, `. ack 2`, `P. seq 1:101 ack 1`).
fn segment_mistakes(label: &str) -> Vec<String> {
    let mut words: Vec<String> = label.split(' ').map(str::to_string).collect();
    let mut out = Vec::new();
    let number_after =
        |words: &[String], key: &str| words.iter().position(|word| word == key).filter(|&at| at + 1 < words.len());
    // Acknowledging the last byte (or the ISN) instead of the next one expected.
    if let Some(at) = number_after(&words, "ack") {
        if let Ok(ack) = words[at + 1].parse::<u64>() {
            let mut wrong = words.clone();
            wrong[at + 1] = ack.saturating_sub(1).to_string();
            out.push(wrong.join(" "));
        }
    }
    // The flags a confused reader expects.
    let flags = words.first().cloned().unwrap_or_default();
    let swaps: &[&str] = match flags.as_str() {
        "S" => &["S.", "."],
        "S." => &["S", "."],
        "." => &["F.", "S."],
        "F." => &["R.", "."],
        "FP." => &["P.", "R."],
        "P." => &[".", "FP."],
        "R" | "R." => &["F.", "."],
        _ => &["."],
    };
    for swap in swaps {
        words[0] = swap.to_string();
        out.push(words.join(" "));
    }
    out
}

/// The states a reader confuses with `right`.
fn state_mistakes(right: State) -> Vec<String> {
    let wrong: &[State] = match right {
        State::Established => &[State::SynRecv, State::SynSent, State::CloseWait],
        State::SynSent => &[State::SynRecv, State::Established, State::Listen],
        State::SynRecv => &[State::Established, State::SynSent, State::Listen],
        State::FinWait1 => &[State::FinWait2, State::CloseWait, State::Closing],
        State::FinWait2 => &[State::TimeWait, State::CloseWait, State::FinWait1],
        State::CloseWait => &[State::TimeWait, State::FinWait2, State::LastAck],
        State::LastAck => &[State::TimeWait, State::CloseWait, State::Closed],
        State::TimeWait => &[State::CloseWait, State::Closed, State::FinWait2],
        State::Closing => &[State::TimeWait, State::FinWait2, State::LastAck],
        State::Closed => &[State::TimeWait, State::LastAck, State::Listen],
        State::Listen => &[State::SynRecv, State::Established, State::Closed],
    };
    wrong.iter().map(ToString::to_string).collect()
}

/// Results a reader may expect from `call` instead of the real one.
fn call_mistakes(call: &str) -> Vec<String> {
    let wrong: &[&str] = match call {
        "connect" => &["0", "-1 ECONNREFUSED", "-1 ETIMEDOUT", "-1 EINPROGRESS"],
        "accept" => &["3", "4", "5", "-1 EAGAIN"],
        "recv" | "recvfrom" => &["0", "-1 ECONNRESET", "-1 EAGAIN", "100"],
        "send" | "sendto" => &["0", "-1 EPIPE", "-1 EAGAIN", "100"],
        "socket" | "dup" => &["3", "4", "-1 EMFILE"],
        _ => &["0", "-1 EINVAL", "-1 EADDRINUSE", "-1 EBADF"],
    };
    wrong.iter().map(|text| text.to_string()).collect()
}

/// The score so far: answers given and how many were right.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Score {
    pub asked: usize,
    pub right: usize,
}

impl Score {
    pub fn text(&self) -> String {
        format!("Score: {} of {} right", self.right, self.asked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockscope_engine::builtin;

    fn handshake() -> Loaded {
        let text = builtin::source("three-way-handshake").expect("built in").to_string();
        crate::model::load_builtin("three-way-handshake", text).expect("loads")
    }

    fn builtin(name: &str) -> Loaded {
        let text = builtin::source(name).expect("built in").to_string();
        crate::model::load_builtin(name, text).expect("loads")
    }

    fn own(loaded: &Loaded) -> Predict {
        sockscope_engine::parse_scenario(&loaded.text).expect("parses").predict
    }

    #[test]
    fn the_handshake_asks_about_its_segments_states_and_calls() {
        let loaded = handshake();
        let questions = questions(&loaded, &Predict::default()).asked;
        assert!(questions.len() >= 10, "{}", questions.len());
        for question in &questions {
            assert!(question.ask_at <= question.event && question.event < question.reveal_at, "{question:?}");
            assert!(question.choices.len() >= 3, "{question:?}");
            let right = &question.choices[question.answer];
            assert_eq!(question.choices.iter().filter(|choice| *choice == right).count(), 1);
            assert!(!question.why.is_empty(), "{question:?}");
        }
        // The SYN+ACK: its right label, and the ACK of the ISN among the wrong ones.
        let syn_ack = questions.iter().find(|q| q.choices[q.answer].starts_with("S. ")).expect("a SYN+ACK question");
        assert_eq!(syn_ack.prompt, "server sends a segment to client. Which one?");
        let right = &syn_ack.choices[syn_ack.answer];
        let ack: u64 = right.rsplit(' ').next().and_then(|ack| ack.parse().ok()).expect("an ack");
        assert!(syn_ack.choices.iter().any(|choice| choice.ends_with(&format!("ack {}", ack - 1))), "{syn_ack:?}");
        // A state question offers the usual confusions.
        let state = questions.iter().find(|q| q.prompt.contains("Which state")).expect("a state question");
        assert!(state.choices.len() == 4, "{state:?}");
        // A call's question.
        assert!(questions.iter().any(|q| q.prompt.contains("what does") && q.prompt.contains("return?")));
    }

    #[test]
    fn the_right_choice_moves_about() {
        let answers: std::collections::BTreeSet<usize> =
            questions(&handshake(), &Predict::default()).asked.iter().map(|q| q.answer).collect();
        assert!(answers.len() >= 3, "{answers:?}");
        let (choices, answer) = arrange("right", vec!["a".into(), "b".into(), "right".into(), "c".into()], 5);
        assert_eq!(choices.len(), 4);
        assert_eq!(choices[answer], "right");
    }

    #[test]
    fn the_authors_questions_are_asked_at_their_moments_in_place_of_the_pages() {
        let close = builtin("four-way-close");
        let own = own(&close);
        assert_eq!(own.questions.len(), 2, "four-way-close carries two questions of its author's");
        let Questions { asked, unplaced } = questions(&close, &own);
        assert!(unplaced.is_empty(), "{unplaced:?}");
        let authors: Vec<&Question> = asked.iter().filter(|q| q.author == Author::Scenario).collect();
        assert_eq!(authors.len(), 2);
        for (question, written) in authors.iter().zip(&own.questions) {
            assert_eq!(question.prompt, written.prompt);
            assert_eq!(question.choices, written.choices);
            assert_eq!(question.why, written.why);
            assert!(question.ask_at <= question.event && question.event < question.reveal_at, "{question:?}");
        }
        // The first is about the server's recv() returning; the second about TIME_WAIT ending.
        let trace = &close.trace;
        assert!(matches!(&trace.events[authors[0].event].kind,
            EventKind::Syscall { call, process, phase: Phase::Return, .. } if call == "recv" && process == "server"));
        assert!(matches!(&trace.events[authors[1].event].kind,
            EventKind::State { host, to: State::Closed, .. } if host == "client"));
        // No question of the page's shares a step with one of the author's.
        for question in &asked {
            if question.author == Author::Page {
                assert!(authors.iter().all(|own| own.ask_at != question.ask_at), "{question:?}");
            }
        }
        // In the order of the run.
        assert!(asked.windows(2).all(|pair| pair[0].ask_at <= pair[1].ask_at));
        // Only the author's, when the author says so.
        let only = Predict { generated: Generated::Skip, ..own.clone() };
        assert_eq!(questions(&close, &only).asked.len(), 2);
    }

    #[test]
    fn a_moment_the_run_does_not_have_is_named_not_asked() {
        let close = builtin("four-way-close");
        let moments = [
            (Moment { segment: Some(500), ..Moment::default() }, "segment 500"),
            (
                Moment { state: Some("SYN_SENT".into()), host: Some("server".into()), ..Moment::default() },
                "SYN_SENT on server",
            ),
            (Moment { call: Some("accept".into()), nth: Some(2), ..Moment::default() }, "accept() number 2"),
            (Moment { time_ms: Some(1e9), ..Moment::default() }, "after 1000000000 ms"),
        ];
        for (before, named) in moments {
            let question = sockscope_engine::scenario::Question {
                before,
                prompt: "?".into(),
                choices: vec!["a".into(), "b".into()],
                answer: 0,
                why: String::new(),
            };
            let own = Predict { questions: vec![question], generated: Generated::Skip };
            let Questions { asked, unplaced } = questions(&close, &own);
            assert!(asked.is_empty());
            assert_eq!(unplaced, [format!("question 1 ({named})")]);
        }
        // A moment by time: the first event after it, asked before its step.
        let at = Moment { time_ms: Some(1_215.0), ..Moment::default() };
        let question = sockscope_engine::scenario::Question {
            before: at,
            prompt: "?".into(),
            choices: vec!["a".into(), "b".into()],
            answer: 1,
            why: String::new(),
        };
        let asked = questions(&close, &Predict { questions: vec![question], generated: Generated::Skip }).asked;
        assert_eq!(asked.len(), 1);
        assert!(close.trace.events[asked[0].event].t_us > 1_215_000);
        assert!(close.trace.events[asked[0].event - 1].t_us <= 1_215_000);
        assert!(!asked[0].why.is_empty(), "an empty why is the step's narration");
    }

    #[test]
    fn a_timer_is_asked_about_by_how_long_it_waits() {
        let timeout = builtin("connect-timeout");
        let asked = questions(&timeout, &Predict::default()).asked;
        let timers: Vec<&Question> = asked.iter().filter(|q| q.prompt.contains("timer")).collect();
        assert!(!timers.is_empty(), "{asked:#?}");
        let first = timers[0];
        assert!(first.prompt.contains("retransmission timer"), "{first:?}");
        assert_eq!(first.choices[first.answer], "After 1 s", "{first:?}");
        assert!(first.choices.contains(&"After 3 s".to_string()), "RFC 1122's old initial RTO is offered");
        // The backoff doubles the wait: a later question's right answer is longer.
        let later = timers.iter().find(|q| q.choices[q.answer] == "After 2 s");
        assert!(later.is_some(), "{timers:#?}");
        let close = builtin("four-way-close");
        let time_wait = timer_question(
            &close.trace,
            close
                .trace
                .events
                .iter()
                .position(|e| {
                    matches!(&e.kind, EventKind::Timer { timer: TimerKind::TimeWait, action: TimerAction::Fired, .. })
                })
                .expect("fires"),
        );
        let (_, _, right, wrong) = time_wait.expect("a TIME_WAIT question");
        assert_eq!(right, "After 60 s");
        assert_eq!(wrong, ["After 240 s", "After 120 s", "After 30 s"]);
    }
}
