//! Deadlock detection: every living process blocked, and nothing left that could change
//! what they wait for (only window or keepalive probes that a live peer answers with the
//! same closed window).

use crate::socket::Socket;
use crate::tcp;
use crate::trace::{EventKind, TimerKind};
use crate::world::process::Status;
use crate::world::World;

impl World {
    /// True when every living process is blocked and nothing but window or keepalive
    /// probes can still happen: no segment in flight, no wake-up, no retransmission or
    /// delayed ACK pending. Probes are answered with the same closed window, so nobody
    /// will ever be woken (Sockets-in-C 7.5).
    pub(super) fn deadlocked(&self) -> bool {
        if self.queue.has_non_timer() {
            return false;
        }
        let mut blocked = false;
        for process in self.processes.iter() {
            match process.status {
                Status::Exited => {}
                Status::Blocked => blocked = true,
                // A waiting process can still act: its next call may free the others.
                Status::Ready | Status::Sleeping | Status::Waiting => return false,
            }
        }
        blocked
            && self.sockets.iter().filter(|socket| !socket.freed).all(|socket| {
                TimerKind::ALL.iter().filter(|kind| kind.moves_a_connection()).all(|&kind| socket.timer(kind).is_none())
                    && (TimerKind::ALL.iter().filter(|kind| kind.only_probes()).all(|&kind| socket.timer(kind).is_none())
                        || self.peer_answers_probes(socket))
                    // A probe is answered with the receiver's real window: if that window is
                    // open (a window update was lost), the probe will unstick the sender.
                    && (socket.timer(TimerKind::Persist).is_none() || self.peer_window(socket) == Some(0))
            })
    }

    /// The window the peer of a connected socket would advertise now, if it still exists.
    pub(super) fn peer_window(&self, socket: &Socket) -> Option<u32> {
        let (local, peer) = (socket.local?, socket.peer?);
        let host = self.fabric.host_of(peer.ip)?;
        let &other = self.hosts[host].conns.get(&(peer, local))?;
        Some(tcp::compute_window(&self.sockets[other]))
    }

    /// Whether a probe from `socket` would be answered by a live peer that still has the
    /// connection. A probe to a crashed or rebooted host goes unanswered (or draws an RST)
    /// and ends the connection (`tcp_keepalive_timer()` and `tcp_probe_timer()` give up
    /// with ETIMEDOUT), so such a probe can still change what the processes see.
    pub(super) fn peer_answers_probes(&self, socket: &Socket) -> bool {
        let (Some(local), Some(peer)) = (socket.local, socket.peer) else { return false };
        let Some(host) = self.fabric.host_of(peer.ip) else { return false };
        !self.fabric.is_down(host) && self.hosts[host].conns.contains_key(&(peer, local))
    }

    pub(super) fn declare_deadlock(&mut self) {
        let stuck: Vec<String> = self
            .processes
            .iter()
            .filter(|process| process.status == Status::Blocked)
            .map(|process| {
                let call = process.steps.get(process.pc).map_or("?", |step| step.call.name());
                let reason = process.call.as_ref().and_then(|call| call.reason.clone()).unwrap_or_default();
                format!("{} in {call}() ({reason})", process.name)
            })
            .collect();
        let text = format!(
            "Deadlock: {}. Each waits for the other to read, nobody reads, and the only segments left \
             are window probes answered with a zero window, so they will wait forever.",
            stuck.join("; ")
        );
        self.emit(EventKind::Note { pid: None, text });
        self.deadlock = Some(format!("deadlock: {} blocked forever", stuck.len()));
    }
}
