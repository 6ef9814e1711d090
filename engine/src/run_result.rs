//! What a run gives back: its trace, the expectations that failed and each connection's
//! bytes, or why it stopped early.

use std::fmt;

use crate::addr::SockAddr;
use crate::trace::{SocketId, Trace};

/// Why a run did not finish normally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// The run produced more trace events than `limits.max_events` allows; `partial` holds
    /// what happened up to that point so a view can still show it.
    EventLimit { limit: usize, t_us: u64, partial: Box<Trace> },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The time is written with integer arithmetic, as seconds and six digits of
            // microseconds, so that the page links no float formatting. It is the text
            // `{:.6}` gave for `t_us as f64 / 1e6` wherever that float rounds back to the same
            // microsecond, i.e. for any simulated time below about 8.6e9 seconds.
            RunError::EventLimit { limit, t_us, .. } => write!(
                f,
                "the scenario was stopped after {limit} events (at {}.{:06} s of simulated time); \
                 raise limits.max_events if it really needs more",
                t_us / 1_000_000,
                t_us % 1_000_000
            ),
        }
    }
}

impl std::error::Error for RunError {}

/// The result of a run: its trace plus any step expectations that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub trace: Trace,
    /// One sentence per step whose `expect` did not hold.
    pub failed_expectations: Vec<String>,
    /// What the application on each end of each TCP connection wrote and read.
    pub streams: Vec<Stream>,
}

/// The bytes one TCP socket's application wrote and read over the whole run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    pub socket: SocketId,
    pub local: SockAddr,
    pub peer: SockAddr,
    pub written: Vec<u8>,
    pub read: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The event-limit message writes its time with integers; it is the text `{:.6}` gave for
    /// the time as a float of seconds, over simulated times from zero to about 250 years.
    #[test]
    fn event_limit_time_is_the_old_six_decimal_text() {
        let partial =
            Box::new(Trace { scenario: String::new(), title: String::new(), source: String::new(), events: vec![] });
        for t_us in [0, 1, 9, 999_999, 1_000_000, 1_000_001, 60_040_000, 123_456_789_012, 7_999_999_999_999_999] {
            let error = RunError::EventLimit { limit: 7, t_us, partial: partial.clone() };
            let old = format!(
                "the scenario was stopped after 7 events (at {:.6} s of simulated time); \
                 raise limits.max_events if it really needs more",
                t_us as f64 / 1e6
            );
            assert_eq!(error.to_string(), old, "t_us = {t_us}");
        }
    }
}
