//! The socket table and each host's ports: creating sockets, finding the socket a segment
//! is for, bind conflicts, ephemeral ports and initial sequence numbers.

use crate::addr::SockAddr;
use crate::ids::HostId;
use crate::socket::Socket;
use crate::state::State;
use crate::tcp::context::socket_event;
use crate::trace::{Proto, SocketAction, SocketId};
use crate::world::World;

/// Ephemeral ports (`net.ipv4.ip_local_port_range`).
pub(crate) const EPHEMERAL_PORTS: (u16, u16) = (32_768, 60_999);

impl World {
    /// The socket on `host` a segment for `local` from `peer` goes to: an exact connected
    /// match first, then the bound socket with the fewest wildcards (Sockets-in-C 7.12).
    pub fn lookup_bound(
        &self,
        host: HostId,
        proto: Proto,
        local: SockAddr,
        peer: Option<SockAddr>,
    ) -> Option<SocketId> {
        let host_ref = &self.hosts[host];
        if let Some(peer) = peer {
            if let Some(&id) = host_ref.conns.get(&(local, peer)) {
                if self.sockets[id].proto == proto {
                    return Some(id);
                }
            }
        }
        let users = host_ref.ports.get(&local.port)?;
        let mut best: Option<(u32, SocketId)> = None;
        for &id in users {
            let socket = &self.sockets[id];
            if socket.proto != proto || socket.freed {
                continue;
            }
            if proto == Proto::Tcp && socket.state != State::Listen {
                continue;
            }
            let Some(bound) = socket.local else { continue };
            let mut wildcards = 0;
            if bound.ip.is_unspecified() {
                wildcards += 1;
            } else if bound.ip != local.ip {
                continue;
            }
            if proto == Proto::Udp {
                match (socket.peer, peer) {
                    (Some(connected), Some(peer)) if connected != peer => continue,
                    (None, _) => wildcards += 1,
                    _ => {}
                }
            }
            if best.is_none_or(|(fewest, _)| wildcards < fewest) {
                best = Some((wildcards, id));
            }
        }
        best.map(|(_, id)| id)
    }

    // ----- sockets and ports -----
    pub fn new_socket(&mut self, host: HostId, proto: Proto) -> SocketId {
        let id = self.sockets.next_id();
        let tcp = &self.hosts[host].tcp;
        self.sockets.push(Socket::new(id, host, proto, tcp.sndbuf, tcp.rcvbuf));
        id
    }

    pub fn emit_socket(&mut self, id: SocketId, action: SocketAction) {
        let socket = &self.sockets[id];
        let kind = socket_event(socket, &self.hosts[socket.host].name, action);
        self.emit(kind);
    }

    pub fn claim_port(&mut self, id: SocketId, port: u16) {
        let host = self.sockets[id].host;
        self.hosts[host].ports.get_or_insert_with(port, Vec::new).push(id);
    }

    pub fn register_conn(&mut self, id: SocketId) {
        let socket = &self.sockets[id];
        if let (Some(local), Some(peer)) = (socket.local, socket.peer) {
            let host = socket.host;
            self.hosts[host].conns.insert((local, peer), id);
        }
    }

    /// Would binding `addr` on `host` for socket `id` conflict (Linux inet_csk_bind_conflict)?
    /// Two sockets may share a port only if both set SO_REUSEADDR and the other is not
    /// listening; TIME_WAIT sockets count too. Sockets that all set SO_REUSEPORT may share a
    /// port whatever their state (same user assumed: `inet_bind_conflict()`, net/ipv4/
    /// inet_connection_sock.c).
    pub fn bind_conflict(&self, id: SocketId, addr: SockAddr) -> bool {
        let socket = &self.sockets[id];
        let Some(users) = self.hosts[socket.host].ports.get(&addr.port) else { return false };
        users.iter().any(|&other| {
            let other = &self.sockets[other];
            if other.id == id || other.proto != socket.proto || other.freed {
                return false;
            }
            let Some(bound) = other.local else { return false };
            let overlap = bound.ip.is_unspecified() || addr.ip.is_unspecified() || bound.ip == addr.ip;
            let reuseaddr = socket.reuseaddr && other.reuseaddr && other.state != State::Listen;
            let reuseport = socket.reuseport && other.reuseport;
            overlap && !reuseaddr && !reuseport
        })
    }

    /// Picks a free ephemeral port on `host`: from the scenario's list first, then at random.
    pub fn ephemeral_port(&mut self, host: HostId) -> Option<u16> {
        while let Some(&port) = self.hosts[host].tcp.ephemeral_ports.get(self.hosts[host].next_port) {
            self.hosts[host].next_port += 1;
            if !self.hosts[host].ports.contains_key(&port) {
                return Some(port);
            }
        }
        let (low, high) = EPHEMERAL_PORTS;
        let span = u32::from(high - low) + 1;
        let start = self.rng.range(0, span - 1);
        (0..span)
            .map(|offset| low + ((start + offset) % span) as u16)
            .find(|port| !self.hosts[host].ports.contains_key(port))
    }

    pub fn next_isn(&mut self, host: HostId) -> u32 {
        let index = self.hosts[host].next_isn;
        match self.hosts[host].tcp.isn.get(index) {
            Some(&isn) => {
                self.hosts[host].next_isn += 1;
                isn
            }
            None => self.rng.next_u32(),
        }
    }
}
