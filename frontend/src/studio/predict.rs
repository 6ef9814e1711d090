//! Predict mode's questions: before a step that matters, the page asks what will happen.
//!
//! One question per step, about the step's most telling event: a segment being sent (its
//! flags and numbers, as the diagram labels it), else a TCP state change (the state entered),
//! else a call returning (its result or errno) when that result teaches something: it failed,
//! it had blocked, or it is a count or a descriptor. The wrong choices are the mistakes students
//! make: an ACK of the ISN instead of ISN + 1 (forgetting that a SYN or FIN takes a sequence
//! number), the wrong flags, CLOSE_WAIT for TIME_WAIT, 0 for ECONNRESET. The answer's reason
//! is the step's own narration sentence. Timer expiries are not asked about: the step that
//! follows one is asked about instead.

use sockscope_engine::replay::result_text;
use sockscope_engine::state::State;
use sockscope_engine::trace::{Fate, Phase};
use sockscope_engine::EventKind;

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
    /// Why: the step's narration.
    pub why: String,
}

/// The questions of a loaded run, in order.
pub fn questions(loaded: &Loaded) -> Vec<Question> {
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
        let Some((event, prompt, right, mistakes)) = segment.or_else(state).or_else(call) else { continue };
        let why = numbered
            .story
            .iter()
            .filter(|(index, _)| (start..end).contains(index))
            .map(|(_, text)| text.as_str())
            .next()
            .unwrap_or_default()
            .to_string();
        let (choices, answer) = arrange(&right, mistakes, event);
        out.push(Question { event, ask_at: start, reveal_at: end, prompt, choices, answer, why });
    }
    out
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

    #[test]
    fn the_handshake_asks_about_its_segments_states_and_calls() {
        let loaded = handshake();
        let questions = questions(&loaded);
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
        let answers: std::collections::BTreeSet<usize> = questions(&handshake()).iter().map(|q| q.answer).collect();
        assert!(answers.len() >= 3, "{answers:?}");
        let (choices, answer) = arrange("right", vec!["a".into(), "b".into(), "right".into(), "c".into()], 5);
        assert_eq!(choices.len(), 4);
        assert_eq!(choices[answer], "right");
    }
}
