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
pub mod packetdrill;
pub mod replay;
pub mod scenario;
pub mod state;
pub mod trace;
pub mod validation;
pub mod vecmap;

mod ids;
mod outcome;
mod rng;
mod run_result;
mod socket;
mod tcp;
mod time;
mod trace_sink;
mod wire;
mod world;

pub use addr::{Ipv4, SockAddr};
pub use errno::Errno;
pub use run_result::{Run, RunError, Stream};
pub use scenario::{parse as parse_scenario, Scenario, ScenarioError};
pub use state::State;
pub use trace::{Event, EventKind, Trace};

/// The MTU of Linux's `lo`, the path between two sockets of one host. The loopback validator
/// gives every link of its profile this MTU.
pub use wire::LOOPBACK_MTU;

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
