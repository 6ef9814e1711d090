//! sockscope-engine: a deterministic simulation of TCP socket lifecycles that behaves as
//! Linux does, for teaching.
//!
//! The engine does no I/O and reads no clock or entropy of its own: a [`Scenario`] (hosts,
//! links, programs, a seed) goes in, a [`Trace`] of events comes out, the same bytes every
//! time. Views ([`format`], [`replay`], the browser frontend and the loopback validator)
//! read only the trace.
#![forbid(unsafe_code)]

pub mod addr;
pub mod builtin;
pub mod errno;
pub mod format;
pub mod replay;
pub mod scenario;
pub mod state;
pub mod trace;
pub mod validation;
pub mod vecmap;

mod ids;
mod outcome;
mod rng;
mod socket;
mod tcp;
mod time;
mod trace_sink;
mod wire;
mod world;

use std::fmt;

pub use addr::{Ipv4, SockAddr};
pub use errno::Errno;
pub use scenario::{parse as parse_scenario, Scenario, ScenarioError};
pub use state::State;
pub use trace::{Event, EventKind, Trace};

/// The MTU of Linux's `lo`, the path between two sockets of one host. The loopback validator
/// gives every link of its profile this MTU.
pub use wire::LOOPBACK_MTU;

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
    pub socket: trace::SocketId,
    pub local: SockAddr,
    pub peer: SockAddr,
    pub written: Vec<u8>,
    pub read: Vec<u8>,
}

/// Runs a scenario to its end. Deterministic: the same scenario gives the same trace.
pub fn run(scenario: &Scenario) -> Result<Run, RunError> {
    let world = world::World::new(scenario);
    world.run(scenario)
}

/// Support for the benchmarks: not part of the stable interface.
#[doc(hidden)]
pub mod bench_support {
    use crate::world::World;
    use crate::Scenario;

    /// A world paused at some simulated time, with its trace so far thrown away, so that
    /// what it still holds in memory is the simulated kernels' state.
    pub struct PausedWorld {
        world: World,
    }

    impl PausedWorld {
        /// Runs `scenario` until `until_us`, then drops the trace events recorded so far.
        pub fn run_until(scenario: &Scenario, until_us: u64) -> PausedWorld {
            let mut world = World::new(scenario);
            world.start();
            let _ = world.advance(until_us);
            world.trace.events = Vec::new();
            PausedWorld { world }
        }

        /// TCP sockets alive in the world (not yet freed).
        pub fn live_sockets(&self) -> usize {
            self.world.sockets.iter().filter(|socket| !socket.freed).count()
        }
    }
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
