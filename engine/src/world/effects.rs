//! The bridge to the TCP machine: a TCP call gets one socket and a narrow context, and the
//! world applies the effects it hands back, in the order it asked for them.

use crate::addr::SockAddr;
use crate::ids::HostId;
use crate::socket::Socket;
use crate::tcp::context::{queues_event, AcceptQueue, Cx, Effect};
use crate::trace::SocketId;
use crate::world::process::Status;
use crate::world::queue::Pending;
use crate::world::World;

/// What a TCP call that handles an arriving segment needs to know besides its socket.
#[derive(Clone, Copy)]
pub(crate) struct Arrival {
    /// For a SYN, the MTU of the path back to its sender.
    pub path_mtu: Option<u32>,
    pub accept_queue: AcceptQueue,
}

impl World {
    /// Runs one TCP call on socket `id`, then applies its effects.
    pub(crate) fn with_tcp<R>(&mut self, id: SocketId, call: impl FnOnce(&mut Socket, &mut Cx<'_>) -> R) -> R {
        self.tcp_call(id, None, call)
    }

    /// [`World::with_tcp`] for a segment's arrival, with the path's MTU and the accept
    /// queue's room.
    pub(crate) fn with_tcp_arrival<R>(
        &mut self,
        id: SocketId,
        arrival: Arrival,
        call: impl FnOnce(&mut Socket, &mut Cx<'_>) -> R,
    ) -> R {
        self.tcp_call(id, Some(arrival), call)
    }

    pub(super) fn tcp_call<R>(
        &mut self,
        id: SocketId,
        arrival: Option<Arrival>,
        call: impl FnOnce(&mut Socket, &mut Cx<'_>) -> R,
    ) -> R {
        let mut effects = std::mem::take(&mut self.effects);
        let socket = &mut self.sockets[id];
        let host_index = socket.host;
        let host = &self.hosts[host_index];
        let mut cx = Cx::new(self.now, (&host.name, host.addr, &host.tcp), &mut self.trace, &mut effects);
        if let Some(arrival) = arrival {
            cx.path_mtu = arrival.path_mtu;
            cx.accept_queue = arrival.accept_queue;
        }
        let result = call(socket, &mut cx);
        // Every TCP call (a segment's arrival, a timer's expiry, a system call) comes through
        // here, so this is the one place a socket's sending limits are traced: after the
        // call's own events, through the same context, when they changed.
        cx.sending_limits_changed(socket);
        self.apply_effects(host_index, &mut effects);
        self.effects = effects;
        result
    }

    pub(super) fn apply_effects(&mut self, host: HostId, effects: &mut Vec<Effect>) {
        for effect in effects.drain(..) {
            match effect {
                Effect::Trace(kind) => self.emit(kind),
                Effect::Route(wire) => self.route_segment(host, wire),
                Effect::ScheduleTimer { socket, kind, deadline } => {
                    self.queue.schedule(deadline, Pending::Timer { socket, kind, deadline });
                }
                Effect::Wake(pids) => self.wake_processes(pids),
                Effect::Forget { socket, local, peer, listener } => self.forget(host, socket, local, peer, listener),
                Effect::JoinAcceptQueue { listener, child } => {
                    let parent = &mut self.sockets[listener];
                    parent.syn_queue.retain(|&queued| queued != child);
                    parent.accept_queue.push_back(child);
                    self.queues_changed(listener);
                }
            }
        }
    }

    /// Makes runnable those of `pids` that are still blocked.
    pub(crate) fn wake_processes(&mut self, pids: Vec<crate::trace::Pid>) {
        for pid in pids {
            if self.processes[pid].status == Status::Blocked {
                self.ready.insert(pid);
            }
        }
    }

    /// Wakes every process waiting on socket `id`.
    pub(crate) fn wake(&mut self, id: SocketId) {
        let waiters = std::mem::take(&mut self.sockets[id].waiters);
        self.wake_processes(waiters);
    }

    /// Records a socket's queue levels and wakes whoever waits on it.
    pub(crate) fn queues_changed(&mut self, id: SocketId) {
        let socket = &self.sockets[id];
        let kind = queues_event(socket, &self.hosts[socket.host].name);
        self.emit(kind);
        self.wake(id);
    }

    /// The world's half of freeing a socket: its port, its connection entry and its place in
    /// a listener's queues.
    pub(super) fn forget(
        &mut self,
        host: HostId,
        id: SocketId,
        local: Option<SockAddr>,
        peer: Option<SockAddr>,
        listener: Option<SocketId>,
    ) {
        if let Some(local) = local {
            if let Some(users) = self.hosts[host].ports.get_mut(&local.port) {
                users.retain(|&user| user != id);
                if users.is_empty() {
                    self.hosts[host].ports.remove(&local.port);
                }
            }
            if let Some(peer) = peer {
                if self.hosts[host].conns.get(&(local, peer)) == Some(&id) {
                    self.hosts[host].conns.remove(&(local, peer));
                }
            }
        }
        if let Some(listener) = listener {
            let parent = &mut self.sockets[listener];
            parent.syn_queue.retain(|&child| child != id);
            parent.accept_queue.retain(|&child| child != id);
            if !parent.freed {
                self.queues_changed(listener);
            }
        }
    }
}
