//! The run loop: the clock, the trace, and what each pending event does when it comes up
//! (a delivery, a drop, a timer, a wake-up, a crash or a reboot). Linux handles every packet
//! of a burst before the scheduler runs anyone, and so does the loop.

use crate::ids::HostId;
use crate::tcp;
use crate::tcp::timers::timer_event;
use crate::trace::{EventKind, Pid, ProcessAction, Proto, SocketId, TimerAction, TimerKind};
use crate::wire::Wire;
use crate::world::fabric::Route;
use crate::world::fault_rule::{Copies, Hop, Verdict};
use crate::world::process::Status;
use crate::world::queue::Pending;
use crate::world::World;

/// Why [`World::advance`] stopped for good.
pub(crate) enum Stop {
    Finished(String),
    EventLimit,
}

impl World {
    /// Handles every pending event up to `until_us` (inclusive), letting processes run after
    /// each. Returns why the run is over, or None if it can go on past `until_us`.
    pub(crate) fn advance(&mut self, until_us: u64) -> Option<Stop> {
        loop {
            if self.trace.overflow {
                return Some(Stop::EventLimit);
            }
            if let Some(reason) = self.deadlock.take() {
                return Some(Stop::Finished(reason));
            }
            let Some(time) = self.queue.next_time() else {
                let names = |status: Status| -> Vec<String> {
                    self.processes
                        .iter()
                        .filter(|process| process.status == status)
                        .map(|process| process.name.clone())
                        .collect()
                };
                let (blocked, waiting) = (names(Status::Blocked), names(Status::Waiting));
                return Some(Stop::Finished(if !waiting.is_empty() {
                    let blocked = if blocked.is_empty() {
                        String::new()
                    } else {
                        format!("; {} still blocked", blocked.join(", "))
                    };
                    format!("the network is quiet: {} waiting for a next call{blocked}", waiting.join(", "))
                } else if blocked.is_empty() {
                    "every process has finished and the network is quiet".to_string()
                } else {
                    format!("nothing more can happen: {} still blocked forever", blocked.join(", "))
                }));
            };
            if time > self.max_time_us {
                return Some(Stop::Finished(format!(
                    "stopped at the time limit of {} s",
                    self.max_time_us / 1_000_000
                )));
            }
            if time > until_us {
                return None;
            }
            let Some((_, pending)) = self.queue.pop() else { continue };
            self.now = time;
            match pending {
                Some(Pending::Deliver(wire)) => {
                    if self.absorb.is_some() && self.fabric.host_of(wire.to.ip) == self.absorb {
                        self.emit_segment(&wire, crate::trace::Fate::Delivered, None);
                    } else {
                        self.deliver(wire);
                    }
                }
                Some(Pending::Crash(host)) => self.crash(host),
                Some(Pending::Reboot(host)) => {
                    self.fabric.set_down(host, false);
                    let name = self.hosts[host].name.clone();
                    self.emit(EventKind::Note {
                        pid: None,
                        text: format!(
                            "{name} boots again with empty connection tables: segments of its old connections will draw RST"
                        ),
                    });
                }
                Some(Pending::Drop(wire, reason)) => {
                    self.emit_segment(&wire, crate::trace::Fate::Dropped, Some(reason))
                }
                Some(Pending::Timer { socket, kind, deadline }) => self.timer_fired(socket, kind, deadline),
                Some(Pending::Wake { pid, token }) => {
                    let process = &self.processes[pid];
                    if process.wake_token == token && process.status != Status::Exited {
                        self.ready.insert(pid);
                    }
                }
                None => {}
            }
            // Linux handles every packet of a burst in one softirq before the scheduler runs
            // the processes they woke (net_rx_action()), so processes run only once nothing
            // else is due at this instant.
            let burst_continues = self.queue.next_time() == Some(time);
            if !burst_continues {
                self.run_ready();
            }
        }
    }

    // ----- trace -----
    pub fn emit(&mut self, kind: EventKind) {
        self.trace.emit(self.now, kind);
    }

    pub(super) fn timer_fired(&mut self, id: SocketId, kind: TimerKind, deadline: u64) {
        let socket = &mut self.sockets[id];
        // A timer that was cancelled or re-armed since leaves a stale queue entry behind.
        if socket.freed || socket.timers[kind.slot()] != Some(deadline) {
            return;
        }
        // The deadlock check runs while this timer still counts as armed.
        if kind.only_probes() && self.peer_answers_probes(&self.sockets[id]) && self.deadlocked() {
            self.sockets[id].timers[kind.slot()] = None;
            self.declare_deadlock();
            return;
        }
        let socket = &mut self.sockets[id];
        socket.timers[kind.slot()] = None;
        let event = timer_event(socket, &self.hosts[socket.host].name, kind, TimerAction::Fired, deadline);
        self.emit(event);
        self.with_tcp(id, |s, cx| tcp::on_timer(s, cx, kind));
    }

    /// Puts a segment on the wire: traced as sent, then delivered after the link's latency
    /// or dropped, as the scenario's faults decide.
    pub fn transmit(&mut self, host: HostId, mut wire: Wire) {
        wire.id = self.trace.next_segment_id();
        self.emit_segment(&wire, crate::trace::Fate::Sent, wire.why.map(str::to_string));
        self.route_segment(host, wire);
    }

    /// Sends a numbered and traced segment on its way: delivered after the link's latency,
    /// or dropped, as the fabric's rules decide.
    pub(super) fn route_segment(&mut self, host: HostId, wire: Wire) {
        let Some(Route { to, latency_us: latency, .. }) = self.fabric.route(host, wire.to.ip) else {
            let at = self.now;
            self.queue.schedule(at, Pending::Drop(wire, "no route to the destination".to_string()));
            return;
        };
        let hop = Hop { from: &self.hosts[host].name, to: &self.hosts[to].name };
        match self.fabric.verdict(&hop, &wire, self.now, &mut self.rng) {
            Verdict::Pass { extra_us, copies } => {
                let at = self.now + latency + extra_us;
                if copies == Copies::Two {
                    self.queue.schedule(at, Pending::Deliver(wire.clone()));
                }
                self.queue.schedule(at, Pending::Deliver(wire));
            }
            Verdict::Drop(reason) => {
                // Drawn as lost half-way along the link.
                let at = self.now + latency / 2;
                self.queue.schedule(at, Pending::Drop(wire, reason));
            }
        }
    }

    /// A host crashes: its processes stop and its sockets vanish; it sends nothing more
    /// and what reaches it is lost.
    pub(super) fn crash(&mut self, host: HostId) {
        self.fabric.set_down(host, true);
        let name = self.hosts[host].name.clone();
        self.emit(EventKind::Note {
            pid: None,
            text: format!("{name} crashes: its processes and sockets vanish without sending a single segment"),
        });
        for pid in self.processes.ids().collect::<Vec<Pid>>() {
            let process = &mut self.processes[pid];
            if process.host == host && process.status != Status::Exited {
                process.status = Status::Exited;
                process.fds.clear();
                let process_name = process.name.clone();
                self.ready.remove(&pid);
                self.emit(EventKind::Process {
                    pid,
                    host: name.clone(),
                    name: process_name,
                    action: ProcessAction::Exit,
                    parent: None,
                });
            }
        }
        let doomed: Vec<SocketId> =
            self.sockets.iter().filter(|socket| socket.host == host && !socket.freed).map(|socket| socket.id).collect();
        for id in doomed {
            self.sockets[id].refs = 0;
            self.sockets[id].listener = None;
            self.with_tcp(id, tcp::release);
        }
        self.hosts[host].ports.clear();
        self.hosts[host].conns.clear();
    }

    pub fn emit_segment(&mut self, wire: &Wire, fate: crate::trace::Fate, reason: Option<String>) {
        self.emit(EventKind::Segment(wire.traced(fate, reason)));
    }

    pub(super) fn deliver(&mut self, wire: Wire) {
        let Some(host) = self.fabric.host_of(wire.to.ip) else {
            self.emit_segment(&wire, crate::trace::Fate::Dropped, Some("no host has this address".into()));
            return;
        };
        if self.fabric.is_down(host) {
            self.emit_segment(&wire, crate::trace::Fate::Dropped, Some("the destination host is down".into()));
            return;
        }
        match wire.proto {
            Proto::Tcp => self.tcp_deliver(host, wire),
            Proto::Udp => self.udp_deliver(host, wire),
        }
    }

    pub(super) fn udp_deliver(&mut self, host: HostId, wire: Wire) {
        let target = self.lookup_bound(host, Proto::Udp, wire.to, Some(wire.from));
        match target {
            Some(id) => {
                self.emit_segment(&wire, crate::trace::Fate::Delivered, None);
                let from = wire.from;
                self.sockets[id].datagrams.push_back((from, wire.into_payload()));
                self.queues_changed(id);
            }
            None => {
                self.emit_segment(&wire, crate::trace::Fate::Dropped, Some("no socket is bound to this port".into()));
            }
        }
    }
}
