//! The kernel halves of the calls that reach beyond one socket: binding and listening on a
//! host's ports, connecting (a route, an ephemeral port, an initial sequence number),
//! accepting from a listener's queue, UDP datagrams, closing a listener with its pending
//! connections, and handing an arriving TCP segment to the socket it belongs to. What one
//! socket does with them is the TCP machine's (`crate::tcp`).

use crate::addr::{Ipv4, SockAddr};
use crate::errno::Errno;
use crate::ids::HostId;
use crate::outcome::Outcome;
use crate::state::State;
use crate::tcp;
use crate::tcp::context::AcceptQueue;
use crate::trace::{Fate, Flags, Proto, SocketAction, SocketId};
use crate::wire::Wire;
use crate::world::effects::Arrival;
use crate::world::World;

impl World {
    pub(crate) fn sys_bind(&mut self, id: SocketId, addr: SockAddr) -> Outcome {
        let host = self.sockets[id].host;
        if self.sockets[id].local.is_some() {
            return Outcome::Failed(Errno::EINVAL);
        }
        if !addr.ip.is_unspecified() && addr.ip != self.hosts[host].addr {
            return Outcome::Failed(Errno::EADDRNOTAVAIL);
        }
        let mut addr = addr;
        if addr.port == 0 {
            match self.ephemeral_port(host) {
                Some(port) => addr.port = port,
                None => return Outcome::Failed(Errno::EADDRINUSE),
            }
        } else if self.bind_conflict(id, addr) {
            return Outcome::Failed(Errno::EADDRINUSE);
        }
        self.sockets[id].local = Some(addr);
        self.claim_port(id, addr.port);
        self.emit_socket(id, SocketAction::Address);
        Outcome::done(0)
    }

    /// Binds an unbound socket to an ephemeral port (connect() or listen() without bind()).
    pub(super) fn autobind(&mut self, id: SocketId, ip: Ipv4) -> Result<(), Errno> {
        let host = self.sockets[id].host;
        let port = self.ephemeral_port(host).ok_or(Errno::EADDRNOTAVAIL)?;
        self.sockets[id].local = Some(SockAddr::new(ip, port));
        self.claim_port(id, port);
        self.emit_socket(id, SocketAction::Address);
        Ok(())
    }

    pub(crate) fn sys_listen(&mut self, id: SocketId, backlog: u32) -> Outcome {
        let socket = &self.sockets[id];
        if socket.proto != Proto::Tcp {
            return Outcome::Failed(Errno::EOPNOTSUPP);
        }
        if !matches!(socket.state, State::Closed | State::Listen) || socket.was_connected {
            return Outcome::Failed(Errno::EINVAL);
        }
        if socket.local.is_none() {
            // TLPI exercise 61-4: listen() on an unbound socket picks an ephemeral port.
            if let Err(errno) = self.autobind(id, Ipv4::UNSPECIFIED) {
                return Outcome::Failed(errno);
            }
        }
        let socket = &self.sockets[id];
        let local = socket.local.unwrap_or_default();
        // Two SO_REUSEADDR sockets may share a port, but only one of them may listen.
        let clash = self.hosts[socket.host].ports.get(&local.port).is_some_and(|users| {
            users.iter().any(|&other| {
                let other = &self.sockets[other];
                other.id != id
                    && other.state == State::Listen
                    // SO_REUSEPORT on both lets them listen together (inet_csk_bind_conflict()).
                    && !(socket.reuseport && other.reuseport)
                    && other.local.is_some_and(|bound| {
                        bound.ip.is_unspecified() || local.ip.is_unspecified() || bound.ip == local.ip
                    })
            })
        });
        if clash {
            return Outcome::Failed(Errno::EADDRINUSE);
        }
        self.with_tcp(id, |s, cx| tcp::listen(s, cx, backlog))
    }

    /// connect(); `attempt` tells a first call from a blocked one that was woken.
    pub(crate) fn sys_connect(&mut self, id: SocketId, addr: SockAddr, attempt: tcp::ConnectAttempt) -> Outcome {
        let host = self.sockets[id].host;
        if self.sockets[id].proto == Proto::Udp {
            if self.sockets[id].local.is_none() {
                let ip = self.hosts[host].addr;
                if let Err(errno) = self.autobind(id, ip) {
                    return Outcome::Failed(errno);
                }
            }
            self.sockets[id].peer = Some(addr);
            self.emit_socket(id, SocketAction::Address);
            return Outcome::done(0);
        }
        if let Some(outcome) = tcp::connect_in_progress(&mut self.sockets[id], attempt) {
            return outcome;
        }
        let Some(route) = self.fabric.route(host, addr.ip) else {
            return Outcome::Failed(Errno::ENETUNREACH);
        };
        let host_addr = self.hosts[host].addr;
        match self.sockets[id].local {
            None => {
                if let Err(errno) = self.autobind(id, host_addr) {
                    return Outcome::Failed(errno);
                }
            }
            Some(local) if local.ip.is_unspecified() => {
                self.sockets[id].local = Some(SockAddr::new(host_addr, local.port));
            }
            Some(_) => {}
        }
        let local = self.sockets[id].local.unwrap_or_default();
        if self.hosts[host].conns.contains_key(&(local, addr)) {
            return Outcome::Failed(Errno::EADDRNOTAVAIL);
        }
        self.sockets[id].peer = Some(addr);
        self.sockets[id].error = None;
        self.register_conn(id);
        self.emit_socket(id, SocketAction::Address);
        let iss = self.next_isn(host);
        self.with_tcp(id, |s, cx| tcp::connect(s, cx, iss, route.mtu))
    }

    pub(crate) fn sys_accept(&mut self, id: SocketId) -> Result<SocketId, Outcome> {
        let socket = &mut self.sockets[id];
        if socket.state != State::Listen {
            return Err(Outcome::Failed(Errno::EINVAL));
        }
        match socket.accept_queue.pop_front() {
            Some(child) => {
                self.emit_socket(child, SocketAction::Accepted);
                self.sockets[child].listener = None;
                self.queues_changed(id);
                Ok(child)
            }
            None if socket.nonblocking => Err(Outcome::Failed(Errno::EAGAIN)),
            None => Err(Outcome::block_on(id, "the accept queue is empty: waiting for a completed connection")),
        }
    }

    /// send(): for TCP, queues what fits in SendQ. Returns the outcome and the bytes of
    /// `data` queued so far (`progress` carries over from earlier attempts of the same call,
    /// `start` is where this call began).
    pub(crate) fn sys_send(
        &mut self,
        id: SocketId,
        data: &[u8],
        progress: u32,
        start: u32,
        push: tcp::Push,
    ) -> (Outcome, u32) {
        let socket = &self.sockets[id];
        if socket.proto == Proto::Udp {
            return match socket.peer {
                Some(peer) => {
                    let outcome = self.send_datagram(id, peer, data);
                    (outcome, data.len() as u32)
                }
                None => (Outcome::Failed(Errno::ENOTCONN), progress),
            };
        }
        self.with_tcp(id, |s, cx| tcp::send(s, cx, data, progress, start, push))
    }

    pub(crate) fn send_datagram(&mut self, id: SocketId, to: SockAddr, data: &[u8]) -> Outcome {
        let host = self.sockets[id].host;
        if self.sockets[id].local.is_none() {
            let ip = self.hosts[host].addr;
            if let Err(errno) = self.autobind(id, ip) {
                return Outcome::Failed(errno);
            }
        }
        let mut from = self.sockets[id].local.unwrap_or_default();
        if from.ip.is_unspecified() {
            from.ip = self.hosts[host].addr;
        }
        let mut wire = Wire::bare(Proto::Udp, from, to, Flags::default());
        wire.set_payload(data.to_vec());
        self.transmit(host, wire);
        Outcome::done(data.len() as i64)
    }

    pub(crate) fn sys_recv(&mut self, id: SocketId, len: u32) -> Outcome {
        let socket = &mut self.sockets[id];
        if socket.proto == Proto::Udp {
            return match socket.datagrams.pop_front() {
                Some((from, data)) => {
                    // A datagram is read whole or truncated; the rest is discarded (udp(7)).
                    let taken = data.len().min(len as usize) as u64;
                    socket.tcb.delivered += taken;
                    self.queues_changed(id);
                    Outcome::Done { value: taken as i64, shown: Some(from.to_string()) }
                }
                None if socket.nonblocking => Outcome::Failed(Errno::EAGAIN),
                None => Outcome::block_on(id, "no datagram has arrived yet"),
            };
        }
        self.with_tcp(id, |s, cx| tcp::recv(s, cx, len))
    }

    /// The last descriptor of a socket was closed (tcp_close()).
    pub(crate) fn last_close(&mut self, id: SocketId) {
        let socket = &self.sockets[id];
        if socket.freed {
            return;
        }
        if socket.proto == Proto::Udp {
            self.with_tcp(id, tcp::release);
            return;
        }
        if socket.state != State::Listen {
            self.with_tcp(id, tcp::close);
            return;
        }
        // Connections nobody accepted are reset (inet_csk_listen_stop()).
        let mut children: Vec<SocketId> = socket.syn_queue.clone();
        children.extend(socket.accept_queue.iter().copied());
        for child in children {
            self.sockets[child].listener = None;
            self.with_tcp(child, tcp::reset_unaccepted);
        }
        self.sockets[id].syn_queue.clear();
        self.sockets[id].accept_queue.clear();
        self.with_tcp(id, |s, cx| {
            tcp::set_state(s, cx, State::Closed, "close() on the listener");
            tcp::release(s, cx);
        });
    }

    /// A TCP segment reached `host`: its connection takes it, else a listener if it is a
    /// SYN, else the host answers with RST.
    pub(crate) fn tcp_deliver(&mut self, host: HostId, wire: Wire) {
        let conn = self.hosts[host].conns.get(&(wire.to, wire.from)).copied();
        if let Some(id) = conn {
            self.emit_segment(&wire, Fate::Delivered, None);
            let accept_queue = match self.sockets[id].listener {
                None => AcceptQueue::NoListener,
                Some(listener) if self.sockets[listener].accept_queue_full() => AcceptQueue::Full,
                Some(_) => AcceptQueue::HasRoom,
            };
            let path_mtu = wire.flags.syn.then(|| self.fabric.path_mtu(host, wire.from.ip));
            let arrival = Arrival { path_mtu, accept_queue };
            self.with_tcp_arrival(id, arrival, |s, cx| tcp::segment_arrives(s, cx, &wire));
            return;
        }
        let listener = self.lookup_bound(host, Proto::Tcp, wire.to, None);
        match listener {
            Some(listener) if wire.flags.syn && !wire.flags.ack && !wire.flags.rst => {
                let socket = &self.sockets[listener];
                if socket.accept_queue_full() {
                    // sk_acceptq_is_full(): the SYN is dropped without an answer; the client
                    // will retransmit it after its RTO.
                    let reason = format!(
                        "the accept queue is full ({} of backlog+1 = {}): SYN dropped, no RST",
                        socket.accept_queue.len(),
                        socket.backlog + 1
                    );
                    self.emit_segment(&wire, Fate::Dropped, Some(reason));
                    return;
                }
                self.emit_segment(&wire, Fate::Delivered, None);
                self.listen_syn(listener, &wire);
            }
            _ => {
                self.emit_segment(&wire, Fate::Delivered, None);
                if let Some(reset) = tcp::reset_for(&wire) {
                    self.transmit(host, reset);
                }
            }
        }
    }

    /// A SYN reached a listener: a new connection in SYN_RECV joins its SYN queue.
    pub(super) fn listen_syn(&mut self, listener: SocketId, syn: &Wire) {
        let host = self.sockets[listener].host;
        let mtu = self.fabric.path_mtu(host, syn.from.ip);
        let child = self.new_socket(host, Proto::Tcp);
        let parent = self.sockets[listener].clone_options();
        let socket = &mut self.sockets[child];
        parent.apply_to(socket);
        socket.listener = Some(listener);
        socket.local = Some(syn.to);
        socket.peer = Some(syn.from);
        self.claim_port(child, syn.to.port);
        self.register_conn(child);
        self.emit_socket(child, SocketAction::Create);
        self.queues_changed(child);
        let iss = self.next_isn(host);
        self.sockets[listener].syn_queue.push(child);
        self.with_tcp(child, |s, cx| tcp::syn_received(s, cx, iss, syn, mtu));
        self.queues_changed(listener);
        self.with_tcp(child, tcp::answer_syn);
    }
}
