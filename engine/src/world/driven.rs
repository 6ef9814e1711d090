//! A world driven from outside, one moment at a time: how a packetdrill script runs. The
//! script's peer is a host whose TCP the world leaves out (segments to it are traced as
//! delivered and go no further), whose segments the driver puts on the wire itself (`World::transmit`), and the
//! script's system calls are steps handed to a waiting process when their time comes.

use crate::ids::HostId;
use crate::scenario::Step;
use crate::trace::Pid;
use crate::world::process::Status;
use crate::world::World;

impl World {
    /// Segments to `host` are traced as delivered and handed to no socket: the driver plays
    /// that host.
    pub(crate) fn play_host(&mut self, host: HostId) {
        self.absorb = Some(host);
    }

    /// The host called `name`.
    pub(crate) fn host_named(&self, name: &str) -> Option<HostId> {
        self.hosts.find(|host| host.name == name)
    }

    /// The time of the next pending event, if there is one.
    pub(crate) fn next_due(&self) -> Option<u64> {
        self.queue.next_time()
    }

    /// Lets every runnable process run, handles every pending event due at or before `t_us`,
    /// and sets the clock to `t_us`. Whether the run could go on is the driver's to decide:
    /// a quiet network is not an end while the script has lines left.
    pub(crate) fn run_to(&mut self, t_us: u64) {
        self.run_ready();
        let _ = self.advance(t_us);
        self.now = self.now.max(t_us);
        self.run_ready();
    }

    /// Gives process `pid` one more step to run (it waits for it, [`crate::scenario::AtEnd::Wait`]).
    pub(crate) fn give_step(&mut self, pid: Pid, step: Step) {
        let process = &mut self.processes[pid];
        let mut steps = process.steps.to_vec();
        steps.push(step);
        process.steps = steps.into();
        if process.status == Status::Waiting {
            process.status = Status::Ready;
            self.ready.insert(pid);
        }
    }
}
