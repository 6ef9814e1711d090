//! TCP: the socket calls' kernel halves, segment input per state, output, and timers.
//!
//! Follows Linux (`net/ipv4/tcp_input.c`, `tcp_output.c`, `tcp_timer.c`) where the course
//! material meets it: delayed ACKs with quick-ACK at the start and pingpong mode, Nagle with
//! Minshall's rule, the accept queue's backlog+1 limit, RST for close() with unread data,
//! TIME_WAIT of 2MSL, RFC 6298 RTO with Linux's bounds and the SYN schedule with linear
//! timeouts.
//!
//! Simplifications, and what they cost: congestion control is plain Reno (Linux defaults to
//! CUBIC or BBR), so bulk-transfer timing differs from a real kernel, and there is no
//! pacing; SACK is negotiated but its blocks are not modelled (a loss recovers by go-back-N
//! after the RTO, or by one fast retransmission), except the D-SACK that ends a tail loss
//! probe. With SACK on, a sender sends tail loss probes as Linux 6.x does (RACK-TLP, RFC 8985
//! section 7; RACK's reordering timer is not modelled). Segments leave in TSO packets, each of
//! more than one segment marked PSH on its last segment as Linux does. A packet holds at most
//! half the congestion window (`tcp_cwnd_test()`), no more than one skb (`tcp_sendmsg()`
//! fills skbs to 64 KB, `tcp_xmit_size_goal()`; they are assumed full), and no more than
//! `tcp_tso_autosize()` allows: about 1 ms at the pacing rate (`tcp_update_pacing_rate()`:
//! mss * cwnd / srtt, times 2 in early slow start, else 1.2), plus 64 KB halved per 512 us of
//! the minimum RTT, at least 2 segments. So after a 20 ms handshake packets hold 2 segments,
//! more as the window grows, and on loopback up to 64 KB. The pacing rate only sizes packets: nothing is paced
//! in time, as in Linux without the fq qdisc or BBR. The delayed-ACK timeout stays at its
//! 40 ms minimum instead of adapting;
//! there is no receive-buffer autotuning (SO_RCVBUF stays what it was set to).
//!
//! Receive windows follow Linux 6.x. A window is buffer *memory* turned into payload bytes by
//! a per-socket `scaling_ratio` (`tcp_win_from_space()`): it starts at 50%
//! (`TCP_DEFAULT_SCALING_RATIO`), so a fresh socket offers about half of SO_RCVBUF, and is
//! re-measured as len/truesize when a segment larger than the receiver's MSS estimate arrives
//! (`tcp_measure_rcv_mss()`). The window offered never exceeds `rcv_ssthresh`, which starts
//! at the SYN's window and grows as data arrives (`tcp_grow_window()`), nor `window_clamp`.
//! The SYN's window is the buffer's share rounded down to a multiple of the MSS
//! (`tcp_select_initial_window()`); later windows keep the receiver-side silly-window rule and
//! never shrink (`__tcp_select_window()`, `tcp_select_window()`). On the sending side each
//! segment is at most half the largest window the peer has offered (`tcp_bound_to_half_wnd()`).
//! Simplifications: a segment's truesize is its payload plus a fixed [`SKB_OVERHEAD`] (832
//! bytes, measured on Linux 6.18), segments in RecvQ are never coalesced or collapsed, and
//! RecvQ still accepts up to SO_RCVBUF payload bytes; the sender builds one segment per MSS,
//! where Linux on loopback hands several to the device as one GSO packet (tcpdump then shows
//! one larger packet); and `tcp_rmem[2]`, which bounds window growth, is taken as the buffer
//! whose shift the host announces (2^(wscale+15)).

use crate::addr::SockAddr;
use crate::errno::Errno;
use crate::scenario::{How, OptName, SockOpt, TcpSettings};
use crate::socket::{seq_ge, seq_gt, seq_le, seq_lt, SKB_OVERHEAD};
use crate::state::State;
use crate::trace::{EventKind, Flags, Proto, SocketAction, SocketId, TcpOptions, TimerKind};
use crate::world::{Outcome, Wire, World, LOOPBACK_MTU};

/// Linux's smallest default MSS estimate for a peer (`TCP_MSS_DEFAULT`), also the MSS
/// assumed when a SYN carries no MSS option (RFC 1122 4.2.2.6).
const TCP_MSS_DEFAULT: u32 = 536;
/// Bytes the timestamps option adds to every segment once negotiated.
const TIMESTAMPS_LEN: u32 = 12;
/// A TCP header without options (`sizeof(struct tcphdr)`).
const TCP_HEADER_LEN: u32 = 20;
/// `sysctl_rmem_max` / `sysctl_wmem_max`: setsockopt() can ask for at most this (doubled).
const RMEM_MAX: u32 = 212_992;
const WMEM_MAX: u32 = 212_992;
/// `SOCK_MIN_RCVBUF` and `SOCK_MIN_SNDBUF` as this kernel stores them.
const MIN_RCVBUF: u32 = 2_304;
const MIN_SNDBUF: u32 = 4_608;
/// `TCP_TIMEOUT_MIN`: two jiffies, 8 ms at the measured machine's HZ=250.
const TCP_TIMEOUT_MIN_JIFFIES_US: u64 = 8_000;
/// `TCP_TIMEOUT_MIN_US`: the 2 ms a tail loss probe waits beyond two round trips when
/// several segments are outstanding (`tcp_schedule_loss_probe()`).
const TCP_TIMEOUT_MIN_US: u64 = 2_000;
/// One jiffy at the measured machine's HZ=250 (shared/linux-tcp-facts.md): the kernel's
/// timers count in jiffies, and `usecs_to_jiffies()` rounds a delay up to whole ones.
const JIFFY_US: u64 = 4_000;
/// `tcp_invalid_ratelimit`: at most one answer to out-of-window segments per 500 ms.
const TCP_INVALID_RATELIMIT_US: u64 = 500_000;
/// `TCP_RMEM_TO_WIN_SCALE`: scaling ratios are in 256ths.
const TCP_RMEM_TO_WIN_SCALE: u32 = 8;
/// `TCP_MIN_MSS`: the smallest MSS estimate Linux keeps for a peer.
const TCP_MIN_MSS: u32 = 88;
/// `TCP_MAX_WSCALE`.
const TCP_MAX_WSCALE: u32 = 14;

/// The `reason` a tail loss probe carries in the trace, for the narration.
const LOSS_PROBE_REASON: &str = "tail loss probe";

/// Milliseconds from the scenario in microseconds. The scenario check bounds every such
/// setting; saturating keeps a value that slipped past it from overflowing.
fn ms_to_us(ms: u64) -> u64 {
    ms.saturating_mul(1_000)
}

/// TIME_WAIT's length, 2MSL, in microseconds.
pub(crate) fn two_msl_us(tcp: &TcpSettings) -> u64 {
    ms_to_us(tcp.msl_ms).saturating_mul(2)
}

/// A delay rounded up to whole jiffies, as `usecs_to_jiffies()` does.
fn whole_jiffies(us: u64) -> u64 {
    us.div_ceil(JIFFY_US) * JIFFY_US
}

/// Payload bytes that `space` bytes of buffer memory hold at `ratio` 256ths
/// (`__tcp_win_from_space()`); negative space gives a negative window.
fn win_from_space(ratio: u32, space: i64) -> i64 {
    (space * i64::from(ratio)) >> TCP_RMEM_TO_WIN_SCALE
}

/// `tcp_bound_to_half_wnd()`: once the peer has offered more than `TCP_MSS_DEFAULT` bytes,
/// no segment is larger than half of the largest window it offered (smaller peers get
/// segments up to their whole window), but never below 68 bytes minus the TCP header.
fn bound_to_half_window(max_window: u32, size: u32, timestamps: bool) -> u32 {
    let cutoff = if max_window > TCP_MSS_DEFAULT { max_window / 2 } else { max_window };
    if cutoff > 0 && size > cutoff {
        let header = if timestamps { 20 + TIMESTAMPS_LEN } else { 20 };
        cutoff.max(68 - header)
    } else {
        size
    }
}

/// The states in which a socket sends data or a FIN: it has a peer and has not yet sent
/// everything it will ever send.
fn may_transmit(state: State) -> bool {
    matches!(state, State::Established | State::CloseWait | State::FinWait1 | State::Closing | State::LastAck)
}

impl crate::socket::Tcb {
    /// Bytes written by the application and not yet sent (negative once a FIN has been sent
    /// past them, as the FIN takes a sequence number).
    fn unsent(&self) -> i32 {
        self.write_seq.wrapping_sub(self.snd_nxt) as i32
    }

    /// Whether a FIN is queued and not yet sent.
    fn fin_unsent(&self) -> bool {
        self.fin_queued && seq_le(self.snd_nxt, self.write_seq)
    }

    /// The segment size the sender uses now (`tcp_current_mss()`): the MSS, bounded by half
    /// the peer's largest window.
    pub(crate) fn mss_now(&self) -> u32 {
        bound_to_half_window(self.max_window, self.mss, self.timestamps)
    }

    /// How much one send buffer (skb) holds (`tcp_xmit_size_goal()`): as many whole segments
    /// as fit in a 64 KB GSO packet and in half of the peer's largest window.
    pub(crate) fn size_goal(&self) -> u32 {
        let mss_now = self.mss_now().max(1);
        let limit = bound_to_half_window(self.max_window, SK_GSO_MAX_SIZE, self.timestamps);
        (limit / mss_now).max(1) * mss_now
    }
}

/// `sk_gso_max_size` as `sk_setup_caps()` sets it: the device's 64 KB GSO limit less
/// `MAX_TCP_HEADER` (320) and one byte. Neither an skb nor a TSO packet is larger.
const SK_GSO_MAX_SIZE: u32 = 65_536 - 320 - 1;
/// `sk_pacing_shift`'s default (10): a TSO packet should take about 1 ms (1/1024 s) at the
/// pacing rate (`tcp_tso_autosize()`).
const SK_PACING_SHIFT: u32 = 10;
/// `tcp_tso_rtt_log` (9): the min-RTT bonus of `tcp_tso_autosize()` halves every 512 us.
const TCP_TSO_RTT_LOG: u32 = 9;
/// `tcp_min_tso_segs` (2): the fewest segments a TSO packet may be sized for.
const TCP_MIN_TSO_SEGS: u32 = 2;
/// `tcp_pacing_ss_ratio` (200%) and `tcp_pacing_ca_ratio` (120%).
const TCP_PACING_SS_RATIO: u64 = 200;
const TCP_PACING_CA_RATIO: u64 = 120;

/// `tcp_update_pacing_rate()`: the current rate, mss * max(cwnd, packets_out) / srtt, times
/// 200% in slow start while the window is below half of ssthresh, else 120%. Without an RTT
/// sample the rate stays unlimited (Linux starts `sk_pacing_rate` at ~0UL).
fn update_pacing_rate(tcb: &mut crate::socket::Tcb) {
    let Some(srtt) = tcb.srtt_us else {
        tcb.pacing_rate = None;
        return;
    };
    let mss = u64::from(tcb.mss.max(1));
    let cwnd = u64::from(tcb.cwnd) / mss;
    let ssthresh = u64::from(tcb.ssthresh) / mss;
    let ratio = if cwnd < ssthresh / 2 { TCP_PACING_SS_RATIO } else { TCP_PACING_CA_RATIO };
    let segments = cwnd.max(tcb.unacked_segments.len() as u64);
    // mss * ratio% * segments per srtt microseconds, in bytes per second.
    let rate = mss.saturating_mul(ratio * 10_000).saturating_mul(segments) / srtt.max(1);
    tcb.pacing_rate = Some(rate);
}

/// `tcp_tso_autosize()` with `tcp_min_tso_segs`: how many segments of `mss_now` one TSO
/// packet may hold, so that it takes about 1 ms at the pacing rate, plus a bonus for close
/// peers (64 KB halved for every 512 us of min RTT), at most `sk_gso_max_size`, at least 2.
fn tso_autosize(tcb: &crate::socket::Tcb, mss_now: u32) -> u32 {
    let mut bytes = tcb.pacing_rate.map_or(u64::MAX, |rate| rate >> SK_PACING_SHIFT);
    if let Some(min_rtt) = tcb.min_rtt_us {
        let halvings = min_rtt >> TCP_TSO_RTT_LOG;
        if halvings < 32 {
            bytes = bytes.saturating_add(u64::from(SK_GSO_MAX_SIZE >> halvings));
        }
    }
    let bytes = bytes.min(u64::from(SK_GSO_MAX_SIZE)) as u32;
    (bytes / mss_now.max(1)).max(TCP_MIN_TSO_SEGS)
}

/// `len` bytes of a queue from `start`, copied slice by slice rather than byte by byte.
fn copy_range(queue: &std::collections::VecDeque<u8>, start: usize, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    append_range(queue, start, len, &mut out);
    out
}

/// Appends `len` bytes of a queue from `start` to `out`.
fn append_range(queue: &std::collections::VecDeque<u8>, start: usize, len: usize, out: &mut Vec<u8>) {
    let (front, back) = queue.as_slices();
    if start < front.len() {
        let end = (start + len).min(front.len());
        out.extend_from_slice(&front[start..end]);
        out.extend_from_slice(&back[..len - (end - start)]);
    } else {
        let start = start - front.len();
        out.extend_from_slice(&back[start..start + len]);
    }
}

/// A data or FIN segment built by `write_xmit()`, waiting for the rest of its TSO packet.
struct Outgoing {
    flags: Flags,
    seq: u32,
    payload: Vec<u8>,
    retransmission: bool,
    why: Option<&'static str>,
}

impl Outgoing {
    /// Where it ends in sequence space, a FIN counting one.
    fn end(&self) -> u32 {
        self.seq.wrapping_add(self.payload.len() as u32).wrapping_add(u32::from(self.flags.fin))
    }
}

/// What the receiver owes the sender after a segment.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum AckNeed {
    None,
    Delayed,
    /// Now if the socket is still in quick-ACK mode once the whole segment (data and FIN)
    /// has been processed, else delayed: Linux decides once, in `__tcp_ack_snd_check()`,
    /// after `tcp_fin()` may have entered pingpong mode.
    Quick,
    Now,
}

impl World {
    fn settings(&self, id: SocketId) -> &TcpSettings {
        &self.hosts[self.sockets[id as usize].host].tcp
    }

    fn host_of(&self, id: SocketId) -> usize {
        self.sockets[id as usize].host
    }

    // ===== system calls =====

    pub(crate) fn sys_bind(&mut self, id: SocketId, addr: SockAddr) -> Outcome {
        let host = self.host_of(id);
        if self.sockets[id as usize].local.is_some() {
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
        self.sockets[id as usize].local = Some(addr);
        self.claim_port(id, addr.port);
        self.emit_socket(id, SocketAction::Address);
        Outcome::Done(0, None)
    }

    /// Binds an unbound socket to an ephemeral port (connect() or listen() without bind()).
    fn autobind(&mut self, id: SocketId, ip: crate::addr::Ipv4) -> Result<(), Errno> {
        let host = self.host_of(id);
        let port = self.ephemeral_port(host).ok_or(Errno::EADDRNOTAVAIL)?;
        self.sockets[id as usize].local = Some(SockAddr::new(ip, port));
        self.claim_port(id, port);
        self.emit_socket(id, SocketAction::Address);
        Ok(())
    }

    pub(crate) fn sys_listen(&mut self, id: SocketId, backlog: u32) -> Outcome {
        let socket = &self.sockets[id as usize];
        if socket.proto != Proto::Tcp {
            return Outcome::Failed(Errno::EOPNOTSUPP);
        }
        if !matches!(socket.state, State::Closed | State::Listen) || socket.was_connected {
            return Outcome::Failed(Errno::EINVAL);
        }
        if socket.local.is_none() {
            // TLPI exercise 61-4: listen() on an unbound socket picks an ephemeral port.
            if let Err(errno) = self.autobind(id, crate::addr::Ipv4::UNSPECIFIED) {
                return Outcome::Failed(errno);
            }
        }
        let local = self.sockets[id as usize].local.unwrap_or_default();
        let host = self.host_of(id);
        // Two SO_REUSEADDR sockets may share a port, but only one of them may listen.
        let clash = self.hosts[host].ports.get(&local.port).is_some_and(|users| {
            users.iter().any(|&other| {
                let other = &self.sockets[other as usize];
                other.id != id
                    && other.state == State::Listen
                    // SO_REUSEPORT on both lets them listen together (inet_csk_bind_conflict()).
                    && !(self.sockets[id as usize].reuseport && other.reuseport)
                    && other.local.is_some_and(|bound| {
                        bound.ip.is_unspecified() || local.ip.is_unspecified() || bound.ip == local.ip
                    })
            })
        });
        if clash {
            return Outcome::Failed(Errno::EADDRINUSE);
        }
        let somaxconn = self.settings(id).somaxconn;
        self.sockets[id as usize].backlog = backlog.min(somaxconn);
        self.set_state(id, State::Listen, "listen() makes the socket passive");
        self.queues_changed(id);
        Outcome::Done(0, None)
    }

    pub(crate) fn sys_connect(&mut self, id: SocketId, addr: SockAddr, first: bool) -> Outcome {
        let host = self.host_of(id);
        let socket = &self.sockets[id as usize];
        if socket.proto == Proto::Udp {
            if socket.local.is_none() {
                let ip = self.hosts[host].addr;
                if let Err(errno) = self.autobind(id, ip) {
                    return Outcome::Failed(errno);
                }
            }
            self.sockets[id as usize].peer = Some(addr);
            self.emit_socket(id, SocketAction::Address);
            return Outcome::Done(0, None);
        }
        if !first {
            let socket = &mut self.sockets[id as usize];
            return match socket.state {
                State::SynSent | State::SynRecv => {
                    Outcome::Block(Some(id), "waiting for the SYN+ACK (three-way handshake)".into())
                }
                State::Closed => Outcome::Failed(socket.error.take().unwrap_or(Errno::ECONNREFUSED)),
                _ => Outcome::Done(0, None),
            };
        }
        match socket.state {
            State::Closed => {}
            State::SynSent | State::SynRecv => {
                return if socket.nonblocking {
                    Outcome::Failed(Errno::EALREADY)
                } else {
                    Outcome::Block(Some(id), "waiting for the SYN+ACK (three-way handshake)".into())
                };
            }
            _ => return Outcome::Failed(Errno::EISCONN),
        }
        let Some((_, _, mtu)) = self.route(host, addr.ip) else {
            return Outcome::Failed(Errno::ENETUNREACH);
        };
        let host_addr = self.hosts[host].addr;
        match self.sockets[id as usize].local {
            None => {
                if let Err(errno) = self.autobind(id, host_addr) {
                    return Outcome::Failed(errno);
                }
            }
            Some(local) if local.ip.is_unspecified() => {
                self.sockets[id as usize].local = Some(SockAddr::new(host_addr, local.port));
            }
            Some(_) => {}
        }
        let local = self.sockets[id as usize].local.unwrap_or_default();
        if self.hosts[host].conns.contains_key(&(local, addr)) {
            return Outcome::Failed(Errno::EADDRNOTAVAIL);
        }
        self.sockets[id as usize].peer = Some(addr);
        self.sockets[id as usize].error = None;
        self.register_conn(id);
        self.emit_socket(id, SocketAction::Address);
        let iss = self.next_isn(host);
        self.init_sender(id, iss, mtu);
        self.set_state(id, State::SynSent, "connect() sends a SYN");
        self.send_syn(id, false, false);
        let rto = ms_to_us(self.settings(id).rto_initial_ms);
        self.sockets[id as usize].tcb.rto_us = rto;
        self.arm_timer(id, TimerKind::Retransmit, self.now + rto);
        if self.sockets[id as usize].nonblocking {
            Outcome::Failed(Errno::EINPROGRESS)
        } else {
            Outcome::Block(Some(id), "waiting for the SYN+ACK (three-way handshake)".into())
        }
    }

    pub(crate) fn sys_accept(&mut self, id: SocketId) -> Result<SocketId, Outcome> {
        let socket = &mut self.sockets[id as usize];
        if socket.state != State::Listen {
            return Err(Outcome::Failed(Errno::EINVAL));
        }
        match socket.accept_queue.pop_front() {
            Some(child) => {
                self.emit_socket(child, SocketAction::Accepted);
                self.sockets[child as usize].listener = None;
                self.queues_changed(id);
                Ok(child)
            }
            None if socket.nonblocking => Err(Outcome::Failed(Errno::EAGAIN)),
            None => {
                Err(Outcome::Block(Some(id), "the accept queue is empty: waiting for a completed connection".into()))
            }
        }
    }

    /// send(): queues what fits in SendQ. Returns the outcome and the bytes of `data`
    /// queued so far (`progress` carries over from earlier attempts of the same call,
    /// `start` is where this call began).
    pub(crate) fn sys_send(&mut self, id: SocketId, data: &[u8], progress: u32, start: u32) -> (Outcome, u32) {
        let socket = &mut self.sockets[id as usize];
        if socket.proto == Proto::Udp {
            return match socket.peer {
                Some(peer) => {
                    let outcome = self.send_datagram(id, peer, data);
                    (outcome, data.len() as u32)
                }
                None => (Outcome::Failed(Errno::ENOTCONN), progress),
            };
        }
        if let Some(errno) = socket.error.take() {
            return (Outcome::Failed(errno), progress);
        }
        let blocking = !socket.nonblocking;
        match socket.state {
            State::Established | State::CloseWait if !socket.shut_wr => {}
            State::SynSent | State::SynRecv => {
                return if blocking {
                    (Outcome::Block(Some(id), "waiting for the connection to be established".into()), progress)
                } else {
                    (Outcome::Failed(Errno::EAGAIN), progress)
                };
            }
            State::Closed | State::Listen if !socket.was_connected && !socket.shut_wr => {
                return (Outcome::Failed(Errno::ENOTCONN), progress);
            }
            _ => return (Outcome::Failed(Errno::EPIPE), progress),
        }
        let total = data.len() as u32;
        // tcp_sendmsg_locked() starts a new buffer whenever SendQ is below SO_SNDBUF
        // (sk_stream_memory_free()) and fills it up to the size goal, so SendQ can end up
        // to one buffer over the limit: a send() may take more than SO_SNDBUF allows.
        let goal = socket.tcb.size_goal();
        let queued_before = socket.send_q();
        let space =
            if queued_before < socket.sndbuf { (socket.sndbuf - queued_before).div_ceil(goal) * goal } else { 0 };
        let take = space.min(total - progress);
        if take > 0 {
            let chunk = &data[progress as usize..(progress + take) as usize];
            socket.tcb.send_buf.extend(chunk);
            socket.written.extend_from_slice(chunk);
            socket.tcb.write_seq = socket.tcb.write_seq.wrapping_add(take);
            let cut_short = take < total - progress;
            socket.tcb.unpushed_end = cut_short.then_some(socket.tcb.write_seq);
            self.tcp_output(id);
            self.queues_changed(id);
        }
        let queued = progress + take;
        if queued == total {
            return (Outcome::Done(i64::from(queued - start), None), queued);
        }
        if !blocking {
            return if queued > start {
                (Outcome::Done(i64::from(queued - start), None), queued)
            } else {
                (Outcome::Failed(Errno::EAGAIN), queued)
            };
        }
        let reason = format!(
            "SendQ is full ({} of {} bytes queued): waiting for the peer to acknowledge",
            queued - start,
            total - start
        );
        (Outcome::Block(Some(id), reason), queued)
    }

    pub(crate) fn send_datagram(&mut self, id: SocketId, to: SockAddr, data: &[u8]) -> Outcome {
        let host = self.host_of(id);
        if self.sockets[id as usize].local.is_none() {
            let ip = self.hosts[host].addr;
            if let Err(errno) = self.autobind(id, ip) {
                return Outcome::Failed(errno);
            }
        }
        let mut from = self.sockets[id as usize].local.unwrap_or_default();
        if from.ip.is_unspecified() {
            from.ip = self.hosts[host].addr;
        }
        let wire = Wire {
            id: 0,
            proto: Proto::Udp,
            from,
            to,
            flags: Flags::default(),
            seq: 0,
            ack: 0,
            win: 0,
            payload: data.to_vec(),
            options: TcpOptions::default(),
            retransmission: false,
            isn: None,
            why: None,
            dsack: false,
        };
        self.transmit(host, wire);
        Outcome::Done(data.len() as i64, None)
    }

    pub(crate) fn sys_recv(&mut self, id: SocketId, len: u32) -> Outcome {
        let socket = &mut self.sockets[id as usize];
        if socket.proto == Proto::Udp {
            return match socket.datagrams.pop_front() {
                Some((from, data)) => {
                    // A datagram is read whole or truncated; the rest is discarded (udp(7)).
                    let taken = data.len().min(len as usize) as u64;
                    socket.tcb.delivered += taken;
                    self.queues_changed(id);
                    Outcome::Done(taken as i64, Some(from.to_string()))
                }
                None if socket.nonblocking => Outcome::Failed(Errno::EAGAIN),
                None => Outcome::Block(Some(id), "no datagram has arrived yet".into()),
            };
        }
        if !socket.tcb.recv_buf.is_empty() {
            let take = (len as usize).min(socket.tcb.recv_buf.len());
            append_range(&socket.tcb.recv_buf, 0, take, &mut socket.read);
            socket.tcb.recv_buf.drain(..take);
            // A segment's memory is released once it has been read to its end.
            let mut left = take as u32;
            while let Some(front) = socket.tcb.recv_skbs.front_mut() {
                if *front > left {
                    *front -= left;
                    break;
                }
                left -= *front;
                socket.tcb.recv_skbs.pop_front();
            }
            socket.tcb.delivered += take as u64;
            self.queues_changed(id);
            self.ack_after_read(id);
            return Outcome::Done(take as i64, None);
        }
        if let Some(errno) = socket.error.take() {
            return Outcome::Failed(errno);
        }
        if socket.tcb.fin_rcvd || socket.shut_rd || (socket.state == State::Closed && socket.was_connected) {
            return Outcome::Done(0, None);
        }
        if matches!(socket.state, State::Closed | State::Listen) {
            return Outcome::Failed(Errno::ENOTCONN);
        }
        if socket.nonblocking {
            return Outcome::Failed(Errno::EAGAIN);
        }
        Outcome::Block(Some(id), "RecvQ is empty: waiting for data".into())
    }

    pub(crate) fn sys_shutdown(&mut self, id: SocketId, how: How) -> Outcome {
        let socket = &mut self.sockets[id as usize];
        if !socket.state.is_synchronized() && socket.state != State::SynRecv {
            return Outcome::Failed(Errno::ENOTCONN);
        }
        if matches!(how, How::Read | How::Both) {
            // Linux sends nothing for SHUT_RD: recv() returns 0 once RecvQ is drained.
            socket.shut_rd = true;
            self.wake(id);
        }
        if matches!(how, How::Write | How::Both) && !self.sockets[id as usize].shut_wr {
            self.queue_fin(id, "shutdown(SHUT_WR) queues a FIN");
        }
        Outcome::Done(0, None)
    }

    pub(crate) fn sys_setsockopt(&mut self, id: SocketId, opt: SockOpt) -> Outcome {
        let socket = &mut self.sockets[id as usize];
        match opt {
            SockOpt::ReuseAddr(on) => socket.reuseaddr = on,
            SockOpt::Linger(linger) => socket.linger = linger.onoff.then_some(linger.linger),
            // socket(7): the kernel doubles the value to leave room for bookkeeping.
            SockOpt::RcvBuf(bytes) => {
                socket.rcvbuf = bytes.min(RMEM_MAX).saturating_mul(2).max(MIN_RCVBUF);
                // sock_setsockopt() sets SOCK_RCVBUF_LOCK: autotuning stops and the window
                // scale offered later is chosen for this buffer (tcp_select_initial_window()).
                socket.rcvbuf_locked = true;
                self.queues_changed(id);
            }
            SockOpt::SndBuf(bytes) => {
                socket.sndbuf = bytes.min(WMEM_MAX).saturating_mul(2).max(MIN_SNDBUF);
                socket.sndbuf_locked = true;
                self.queues_changed(id);
            }
            SockOpt::NoDelay(on) => {
                socket.nodelay = on;
                if on {
                    // Setting TCP_NODELAY pushes whatever Nagle was holding back.
                    self.tcp_output(id);
                }
            }
            SockOpt::ReusePort(on) => socket.reuseport = on,
            SockOpt::QuickAck(on) => {
                // __tcp_sock_set_quickack(): 0 enters pingpong mode, so ACKs wait for a reply
                // or the delayed-ACK timer; 1 leaves it and sends an ACK that is owed.
                socket.tcb.pingpong = !on;
                if on && socket.tcb.ack_pending && socket.state.is_synchronized() {
                    self.send_ack(id);
                }
            }
            SockOpt::KeepAlive(on) => {
                socket.keepalive = on;
                if on && socket.state == State::Established {
                    let idle = ms_to_us(self.settings(id).keepalive_time_ms);
                    self.arm_timer(id, TimerKind::Keepalive, self.now + idle);
                } else if !on {
                    self.cancel_timer(id, TimerKind::Keepalive);
                }
            }
        }
        Outcome::Done(0, None)
    }

    pub(crate) fn sys_getsockopt(&mut self, id: SocketId, opt: OptName) -> Outcome {
        let socket = &mut self.sockets[id as usize];
        let value = match opt {
            OptName::ReuseAddr => u8::from(socket.reuseaddr).to_string(),
            OptName::NoDelay => u8::from(socket.nodelay).to_string(),
            OptName::KeepAlive => u8::from(socket.keepalive).to_string(),
            OptName::ReusePort => u8::from(socket.reuseport).to_string(),
            // do_tcp_getsockopt(): TCP_QUICKACK reads 1 unless the socket is in pingpong mode.
            OptName::QuickAck => u8::from(!socket.tcb.pingpong).to_string(),
            OptName::RcvBuf => socket.rcvbuf.to_string(),
            OptName::SndBuf => socket.sndbuf.to_string(),
            OptName::Linger => match socket.linger {
                Some(seconds) => format!("{{l_onoff=1, l_linger={seconds}}}"),
                None => "{l_onoff=0, l_linger=0}".to_string(),
            },
            OptName::Error => socket.error.take().map_or_else(|| "0".to_string(), |errno| errno.to_string()),
        };
        Outcome::Done(0, Some(value))
    }

    /// The last descriptor of a socket was closed (tcp_close()).
    pub(crate) fn last_close(&mut self, id: SocketId) {
        let socket = &self.sockets[id as usize];
        if socket.freed {
            return;
        }
        if socket.proto == Proto::Udp {
            self.free_socket(id);
            return;
        }
        match socket.state {
            State::Listen => {
                // Connections nobody accepted are reset (inet_csk_listen_stop()).
                let mut children: Vec<SocketId> = socket.syn_queue.clone();
                children.extend(socket.accept_queue.iter().copied());
                for child in children {
                    if self.sockets[child as usize].state != State::Closed {
                        self.send_rst(child);
                    }
                    self.sockets[child as usize].listener = None;
                    self.set_state(child, State::Closed, "its listener was closed before accept(): reset");
                    self.free_socket(child);
                }
                self.sockets[id as usize].syn_queue.clear();
                self.sockets[id as usize].accept_queue.clear();
                self.set_state(id, State::Closed, "close() on the listener");
                self.free_socket(id);
            }
            State::Closed => self.free_socket(id),
            State::SynSent => self.set_state(id, State::Closed, "close() while connecting: the attempt is abandoned"),
            _ if !socket.tcb.recv_buf.is_empty() => {
                // Linux: closing with unread data resets the connection (RFC 2525 2.17).
                self.send_rst(id);
                self.set_state(id, State::Closed, "close() with unread data in RecvQ: RST instead of FIN");
            }
            _ if socket.linger == Some(0) => {
                self.send_rst(id);
                self.set_state(id, State::Closed, "SO_LINGER {1, 0}: close() aborts with RST, SendQ is discarded");
            }
            State::Established | State::SynRecv | State::CloseWait => {
                if !socket.shut_wr {
                    self.queue_fin(id, "close() queues a FIN");
                }
                self.orphan_fin_wait2(id);
            }
            State::FinWait2 => self.orphan_fin_wait2(id),
            _ => {}
        }
    }

    /// An orphaned FIN_WAIT2 socket lives at most tcp_fin_timeout.
    fn orphan_fin_wait2(&mut self, id: SocketId) {
        let socket = &self.sockets[id as usize];
        if socket.refs == 0 && socket.state == State::FinWait2 && socket.timer(TimerKind::FinWait2).is_none() {
            let timeout = ms_to_us(self.settings(id).fin_timeout_ms);
            self.arm_timer(id, TimerKind::FinWait2, self.now + timeout);
        }
    }

    fn queue_fin(&mut self, id: SocketId, cause: &str) {
        let socket = &mut self.sockets[id as usize];
        socket.shut_wr = true;
        socket.tcb.fin_queued = true;
        match socket.state {
            State::Established | State::SynRecv => self.set_state(id, State::FinWait1, cause),
            State::CloseWait => self.set_state(id, State::LastAck, cause),
            _ => {}
        }
        self.tcp_output(id);
    }

    // ===== segments out =====

    /// Sets up the sending side for a new connection with initial sequence number `iss`.
    fn init_sender(&mut self, id: SocketId, iss: u32, mtu: u32) {
        let tcp = self.settings(id).clone();
        let adv_mss = tcp.mss.map_or_else(|| mtu.min(65_535) - 40, u32::from);
        let (rcvbuf, rcvbuf_locked) = (self.sockets[id as usize].rcvbuf, self.sockets[id as usize].rcvbuf_locked);
        let tcb = &mut self.sockets[id as usize].tcb;
        tcb.iss = iss;
        tcb.snd_una = iss;
        tcb.snd_nxt = iss.wrapping_add(1);
        tcb.snd_max = tcb.snd_nxt;
        tcb.write_seq = tcb.snd_nxt;
        tcb.snd_sml = iss;
        tcb.pushed_seq = iss.wrapping_add(1);
        tcb.adv_mss = adv_mss as u16;
        tcb.rcv_wscale = match (tcp.window_scaling, rcvbuf_locked) {
            (false, _) => 0,
            (true, false) => tcp.wscale,
            // With SO_RCVBUF set, Linux clamps the window to the buffer's share, tcp_full_space()
            // (half of it on a fresh socket), and picks the smallest shift that covers that:
            // ilog2(clamp) - 15, at most the shift its tcp_rmem[2] gives (tcp_connect_init(),
            // tcp_openreq_init_rwin(), tcp_select_initial_window()).
            (true, true) => {
                let full = win_from_space(tcb.scaling_ratio, i64::from(rcvbuf)).max(1) as u32;
                (full.ilog2().saturating_sub(15).min(TCP_MAX_WSCALE) as u8).min(tcp.wscale)
            }
        };
        tcb.rto_us = ms_to_us(tcp.rto_initial_ms);
        tcb.ssthresh = u32::MAX;
    }

    /// Takes the peer's SYN: its sequence number and options (RFC 793 3.4, RFC 7323).
    fn init_receiver(&mut self, id: SocketId, syn: &Wire, mtu: u32) {
        let tcp = self.settings(id).clone();
        let now = self.now;
        let tcb = &mut self.sockets[id as usize].tcb;
        tcb.irs = syn.seq;
        tcb.rcv_nxt = syn.seq.wrapping_add(1);
        tcb.rcv_wup = tcb.rcv_nxt;
        match syn.options.wscale {
            Some(shift) if tcp.window_scaling => tcb.snd_wscale = shift.min(14),
            _ => {
                tcb.snd_wscale = 0;
                tcb.rcv_wscale = 0;
            }
        }
        tcb.timestamps = tcp.timestamps && syn.options.ts.is_some();
        tcb.sack_ok = tcp.sack && syn.options.sack_ok;
        if let Some((value, _)) = syn.options.ts {
            tcb.ts_recent = value;
        }
        let peer_mss = syn.options.mss.map_or(TCP_MSS_DEFAULT, u32::from);
        tcb.mss_clamp = peer_mss;
        let path_mss = mtu.min(65_535) - 40;
        let overhead = if tcb.timestamps { TIMESTAMPS_LEN } else { 0 };
        tcb.mss = peer_mss.min(path_mss).saturating_sub(overhead).max(1);
        tcb.snd_wnd = u32::from(syn.win);
        // The window of a SYN is never scaled; it is the first `max_window`
        // (tcp_rcv_synsent_state_process(), tcp_create_openreq_child()).
        tcb.max_window = tcb.snd_wnd;
        tcb.snd_wl1 = syn.seq;
        tcb.snd_wl2 = syn.ack;
        tcb.cwnd = tcp.initial_cwnd.saturating_mul(tcb.mss);
        tcb.last_heard_at = now;
    }

    fn syn_options(&self, id: SocketId, answering: bool) -> TcpOptions {
        let tcp = self.settings(id);
        let tcb = &self.sockets[id as usize].tcb;
        // On a SYN+ACK only what the peer offered is echoed back.
        let scaling = tcp.window_scaling && (!answering || tcb.snd_wscale > 0 || tcb.rcv_wscale > 0);
        TcpOptions {
            mss: Some(tcb.adv_mss),
            sack_ok: if answering { tcb.sack_ok } else { tcp.sack },
            ts: None,
            wscale: scaling.then_some(tcb.rcv_wscale),
        }
    }

    /// Sends (or resends) our SYN, or our SYN+ACK when `answering`.
    fn send_syn(&mut self, id: SocketId, answering: bool, retransmission: bool) {
        let mut options = self.syn_options(id, answering);
        if answering && self.sockets[id as usize].tcb.rcv_wscale == 0 && self.sockets[id as usize].tcb.snd_wscale == 0 {
            options.wscale = None;
        }
        let flags = if answering { Flags::SYN_ACK } else { Flags::SYN };
        let seq = self.sockets[id as usize].tcb.iss;
        if !retransmission {
            self.sockets[id as usize].tcb.rtt_probe = Some((seq.wrapping_add(1), self.now));
        }
        self.send_segment(id, flags, seq, Vec::new(), options, retransmission);
    }

    /// The window we advertise on a SYN: never scaled (RFC 7323 2.2). It is chosen once, by
    /// the first SYN or SYN+ACK, and repeated on retransmissions.
    fn syn_window(&mut self, id: SocketId, answering: bool) -> u16 {
        if self.sockets[id as usize].tcb.window_clamp == 0 {
            self.choose_initial_window(id, answering);
        }
        let tcb = &mut self.sockets[id as usize].tcb;
        tcb.rcv_wnd_max = tcb.rcv_wnd_max.max(tcb.rcv_wnd);
        tcb.rcv_wup = tcb.rcv_nxt;
        // tcp_transmit_skb(): a SYN carries min(rcv_wnd, 65535).
        tcb.rcv_wnd.min(65_535) as u16
    }

    /// `tcp_select_initial_window()` as `tcp_connect_init()` (active open) and
    /// `tcp_openreq_init_rwin()` (SYN+ACK) call it: the buffer's share, `tcp_full_space()`,
    /// within the window clamp, rounded down to a multiple of the MSS. That MSS is the one we
    /// announce, less the 12 timestamp bytes on a SYN+ACK answering a SYN with timestamps, so
    /// on loopback a SYN says 65495 and a SYN+ACK 65483, and on a 1460-byte-MSS path 64240.
    /// The scenario's `window_clamp` plays TCP_WINDOW_CLAMP (or a route's `window`), except
    /// that the shift announced stays the scenario's `wscale`; SO_RCVBUF clamps the window to
    /// the buffer's share.
    fn choose_initial_window(&mut self, id: SocketId, answering: bool) {
        let socket = &self.sockets[id as usize];
        let setting = self.hosts[socket.host].tcp.window_clamp.unwrap_or(0);
        let tcb = &socket.tcb;
        let full = win_from_space(tcb.scaling_ratio, i64::from(socket.rcvbuf)).max(0) as u32;
        let mut clamp = setting;
        if socket.rcvbuf_locked && (clamp == 0 || clamp > full) {
            clamp = full;
        }
        if clamp == 0 {
            clamp = 65_535 << TCP_MAX_WSCALE;
        }
        let overhead = if answering && tcb.timestamps { TIMESTAMPS_LEN } else { 0 };
        let mss = u32::from(tcb.adv_mss).saturating_sub(overhead).max(1);
        let mut space = full.min(clamp);
        if space > mss {
            space -= space % mss;
        }
        let tcb = &mut self.sockets[id as usize].tcb;
        tcb.rcv_wnd = space;
        tcb.rcv_ssthresh = space;
        tcb.window_clamp = clamp.min(65_535u32 << tcb.rcv_wscale).max(1);
    }

    /// `tcp_init_buffer_space()`, when the connection is established: the clamp becomes at most
    /// the buffer's share, less one segment's room when it would otherwise fill it
    /// (`tcp_app_win` = 31, "force reservation of one segment"); rcv_ssthresh follows.
    fn init_buffer_space(&mut self, id: SocketId) {
        let socket = &self.sockets[id as usize];
        let maxwin = win_from_space(socket.tcb.scaling_ratio, i64::from(socket.rcvbuf)).max(0) as u32;
        let advmss = self.own_mss(id);
        let tcb = &mut self.sockets[id as usize].tcb;
        let mut clamp = tcb.window_clamp.min(maxwin);
        if clamp > 2 * advmss && clamp + advmss > maxwin {
            clamp = (2 * advmss).max(maxwin.saturating_sub(advmss));
        }
        tcb.window_clamp = clamp.max(1);
        tcb.rcv_ssthresh = tcb.rcv_ssthresh.min(tcb.window_clamp);
        // tcp_initialize_rcv_mss(): before any data, guess the peer's MSS as at most our MSS,
        // its MSS, half our window and TCP_MSS_DEFAULT.
        tcb.ack_rcv_mss = advmss.min(tcb.mss).min(tcb.rcv_wnd / 2).clamp(TCP_MIN_MSS, TCP_MSS_DEFAULT);
    }

    /// Linux's `tp->advmss`: the MSS we announced, less the timestamp option once both sides
    /// use it.
    fn own_mss(&self, id: SocketId) -> u32 {
        let tcb = &self.sockets[id as usize].tcb;
        let overhead = if tcb.timestamps { TIMESTAMPS_LEN } else { 0 };
        u32::from(tcb.adv_mss).saturating_sub(overhead).max(1)
    }

    /// `tcp_space()`: payload bytes the free buffer memory would hold (negative when the
    /// queue is charged more than SO_RCVBUF).
    fn rcv_space(&self, id: SocketId) -> i64 {
        let socket = &self.sockets[id as usize];
        let free = i64::from(socket.rcvbuf) - i64::from(socket.rmem_alloc());
        win_from_space(socket.tcb.scaling_ratio, free)
    }

    /// The window Linux would offer now (`__tcp_select_window()`), before the no-shrink rule:
    /// the free buffer's share, at most rcv_ssthresh; nothing at all when that is under a
    /// sixteenth of the buffer's share or under one segment and less than half the window
    /// could be (receiver-side silly window avoidance, RFC 1122 4.2.3.3).
    pub(crate) fn compute_window(&self, id: SocketId) -> u32 {
        let socket = &self.sockets[id as usize];
        let tcb = &socket.tcb;
        let allowed = win_from_space(tcb.scaling_ratio, i64::from(socket.rcvbuf));
        let clamp = if tcb.window_clamp == 0 { 65_535i64 << tcb.rcv_wscale } else { i64::from(tcb.window_clamp) };
        let full = clamp.min(allowed);
        let mut mss = i64::from(if tcb.ack_rcv_mss > 0 {
            tcb.ack_rcv_mss
        } else {
            tcb.rcv_mss.max(TCP_MSS_DEFAULT.min(u32::from(tcb.adv_mss)))
        });
        if mss > full {
            mss = full;
            if mss <= 0 {
                return 0;
            }
        }
        let unit = 1i64 << tcb.rcv_wscale;
        let mut free = self.rcv_space(id);
        if free < full / 2 {
            // Do not let the scale's rounding raise a window that may become the new one.
            free = free.div_euclid(unit) * unit;
            if free < allowed >> 4 || free < mss {
                return 0;
            }
        }
        free = free.min(i64::from(tcb.rcv_ssthresh));
        let window = if tcb.rcv_wscale > 0 {
            // Round up so that the scaling does not turn a small window into 0.
            (free + unit - 1) / unit * unit
        } else {
            // Without scaling: a multiple of the MSS, kept as it is while within one MSS.
            let window = i64::from(tcb.rcv_wnd);
            if window <= free - mss || window > free {
                free / mss * mss
            } else if mss == full && free > window + full / 2 {
                free
            } else {
                window
            }
        };
        window.clamp(0, i64::from(u32::MAX)) as u32
    }

    /// Chooses and records the window to advertise now (`tcp_select_window()`): the right
    /// edge we promised never moves left.
    fn select_window(&mut self, id: SocketId) -> u16 {
        let mut window = self.compute_window(id);
        let tcb = &mut self.sockets[id as usize].tcb;
        let promised = tcb.rcv_wup.wrapping_add(tcb.rcv_wnd).wrapping_sub(tcb.rcv_nxt) as i32;
        let unit = 1u32 << tcb.rcv_wscale;
        if promised > 0 && window < promised as u32 {
            window = (promised as u32).div_ceil(unit) * unit;
        }
        window = window.min(65_535u32 << tcb.rcv_wscale);
        tcb.rcv_wnd = window;
        tcb.rcv_wnd_max = tcb.rcv_wnd_max.max(window);
        tcb.rcv_wup = tcb.rcv_nxt;
        (window >> tcb.rcv_wscale) as u16
    }

    /// Builds and transmits one segment from socket `id`; every ACK we send settles the ACK
    /// we owed (`tcp_event_ack_sent()`).
    fn send_segment(
        &mut self,
        id: SocketId,
        flags: Flags,
        seq: u32,
        payload: Vec<u8>,
        options: TcpOptions,
        retransmission: bool,
    ) {
        self.send_outgoing(id, Outgoing { flags, seq, payload, retransmission, why: None }, options);
    }

    /// Transmits `segment` with `options` (the timestamp is added here), as
    /// [`World::send_segment`] describes; its `why` goes into the trace.
    fn send_outgoing(&mut self, id: SocketId, segment: Outgoing, mut options: TcpOptions) {
        let Outgoing { flags, seq, payload, retransmission, why } = segment;
        let win = if flags.syn { self.syn_window(id, flags.ack) } else { self.select_window(id) };
        let host = self.host_of(id);
        let offer_ts = flags.syn && !flags.ack && self.hosts[host].tcp.timestamps;
        let socket = &mut self.sockets[id as usize];
        let tcb = &mut socket.tcb;
        if tcb.timestamps || offer_ts {
            let echo = if flags.ack { tcb.ts_recent } else { 0 };
            options.ts = Some((ts_clock(self.now, self.hosts[host].addr), echo));
        }
        let ack = if flags.ack { tcb.rcv_nxt } else { 0 };
        // A D-SACK block rides on the next ACK only (tcp_dsack_set(), cleared once sent).
        let dsack = flags.ack && std::mem::take(&mut tcb.dsack_pending);
        if flags.ack {
            // tcp_event_ack_sent(): the delayed-ACK state is cleared (icsk_ack.pending = 0).
            tcb.ack_pending = false;
            tcb.ack_pushed = 0;
            tcb.quick = tcb.quick.saturating_sub(1);
        }
        let wire = Wire {
            id: 0,
            proto: Proto::Tcp,
            from: socket.local.unwrap_or_default(),
            to: socket.peer.unwrap_or_default(),
            flags,
            seq,
            ack,
            win,
            payload,
            options,
            retransmission,
            isn: Some(tcb.iss),
            why,
            dsack,
        };
        if flags.ack {
            self.cancel_timer(id, TimerKind::DelayedAck);
        }
        self.transmit(host, wire);
    }

    fn send_ack(&mut self, id: SocketId) {
        // As for an RST: the highest sequence number sent, which is Linux's snd_nxt (ours
        // moves back after a timeout), so the peer finds the ACK acceptable.
        let seq = self.sockets[id as usize].tcb.snd_max;
        self.send_segment(id, Flags::ACK, seq, Vec::new(), TcpOptions::default(), false);
    }

    /// An abortive RST from a connection (tcp_send_active_reset()).
    fn send_rst(&mut self, id: SocketId) {
        // Linux's snd_nxt never moves back on a timeout; ours does (go-back-N), so the
        // highest sequence number sent is the one Linux would use (tcp_acceptable_seq()).
        let seq = self.sockets[id as usize].tcb.snd_max;
        self.send_segment(id, Flags::RST_ACK, seq, Vec::new(), TcpOptions::default(), false);
    }

    /// A probe with an old sequence number: the peer must answer with an ACK that shows its
    /// window (zero-window probe) or that it is alive (keepalive).
    fn send_probe(&mut self, id: SocketId) {
        let seq = self.sockets[id as usize].tcb.snd_una.wrapping_sub(1);
        self.send_segment(id, Flags::ACK, seq, Vec::new(), TcpOptions::default(), false);
    }

    /// Answers a segment that belongs to no connection (tcp_v4_send_reset(), RFC 793 3.4).
    fn reply_rst(&mut self, host: usize, to: &Wire) {
        if to.flags.rst {
            return;
        }
        let (flags, seq, ack) =
            if to.flags.ack { (Flags::RST, to.ack, 0) } else { (Flags::RST_ACK, 0, to.seq.wrapping_add(to.seq_len())) };
        let wire = Wire {
            id: 0,
            proto: Proto::Tcp,
            from: to.to,
            to: to.from,
            flags,
            seq,
            ack,
            win: 0,
            payload: Vec::new(),
            options: TcpOptions::default(),
            retransmission: false,
            isn: None,
            why: None,
            dsack: false,
        };
        self.transmit(host, wire);
    }

    /// Sends what SendQ, the peer's window, the congestion window and Nagle allow
    /// (tcp_write_xmit()), then a FIN if one is queued and everything before it is out.
    pub(crate) fn tcp_output(&mut self, id: SocketId) {
        self.write_xmit(id, false);
    }

    /// `tcp_write_xmit()`. With `loss_probe` it sends at most one segment and ignores the
    /// congestion window and Nagle, as a tail loss probe that sends new data does
    /// (`tcp_send_loss_probe()` calls it with `push_one` = 2 and `TCP_NAGLE_OFF`). Returns
    /// whether it sent anything.
    fn write_xmit(&mut self, id: SocketId, loss_probe: bool) -> bool {
        if !may_transmit(self.sockets[id as usize].state) {
            return false;
        }
        let mut sent_new = false;
        // The segments of the TSO packet being built, and how many it may hold.
        let mut packet: Vec<Outgoing> = Vec::new();
        let mut packet_quota = 1;
        loop {
            let now = self.now;
            let delack = ms_to_us(self.settings(id).delack_ms);
            let socket = &self.sockets[id as usize];
            let tcb = &socket.tcb;
            let (unsent, fin_unsent) = (tcb.unsent(), tcb.fin_unsent());
            let in_flight = socket.in_flight();
            // Linux's mss_now: our MSS toward the peer, at most half its largest window.
            let mss_now = tcb.mss_now();
            if unsent > 0 {
                let unsent = unsent as u32;
                let room = tcb.snd_wnd.saturating_sub(in_flight);
                // A loss probe goes out whatever the congestion window says.
                let cwnd_room = if loss_probe { u32::MAX } else { tcb.cwnd.saturating_sub(in_flight) };
                let len = unsent.min(mss_now).min(room).min(cwnd_room);
                if len == 0 {
                    if room == 0 && in_flight == 0 {
                        let backoff = tcb.rto_us.max(ms_to_us(self.settings(id).rto_min_ms));
                        self.ensure_timer(id, TimerKind::Persist, now + backoff);
                    }
                    break;
                }
                if len < mss_now {
                    let is_tail = len == unsent;
                    if !is_tail && in_flight > 0 {
                        // Sender-side silly window avoidance: wait for a bigger window.
                        break;
                    }
                    // Nagle (RFC 896) with Minshall's refinement, as Linux: hold a small
                    // segment while an earlier small segment is unacknowledged.
                    if is_tail && !loss_probe && !socket.nodelay && in_flight > 0 && seq_gt(tcb.snd_sml, tcb.snd_una) {
                        break;
                    }
                }
                let seq = tcb.snd_nxt;
                let offset = seq.wrapping_sub(tcb.snd_una) as usize;
                let payload = copy_range(&tcb.send_buf, offset, len as usize);
                let end = seq.wrapping_add(len);
                let with_fin = tcb.fin_queued && end == tcb.write_seq;
                let retransmission = seq_lt(seq, tcb.snd_max);
                // PSH marks the end of what the application has written, and also any segment
                // that ends more than half the peer's largest window after the last PSH
                // (forced_push(), tcp_mark_push()).
                let forced = end.wrapping_sub(tcb.pushed_seq) > tcb.max_window / 2 && seq_gt(end, tcb.pushed_seq);
                let psh = (end == tcb.write_seq && tcb.unpushed_end != Some(end)) || forced;
                let flags = Flags { ack: true, psh, fin: with_fin, ..Flags::default() };
                // Linux compares with the ACK timeout `ato`, which stays 0 until the first data
                // segment arrives (tcp_event_data_recv()), so a request sent right after the
                // handshake does not count as a reply (tcp_event_data_sent()).
                let replying = tcb.rcv_mss > 0 && tcb.last_rcv_at.is_some_and(|at| now.saturating_sub(at) < delack);
                let tcb = &mut self.sockets[id as usize].tcb;
                tcb.snd_nxt = end.wrapping_add(u32::from(with_fin));
                if len < mss_now {
                    tcb.snd_sml = end;
                }
                if psh && seq_gt(end, tcb.pushed_seq) {
                    tcb.pushed_seq = end;
                }
                if tcb.rtt_probe.is_none() && !retransmission {
                    tcb.rtt_probe = Some((tcb.snd_nxt, now));
                }
                if replying {
                    // A reply within the ACK delay of the last data received: interactive
                    // ("pingpong") mode, so ACKs will ride on replies (tcp_event_data_sent()).
                    tcb.pingpong = true;
                }
                let segment =
                    Outgoing { flags, seq, payload, retransmission, why: loss_probe.then_some(LOSS_PROBE_REASON) };
                if retransmission || loss_probe {
                    sent_new |= self.transmit_packet(id, &mut packet);
                    sent_new |= self.transmit_packet(id, &mut vec![segment]);
                } else {
                    if packet.is_empty() {
                        packet_quota = self.tso_packet_quota(id);
                    }
                    packet.push(segment);
                    // A TSO packet ends where the written data (an skb) ends, or when it
                    // holds as many segments as the congestion window lets one packet take.
                    if psh || with_fin || packet.len() as u32 >= packet_quota {
                        sent_new |= self.transmit_packet(id, &mut packet);
                    }
                }
                if with_fin || loss_probe {
                    break;
                }
                continue;
            }
            sent_new |= self.transmit_packet(id, &mut packet);
            let tcb = &self.sockets[id as usize].tcb;
            if fin_unsent && tcb.snd_nxt == tcb.write_seq {
                let seq = tcb.snd_nxt;
                let retransmission = seq_lt(seq, tcb.snd_max);
                self.sockets[id as usize].tcb.snd_nxt = seq.wrapping_add(1);
                let fin = Outgoing {
                    flags: Flags { fin: true, ack: true, ..Flags::default() },
                    seq,
                    payload: Vec::new(),
                    retransmission,
                    why: loss_probe.then_some(LOSS_PROBE_REASON),
                };
                sent_new |= self.transmit_packet(id, &mut vec![fin]);
            }
            break;
        }
        sent_new |= self.transmit_packet(id, &mut packet);
        // tcp_write_xmit(): after sending new data, schedule one loss probe per tail loss
        // episode, unless this was the probe itself.
        if sent_new && !loss_probe {
            self.schedule_loss_probe(id, false);
        }
        sent_new
    }

    /// How many segments the next TSO packet may carry. `tcp_write_xmit()` cuts a packet
    /// from the head skb at min(`tcp_cwnd_test()`, `tcp_tso_segs()`) segments
    /// (`tcp_mss_split_point()`): what the congestion window leaves, at most half of it so
    /// that at least two packets are in flight, and the pacing-rate size of
    /// `tcp_tso_autosize()` (2 segments at a 20 ms round trip, 64 KB on loopback). A packet
    /// never spans two skbs, which `tcp_sendmsg()` fills to the size goal
    /// (`tcp_xmit_size_goal()`); they are taken as full here. The window is counted in
    /// segments, as Linux's `snd_cwnd`.
    fn tso_packet_quota(&self, id: SocketId) -> u32 {
        let tcb = &self.sockets[id as usize].tcb;
        let cwnd = (tcb.cwnd / tcb.mss.max(1)).max(1);
        let in_flight = tcb.unacked_segments.len() as u32;
        let cwnd_quota = (cwnd / 2).max(1).min(cwnd.saturating_sub(in_flight)).max(1);
        let mss_now = tcb.mss_now().max(1);
        let skb_segments = (tcb.size_goal() / mss_now).max(1);
        cwnd_quota.min(tso_autosize(tcb, mss_now)).min(skb_segments)
    }

    /// Puts the segments of one TSO packet on the wire, one per MSS as a device without
    /// segmentation offload does (`lo` as the validator sets it up, or software GSO). Linux
    /// marks PSH on every packet of more than one segment, which after segmentation shows
    /// on its last segment only (`__tcp_transmit_skb()`: "Force a PSH flag on all (GSO)
    /// packets", `tcp_gso_segment()`). Returns whether any segment carried new data.
    fn transmit_packet(&mut self, id: SocketId, packet: &mut Vec<Outgoing>) -> bool {
        if packet.len() > 1 {
            if let Some(last) = packet.last_mut() {
                last.flags.psh = true;
            }
        }
        let mut sent_new = false;
        for segment in packet.drain(..) {
            sent_new |= self.record_transmission(id, segment.seq, segment.end());
            self.send_outgoing(id, segment, TcpOptions::default());
            self.retransmit_timer_after_send(id);
        }
        sent_new
    }

    /// Notes that `[seq, end)` (a FIN counting one) was transmitted now: a new segment joins
    /// the unacknowledged ones and moves snd_max; a resent one gets a new transmission time.
    /// Returns whether the segment carried anything never sent before.
    ///
    /// Linux keeps its retransmission queue as an rbtree of skbs and stamps only the skb it
    /// sends (`tcp_transmit_skb()` sets `skb_mstamp_ns`); here the queue is a deque sorted
    /// by where each segment ends, so new data (at or beyond snd_max) touches nothing and a
    /// retransmission finds its first segment by binary search and stops at its end. A
    /// scan of the whole queue for every segment sent made bulk transfers with large
    /// windows quadratic.
    fn record_transmission(&mut self, id: SocketId, seq: u32, end: u32) -> bool {
        let now = self.now;
        let tcb = &mut self.sockets[id as usize].tcb;
        if seq_lt(seq, tcb.snd_max) {
            // The queue's ends all lie within one window after snd_una, so "ends at or
            // before seq" holds for a prefix of it.
            let first = tcb.unacked_segments.partition_point(|&(segment_end, _)| seq_le(segment_end, seq));
            for (segment_end, sent_at) in tcb.unacked_segments.range_mut(first..) {
                if seq_gt(*segment_end, end) {
                    break;
                }
                *sent_at = now;
            }
        }
        if seq_gt(end, tcb.snd_max) {
            tcb.snd_max = end;
            tcb.unacked_segments.push_back((end, now));
            return true;
        }
        false
    }

    /// The retransmission timer after a segment went out (`tcp_event_new_data_sent()`): it
    /// starts if it was not running; if the loss probe timer held the kernel's one timer,
    /// the retransmission timeout takes it back, counted from the oldest unacknowledged
    /// segment (`tcp_rearm_rto()`).
    fn retransmit_timer_after_send(&mut self, id: SocketId) {
        if self.sockets[id as usize].timer(TimerKind::LossProbe).is_some() {
            self.rearm_rto(id);
        } else {
            let rto = self.sockets[id as usize].tcb.rto_us;
            self.ensure_timer(id, TimerKind::Retransmit, self.now + rto);
        }
    }

    /// After the application read some bytes (`tcp_cleanup_rbuf()`): an owed ACK goes out at
    /// once if more than one full segment is unacknowledged, or if the read emptied the queue
    /// after a small (pushed) segment and the connection is not interactive (pingpong) — or,
    /// with two small segments waiting, even when it is. Otherwise a window that has at least
    /// doubled is announced, so a sender stalled on a small window can go on.
    fn ack_after_read(&mut self, id: SocketId) {
        let socket = &self.sockets[id as usize];
        let tcb = &socket.tcb;
        if tcb.ack_pending {
            let unacked = tcb.rcv_nxt.wrapping_sub(tcb.rcv_wup);
            let pushed = tcb.ack_pushed == 2 || (tcb.ack_pushed == 1 && !tcb.pingpong);
            if unacked > tcb.ack_rcv_mss || (pushed && socket.rmem_alloc() == 0) {
                self.send_ack(id);
                return;
            }
        }
        let socket = &self.sockets[id as usize];
        if !matches!(socket.state, State::Established | State::FinWait1 | State::FinWait2) || socket.tcb.fin_rcvd {
            return;
        }
        let tcb = &socket.tcb;
        let now_window = tcb.rcv_wup.wrapping_add(tcb.rcv_wnd).wrapping_sub(tcb.rcv_nxt) as i32;
        let now_window = now_window.max(0) as u32;
        if 2 * now_window <= tcb.window_clamp {
            let new_window = self.compute_window(id);
            if new_window > 0 && new_window >= 2 * now_window {
                self.send_ack(id);
            }
        }
    }

    // ===== segments in =====

    pub(crate) fn tcp_deliver(&mut self, host: usize, wire: Wire) {
        let conn = self.hosts[host].conns.get(&(wire.to, wire.from)).copied();
        if let Some(id) = conn {
            self.emit_segment(&wire, crate::trace::Fate::Delivered, None);
            self.tcp_input(id, &wire);
            return;
        }
        let listener = self.lookup_bound(host, Proto::Tcp, wire.to, None);
        match listener {
            Some(listener) if wire.flags.syn && !wire.flags.ack && !wire.flags.rst => {
                let socket = &self.sockets[listener as usize];
                if socket.accept_queue.len() as u32 > socket.backlog {
                    // sk_acceptq_is_full(): the SYN is dropped without an answer; the client
                    // will retransmit it after its RTO.
                    let reason = format!(
                        "the accept queue is full ({} of backlog+1 = {}): SYN dropped, no RST",
                        socket.accept_queue.len(),
                        socket.backlog + 1
                    );
                    self.emit_segment(&wire, crate::trace::Fate::Dropped, Some(reason));
                    return;
                }
                self.emit_segment(&wire, crate::trace::Fate::Delivered, None);
                self.listen_syn(listener, &wire);
            }
            _ => {
                self.emit_segment(&wire, crate::trace::Fate::Delivered, None);
                self.reply_rst(host, &wire);
            }
        }
    }

    /// A SYN reached a listener: a new connection in SYN_RECV joins its SYN queue.
    fn listen_syn(&mut self, listener: SocketId, syn: &Wire) {
        let host = self.host_of(listener);
        let mtu = self.route(host, syn.from.ip).map_or(LOOPBACK_MTU, |(_, _, mtu)| mtu);
        let child = self.new_socket(host, Proto::Tcp);
        let parent = self.sockets[listener as usize].clone_options();
        let socket = &mut self.sockets[child as usize];
        parent.apply_to(socket);
        socket.listener = Some(listener);
        socket.local = Some(syn.to);
        socket.peer = Some(syn.from);
        self.claim_port(child, syn.to.port);
        self.register_conn(child);
        self.emit_socket(child, SocketAction::Create);
        self.queues_changed(child);
        let iss = self.next_isn(host);
        self.init_sender(child, iss, mtu);
        self.init_receiver(child, syn, mtu);
        self.sockets[listener as usize].syn_queue.push(child);
        self.set_state(child, State::SynRecv, "a SYN reached the listener: the new connection waits in its SYN queue");
        self.queues_changed(listener);
        self.send_syn(child, true, false);
        let rto = ms_to_us(self.settings(child).rto_initial_ms);
        self.arm_timer(child, TimerKind::Retransmit, self.now + rto);
    }

    fn tcp_input(&mut self, id: SocketId, wire: &Wire) {
        let now = self.now;
        let tcb = &mut self.sockets[id as usize].tcb;
        tcb.last_heard_at = now;
        tcb.probes = 0;
        if tcb.timestamps {
            if let Some((value, _)) = wire.options.ts {
                tcb.ts_recent = value;
            }
        }
        match self.sockets[id as usize].state {
            State::Closed | State::Listen => {
                let host = self.host_of(id);
                self.reply_rst(host, wire);
            }
            State::SynSent => self.syn_sent_input(id, wire),
            State::TimeWait => self.time_wait_input(id, wire),
            _ => self.synchronized_input(id, wire),
        }
    }

    fn syn_sent_input(&mut self, id: SocketId, wire: &Wire) {
        let iss = self.sockets[id as usize].tcb.iss;
        if wire.flags.ack && wire.ack != iss.wrapping_add(1) {
            // Perhaps a stale connection's FIN/ACK or RST/ACK that our RST will clear away:
            // unless the SYN was already resent, resend it very soon
            // (tcp_rcv_synsent_state_process(), TCP_TIMEOUT_MIN).
            if self.sockets[id as usize].tcb.retransmits == 0 {
                self.arm_timer(id, TimerKind::Retransmit, self.now + TCP_TIMEOUT_MIN_JIFFIES_US);
            }
            let host = self.host_of(id);
            self.reply_rst(host, wire);
            return;
        }
        if wire.flags.rst {
            if wire.flags.ack {
                self.sockets[id as usize].error = Some(Errno::ECONNREFUSED);
                self.set_state(id, State::Closed, "RST in answer to our SYN: nobody listens on that port");
            }
            return;
        }
        if !wire.flags.syn {
            return;
        }
        let host = self.host_of(id);
        let mtu = self.route(host, wire.from.ip).map_or(LOOPBACK_MTU, |(_, _, mtu)| mtu);
        self.init_receiver(id, wire, mtu);
        if wire.flags.ack {
            self.handshake_acked(id, wire);
            self.sockets[id as usize].tcb.last_rcv_at = Some(self.now);
            self.set_state(id, State::Established, "the SYN+ACK arrived: connect() returns");
            self.send_ack(id);
            self.start_keepalive(id);
            self.tcp_output(id);
        } else {
            self.set_state(id, State::SynRecv, "a SYN arrived while ours was out: simultaneous open");
            self.send_syn(id, true, false);
        }
    }

    /// Linux grows SendQ as a connection is established and as its congestion window grows
    /// (`tcp_sndbuf_expand()`): room for `factor` windows of at least ten segments, each
    /// costing a power-of-two buffer plus its `sk_buff`, up to `tcp_wmem[2]` — unless the
    /// program fixed SO_SNDBUF. The factor is the congestion-control module's
    /// (`bbr_sndbuf_expand()` asks for 3, the default for others is 2).
    fn sndbuf_expand(&mut self, id: SocketId) {
        let tcp = self.settings(id);
        let (factor, limit) = (if tcp.congestion_control == "bbr" { 3 } else { 2 }, tcp.wmem_max);
        let socket = &mut self.sockets[id as usize];
        if socket.sndbuf_locked || socket.proto != Proto::Tcp {
            return;
        }
        let tcb = &socket.tcb;
        // MAX_TCP_HEADER and the aligned skb_shared_info are 320 bytes each on x86-64, and
        // an sk_buff takes 256 (SKB_DATA_ALIGN(sizeof(struct sk_buff))).
        let per_mss = u64::from(tcb.mss_clamp.max(tcb.mss) + 320 + 320).next_power_of_two() + 256;
        let segments = u64::from((tcb.cwnd / tcb.mss.max(1)).max(10));
        let wanted = (factor * segments * per_mss).min(u64::from(limit)) as u32;
        if wanted > socket.sndbuf {
            socket.sndbuf = wanted;
            self.queues_changed(id);
        }
    }

    /// Our SYN is acknowledged: take an RTT sample (Karn: only if it was never resent).
    fn handshake_acked(&mut self, id: SocketId, wire: &Wire) {
        let now = self.now;
        let tcp = self.settings(id).clone();
        let tcb = &mut self.sockets[id as usize].tcb;
        tcb.snd_una = tcb.iss.wrapping_add(1);
        if seq_lt(tcb.snd_nxt, tcb.snd_una) {
            tcb.snd_nxt = tcb.snd_una;
        }
        if !wire.flags.syn {
            tcb.snd_wnd = u32::from(wire.win) << tcb.snd_wscale;
            tcb.max_window = tcb.max_window.max(tcb.snd_wnd);
            tcb.snd_wl1 = wire.seq;
            tcb.snd_wl2 = wire.ack;
        }
        if let Some((_, sent)) = tcb.rtt_probe.take() {
            if tcb.retransmits == 0 {
                rtt_sample(tcb, now - sent, &tcp);
            }
        }
        tcb.retransmits = 0;
        // The handshake's ACK sets the first pacing rate: tcp_ack() -> tcp_cong_control()
        // for an active open, tcp_rcv_state_process() after tcp_synack_rtt_meas() for a
        // passive one.
        update_pacing_rate(tcb);
        self.cancel_timer(id, TimerKind::Retransmit);
        self.init_buffer_space(id);
        // tcp_init_buffer_space() sizes SendQ for the new connection.
        self.sndbuf_expand(id);
    }

    fn start_keepalive(&mut self, id: SocketId) {
        if self.sockets[id as usize].keepalive {
            let idle = ms_to_us(self.settings(id).keepalive_time_ms);
            self.arm_timer(id, TimerKind::Keepalive, self.now + idle);
        }
    }

    /// A segment for a TIME_WAIT socket, handled as Linux's `tcp_timewait_state_process()`.
    fn time_wait_input(&mut self, id: SocketId, wire: &Wire) {
        let rcv_nxt = self.sockets[id as usize].tcb.rcv_nxt;
        let two_msl = two_msl_us(self.settings(id));
        if wire.seq == rcv_nxt && (wire.seq_len() == 0 || wire.flags.rst) {
            // Exactly at rcv_nxt only an RST or a bare ACK can come: the RST ends TIME_WAIT
            // (tcp_rfc1337 = 0, Linux's default), the ACK restarts it, neither is answered.
            if wire.flags.rst {
                self.set_state(id, State::Closed, "an RST ends TIME_WAIT early (Linux does not enforce RFC 1337)");
            } else {
                self.arm_timer(id, TimerKind::TimeWait, self.now + two_msl);
            }
            return;
        }
        if wire.flags.rst {
            // An RST at any other sequence number is ignored.
            return;
        }
        if wire.flags.ack {
            // Typically the peer resent its FIN because our last ACK was lost: 2MSL starts
            // afresh (RFC 793 3.9, TIME-WAIT; TLPI 61.6.7).
            self.arm_timer(id, TimerKind::TimeWait, self.now + two_msl);
        }
        // Every other segment is acknowledged at once (TCP_TW_ACK).
        self.send_ack(id);
    }

    fn synchronized_input(&mut self, id: SocketId, wire: &Wire) {
        let state = self.sockets[id as usize].state;
        let listener = self.sockets[id as usize].listener;
        if wire.flags.rst {
            if state == State::SynRecv && listener.is_some() {
                self.set_state(id, State::Closed, "an RST ended the half-open connection");
                self.free_socket(id);
                return;
            }
            // RFC 5961 3.2, as tcp_validate_incoming() and tcp_reset_check(): only an RST at
            // exactly rcv_nxt resets (or one byte before it once the peer's FIN is in); one
            // elsewhere in the window draws a challenge ACK; one outside it is ignored.
            let tcb = &self.sockets[id as usize].tcb;
            let exact = wire.seq == tcb.rcv_nxt
                || (matches!(state, State::CloseWait | State::LastAck | State::Closing)
                    && wire.seq == tcb.rcv_nxt.wrapping_sub(1));
            if !exact {
                let window = tcb.rcv_wnd.max(1);
                if seq_ge(wire.seq, tcb.rcv_nxt) && seq_lt(wire.seq, tcb.rcv_nxt.wrapping_add(window)) {
                    self.send_ack(id);
                }
                return;
            }
            let errno = match state {
                State::CloseWait => Errno::EPIPE,
                State::SynRecv => Errno::ECONNREFUSED,
                _ => Errno::ECONNRESET,
            };
            let socket = &mut self.sockets[id as usize];
            socket.error = Some(errno);
            socket.shut_wr = true;
            self.set_state(id, State::Closed, "RST received: the peer aborted the connection");
            return;
        }
        if wire.flags.syn {
            let tcb = &self.sockets[id as usize].tcb;
            if state == State::SynRecv && !wire.flags.ack && wire.seq == tcb.irs {
                // The client resent its SYN: our SYN+ACK was lost or is late.
                self.send_syn(id, true, true);
                return;
            }
            if !(state == State::SynRecv && wire.flags.ack) {
                self.send_ack(id);
                return;
            }
        }
        if state != State::SynRecv && wire.seq_len() == 0 && !wire.flags.rst {
            // RFC 793 3.3 ("If an incoming segment is not acceptable, an acknowledgment
            // should be sent in reply") as tcp_sequence() and tcp_send_dupack(): an empty
            // segment that ends before the edge we last acknowledged, such as a zero-window
            // or keepalive probe (sequence number snd_una - 1), is answered by an ACK that
            // shows rcv_nxt and the current window, and goes no further. Linux answers at most
            // one such segment per tcp_invalid_ratelimit (500 ms) and drops the others
            // silently (tcp_oow_rate_limited()), so a zero-window probe sent less than 500 ms
            // after the last answered one gets no reply.
            let now = self.now;
            let tcb = &mut self.sockets[id as usize].tcb;
            let window = tcb.rcv_wup.wrapping_add(tcb.rcv_wnd).wrapping_sub(tcb.rcv_nxt) as i32;
            let right_edge = tcb.rcv_nxt.wrapping_add(window.max(0) as u32);
            if seq_lt(wire.seq, tcb.rcv_wup) || seq_gt(wire.seq, right_edge) {
                let limited = tcb.last_oow_ack_at.is_some_and(|at| now.saturating_sub(at) < TCP_INVALID_RATELIMIT_US);
                if !limited {
                    tcb.last_oow_ack_at = Some(now);
                    self.send_ack(id);
                }
                return;
            }
        }
        if !wire.flags.ack {
            return;
        }
        if state == State::SynRecv {
            let iss = self.sockets[id as usize].tcb.iss;
            if wire.ack != iss.wrapping_add(1) {
                let host = self.host_of(id);
                self.reply_rst(host, wire);
                return;
            }
            if let Some(listener) = listener {
                let parent = &self.sockets[listener as usize];
                if parent.accept_queue.len() as u32 > parent.backlog {
                    if self.settings(id).abort_on_overflow {
                        self.send_rst(id);
                        self.set_state(id, State::Closed, "the accept queue is full and tcp_abort_on_overflow is set");
                        self.free_socket(id);
                    } else {
                        self.emit(EventKind::Note {
                            pid: None,
                            text: "the accept queue is full: the listener ignores this final ACK and will resend its SYN+ACK".into(),
                        });
                    }
                    return;
                }
            }
            self.handshake_acked(id, wire);
            let cause = if listener.is_some() {
                "the handshake's final ACK arrived: the connection moves to the accept queue"
            } else {
                "our SYN is acknowledged: simultaneous open completes"
            };
            self.set_state(id, State::Established, cause);
            if let Some(listener) = listener {
                let parent = &mut self.sockets[listener as usize];
                parent.syn_queue.retain(|&child| child != id);
                parent.accept_queue.push_back(id);
                self.queues_changed(listener);
            }
            self.start_keepalive(id);
            if wire.flags.syn {
                return;
            }
        }
        if !self.process_ack(id, wire) {
            return;
        }
        let mut need = AckNeed::None;
        if !wire.payload.is_empty() {
            let state = self.sockets[id as usize].state;
            let socket = &self.sockets[id as usize];
            let new_data = seq_gt(wire.seq.wrapping_add(wire.payload.len() as u32), socket.tcb.rcv_nxt);
            if matches!(state, State::FinWait1 | State::FinWait2) && socket.refs == 0 && new_data {
                // Data for a socket its owner has closed: nobody will ever read it, so Linux
                // resets the connection (LINUX_MIB_TCPABORTONDATA). The RST answers the
                // segment as tcp_v4_send_reset() does: <SEQ=SEG.ACK><CTL=RST>.
                let host = self.host_of(id);
                self.reply_rst(host, wire);
                self.set_state(id, State::Closed, "data arrived after close(): the kernel answers with RST");
                return;
            }
            if matches!(state, State::Established | State::FinWait1 | State::FinWait2) {
                need = need.max(self.receive_data(id, wire));
            }
        }
        if wire.flags.fin {
            need = need.max(self.receive_fin(id, wire.seq.wrapping_add(wire.payload.len() as u32)));
        }
        if self.sockets[id as usize].freed || self.sockets[id as usize].state == State::Closed {
            return;
        }
        if need == AckNeed::Quick {
            // A FIN that came with the data has put the socket in pingpong mode, so its ACK
            // waits, hoping to ride on the application's own FIN (`tcp_fin()`, then
            // `tcp_in_quickack_mode()` in `__tcp_ack_snd_check()`).
            let tcb = &self.sockets[id as usize].tcb;
            need = if tcb.quick > 0 && !tcb.pingpong { AckNeed::Now } else { AckNeed::Delayed };
        }
        match need {
            AckNeed::Now => self.send_ack(id),
            AckNeed::Delayed => {
                self.sockets[id as usize].tcb.ack_pending = true;
                let delay = ms_to_us(self.settings(id).delack_ms);
                self.ensure_timer(id, TimerKind::DelayedAck, self.now + delay);
            }
            AckNeed::Quick | AckNeed::None => {}
        }
        self.tcp_output(id);
    }

    /// The ACK field and the window of an arriving segment. Returns false when the segment
    /// must not be processed further.
    fn process_ack(&mut self, id: SocketId, wire: &Wire) -> bool {
        let now = self.now;
        let tcp = self.settings(id).clone();
        let socket = &mut self.sockets[id as usize];
        let tcb = &mut socket.tcb;
        if seq_gt(wire.ack, tcb.snd_max) {
            // It acknowledges something never sent: answer with an ACK and drop it.
            self.send_ack(id);
            return false;
        }
        let window = u32::from(wire.win) << tcb.snd_wscale;
        let had_outstanding = tcb.snd_una != tcb.snd_max;
        if seq_gt(wire.ack, tcb.snd_una) {
            let acked = wire.ack.wrapping_sub(tcb.snd_una);
            let fin_now_acked = socket.tcb.fin_queued
                && seq_gt(wire.ack, socket.tcb.write_seq)
                && !seq_gt(socket.tcb.snd_una, socket.tcb.write_seq);
            let tcb = &mut socket.tcb;
            let data = (acked - u32::from(fin_now_acked)).min(tcb.send_buf.len() as u32);
            tcb.send_buf.drain(..data as usize);
            tcb.snd_una = wire.ack;
            if seq_lt(tcb.snd_nxt, wire.ack) {
                tcb.snd_nxt = wire.ack;
            }
            if let Some((end, sent)) = tcb.rtt_probe {
                if seq_ge(wire.ack, end) {
                    tcb.rtt_probe = None;
                    if tcb.retransmits == 0 {
                        rtt_sample(tcb, now - sent, &tcp);
                    }
                }
            }
            tcb.retransmits = 0;
            tcb.first_retransmit_at = None;
            tcb.dupacks = 0;
            tcb.rto_us = rto_from_estimate(tcb, &tcp);
            // The segments now acknowledged leave the retransmission queue.
            let mut acked_segments = 0u32;
            while tcb.unacked_segments.front().is_some_and(|&(end, _)| seq_le(end, wire.ack)) {
                tcb.unacked_segments.pop_front();
                acked_segments += 1;
            }
            reno_cong_avoid(tcb, acked_segments);
            // Loss recovery ends once everything outstanding when it began is acknowledged
            // (the Loss or Recovery state returns to Open, tcp_fastretrans_alert()).
            if tcb.recovery_until.is_some_and(|until| seq_ge(wire.ack, until)) {
                tcb.recovery_until = None;
            }
            // A bigger congestion window gets a bigger SendQ (tcp_new_space()).
            self.sndbuf_expand(id);
            self.process_tlp_ack(id, wire, true);
            self.set_xmit_timer(id);
            if data > 0 {
                self.queues_changed(id);
            }
        } else if wire.ack == tcb.snd_una
            && wire.payload.is_empty()
            && !wire.flags.fin
            && window == tcb.snd_wnd
            && tcb.snd_una != tcb.snd_max
        {
            tcb.dupacks += 1;
            if tcb.dupacks == 3 {
                self.fast_retransmit(id);
            }
        }
        self.process_tlp_ack(id, wire, false);
        let tcb = &mut self.sockets[id as usize].tcb;
        if had_outstanding {
            // tcp_ack() ends in tcp_cong_control(), which sets the pacing rate from the
            // window and srtt this ACK left (tcp_update_pacing_rate()).
            update_pacing_rate(tcb);
        }
        if seq_lt(tcb.snd_wl1, wire.seq) || (tcb.snd_wl1 == wire.seq && seq_le(tcb.snd_wl2, wire.ack)) {
            tcb.snd_wnd = window;
            // tcp_ack_update_window(): a larger window than ever raises max_window, and with it
            // the segment size (tcp_sync_mss(), tcp_bound_to_half_wnd()).
            tcb.max_window = tcb.max_window.max(window);
            tcb.snd_wl1 = wire.seq;
            tcb.snd_wl2 = wire.ack;
            if window > 0 && self.sockets[id as usize].timer(TimerKind::Persist).is_some() {
                self.cancel_timer(id, TimerKind::Persist);
                let tcb = &mut self.sockets[id as usize].tcb;
                tcb.probes = 0;
                tcb.probe_backoff = 0;
            } else if window == 0 && self.sockets[id as usize].timer(TimerKind::Persist).is_some() {
                // The answer to a zero-window probe still shows a closed window: the next
                // probe is due a backed-off interval after this answer (`tcp_ack_probe()`).
                let delay = self.probe_interval(id);
                self.arm_timer(id, TimerKind::Persist, now + delay);
            }
        }
        self.fin_acked_transitions(id);
        !self.sockets[id as usize].freed && self.sockets[id as usize].state != State::Closed
    }

    /// `tcp_process_tlp_ack()`: an ACK at or past the probe's snd_nxt ends the probe's
    /// episode. A probe of new data, a D-SACK of the repeated segment or a plain duplicate
    /// ACK shows that nothing was lost; an ACK beyond the probe shows that the probe repaired
    /// a loss, so the congestion window is reduced once (the CWR state:
    /// `tcp_init_cwnd_reduction()`, `tcp_end_cwnd_reduction()`; Reno halves it).
    fn process_tlp_ack(&mut self, id: SocketId, wire: &Wire, advanced: bool) {
        let tcb = &mut self.sockets[id as usize].tcb;
        let Some(high) = tcb.tlp_high_seq else { return };
        if seq_lt(wire.ack, high) {
            return;
        }
        if !tcb.tlp_retrans || wire.dsack {
            tcb.tlp_high_seq = None;
        } else if seq_gt(wire.ack, high) {
            tcb.tlp_high_seq = None;
            tcb.ssthresh = (tcb.cwnd / 2).max(2 * tcb.mss);
            tcb.cwnd = tcb.ssthresh;
            tcb.snd_cwnd_cnt = 0;
        } else if !advanced && wire.payload.is_empty() && !wire.flags.fin {
            tcb.tlp_high_seq = None;
        }
    }

    fn fin_acked_transitions(&mut self, id: SocketId) {
        let socket = &self.sockets[id as usize];
        if !socket.fin_acked() {
            return;
        }
        match socket.state {
            State::FinWait1 => {
                self.set_state(id, State::FinWait2, "our FIN is acknowledged; the peer may still send");
                self.orphan_fin_wait2(id);
            }
            State::Closing => self.set_state(id, State::TimeWait, "our FIN is acknowledged: wait 2MSL"),
            State::LastAck => self.set_state(id, State::Closed, "the last ACK arrived: the connection is gone"),
            _ => {}
        }
    }

    fn fast_retransmit(&mut self, id: SocketId) {
        let tcb = &mut self.sockets[id as usize].tcb;
        // Fast recovery (the Recovery state) lasts until what is outstanding now is acked.
        tcb.recovery_until = Some(tcb.snd_max);
        let flight = tcb.snd_nxt.wrapping_sub(tcb.snd_una);
        tcb.ssthresh = (flight / 2).max(2 * tcb.mss);
        tcb.cwnd = tcb.ssthresh + 3 * tcb.mss;
        // tcp_init_cwnd_reduction() starts the growth count afresh.
        tcb.snd_cwnd_cnt = 0;
        self.retransmit_head(id);
        // tcp_xmit_retransmit_queue(): retransmitting the head resets the one transmission
        // timer to the RTO from now, so a loss probe that was pending is gone; none is
        // scheduled again until recovery ends.
        self.reset_rto_timer(id);
    }

    /// `tcp_reset_xmit_timer(ICSK_TIME_RETRANS, icsk_rto)`: the one transmission timer becomes
    /// the retransmission timer, due one RTO from now, replacing a pending loss probe.
    fn reset_rto_timer(&mut self, id: SocketId) {
        self.cancel_timer(id, TimerKind::LossProbe);
        let rto = self.sockets[id as usize].tcb.rto_us;
        self.arm_timer(id, TimerKind::Retransmit, self.now + rto);
    }

    /// Resends the oldest unacknowledged segment (data, or a lone FIN).
    fn retransmit_head(&mut self, id: SocketId) {
        let tcb = &self.sockets[id as usize].tcb;
        let seq = tcb.snd_una;
        let mss_now = tcb.mss_now();
        let len = (tcb.send_buf.len() as u32).min(mss_now).min(tcb.snd_max.wrapping_sub(seq));
        let payload = copy_range(&tcb.send_buf, 0, len as usize);
        let end = seq.wrapping_add(len);
        let with_fin = tcb.fin_queued && end == tcb.write_seq && seq_gt(tcb.snd_max, tcb.write_seq);
        let flags = Flags { ack: true, psh: len > 0 && end == tcb.write_seq, fin: with_fin, ..Flags::default() };
        if len == 0 && !with_fin {
            return;
        }
        self.sockets[id as usize].tcb.rtt_probe = None;
        self.record_transmission(id, seq, end.wrapping_add(u32::from(with_fin)));
        self.send_segment(id, flags, seq, payload, TcpOptions::default(), true);
    }

    /// In-order data joins RecvQ (out-of-order data waits aside). Returns what ACK is owed.
    fn receive_data(&mut self, id: SocketId, wire: &Wire) -> AckNeed {
        let now = self.now;
        let tcp = self.settings(id).clone();
        let socket = &mut self.sockets[id as usize];
        let rcvbuf = socket.rcvbuf;
        let used = socket.recv_used();
        let tcb = &mut socket.tcb;
        let mut seq = wire.seq;
        let mut data = &wire.payload[..];
        if seq_lt(seq, tcb.rcv_nxt) {
            let skip = tcb.rcv_nxt.wrapping_sub(seq) as usize;
            if skip >= data.len() {
                // Entirely a duplicate: our ACK was lost or late (or the sender probed), so
                // repeat it at once, report the duplicate in a D-SACK block when SACK is on,
                // and acknowledge the next segments at once too (tcp_data_queue():
                // tcp_dsack_set(), tcp_enter_quickack_mode(), which also ends pingpong mode).
                tcb.dsack_pending = tcb.sack_ok;
                let quickacks = match tcb.rcv_wnd / (2 * tcb.ack_rcv_mss.max(1)) {
                    0 => 2,
                    n => n,
                };
                tcb.quick = tcb.quick.max(quickacks.min(tcp.max_quickacks));
                tcb.pingpong = false;
                return AckNeed::Now;
            }
            data = &data[skip..];
            seq = tcb.rcv_nxt;
        }
        let free = rcvbuf.saturating_sub(used) as usize;
        if seq != tcb.rcv_nxt {
            let offset = seq.wrapping_sub(tcb.rcv_nxt) as usize;
            if offset < free {
                let keep = data.len().min(free - offset);
                let entry = tcb.ooo.get_or_insert_with(seq, Vec::new);
                if entry.len() < keep {
                    *entry = data[..keep].to_vec();
                }
            }
            // A gap: a duplicate ACK at once tells the sender (RFC 5681 4.2).
            return AckNeed::Now;
        }
        // Bytes beyond the free space are dropped; the sender will resend them.
        let take = data.len().min(free);
        if take == 0 {
            // Nothing fits (zero window): Linux drops the segment and acknowledges at once,
            // showing the window (tcp_data_queue(), LINUX_MIB_TCPZEROWINDOWDROP).
            return AckNeed::Now;
        }
        tcb.recv_buf.extend(&data[..take]);
        tcb.recv_skbs.push_back(take as u32);
        tcb.rcv_nxt = tcb.rcv_nxt.wrapping_add(take as u32);
        // The out-of-order segments the new data reaches move to the queue in order; they are
        // taken off the front of the map in one go, so a long run of them costs linear time.
        let mut drained = 0;
        for (&start, chunk) in tcb.ooo.iter() {
            if seq_gt(start, tcb.rcv_nxt) {
                break;
            }
            let skip = tcb.rcv_nxt.wrapping_sub(start) as usize;
            if skip < chunk.len() {
                tcb.recv_buf.extend(&chunk[skip..]);
                tcb.recv_skbs.push_back((chunk.len() - skip) as u32);
                tcb.rcv_nxt = tcb.rcv_nxt.wrapping_add((chunk.len() - skip) as u32);
            }
            drained += 1;
        }
        tcb.ooo.remove_first(drained);
        let filled_gap = drained > 0;
        // tcp_event_data_recv(): measure the segment, then perhaps let the window grow.
        let segment_len = wire.payload.len() as u32;
        // TCP_REMNANT: flags a full-sized segment would not carry (URG is not modelled).
        let remnant = wire.flags.psh || wire.flags.fin || wire.flags.syn;
        self.measure_rcv_mss(id, segment_len, remnant);
        if segment_len >= 128 {
            self.grow_window(id, segment_len);
        }
        let tcb = &mut self.sockets[id as usize].tcb;
        // Quick-ACK mode at the start, and again after a long silence (tcp_event_data_recv()).
        let first = tcb.rcv_mss == 0;
        let gap = tcb.last_rcv_at.map_or(u64::MAX, |at| now.saturating_sub(at));
        tcb.rcv_mss = tcb.rcv_mss.max(wire.payload.len() as u32);
        if first || gap > tcb.rto_us {
            // tcp_incr_quickack(): half a window's worth of segments, 2 only when that comes
            // to zero, at most TCP_MAX_QUICKACKS. The segment size is icsk_ack.rcv_mss, which
            // tcp_measure_rcv_mss() has just updated from this very segment, so a first segment
            // as large as 24 KB on loopback leaves room for a single quick ACK.
            let quickacks = match tcb.rcv_wnd / (2 * tcb.ack_rcv_mss.max(1)) {
                0 => 2,
                n => n,
            };
            let quickacks = quickacks.min(tcp.max_quickacks);
            tcb.quick = tcb.quick.max(quickacks);
        }
        tcb.last_rcv_at = Some(now);
        let ooo_fin = tcb.ooo_fin;
        let rcv_nxt = tcb.rcv_nxt;
        let unacked = tcb.rcv_nxt.wrapping_sub(tcb.rcv_wup);
        let quick = tcb.quick > 0 && !tcb.pingpong;
        let full_frames = unacked > tcb.ack_rcv_mss;
        let rcv_wnd = tcb.rcv_wnd;
        let ooo_pending = !tcb.ooo.is_empty();
        self.queues_changed(id);
        if ooo_fin == Some(rcv_nxt) {
            self.receive_fin(id, rcv_nxt);
            return AckNeed::Now;
        }
        // __tcp_ack_snd_check(): more than one full frame, measured by icsk_ack.rcv_mss, and
        // an ACK that would move the window's right edge (a receiver whose RecvQ is filling
        // lets the ACK wait instead: tcp_recvmsg() will send it when the program reads).
        let more_than_one_segment = full_frames && self.compute_window(id) >= rcv_wnd;
        if filled_gap || ooo_pending || !tcp.delayed_ack || more_than_one_segment {
            AckNeed::Now
        } else if quick {
            AckNeed::Quick
        } else {
            AckNeed::Delayed
        }
    }

    /// `tcp_measure_rcv_mss()`: a segment larger than the current estimate of the peer's MSS
    /// re-measures the scaling ratio as len/truesize (truesize = len + [`SKB_OVERHEAD`]); a
    /// changed ratio moves the window clamp to the buffer's new share (`tcp_set_window_clamp()`,
    /// never below SOCK_MIN_RCVBUF / 2), and rcv_ssthresh with it. The scenario's own
    /// `window_clamp` stays a bound.
    fn measure_rcv_mss(&mut self, id: SocketId, len: u32, remnant: bool) {
        let setting = self.settings(id).window_clamp.unwrap_or(u32::MAX);
        let advmss = self.own_mss(id);
        let socket = &mut self.sockets[id as usize];
        let rcvbuf = socket.rcvbuf;
        let tcb = &mut socket.tcb;
        let estimate = tcb.ack_rcv_mss;
        let lss = std::mem::take(&mut tcb.last_seg_size);
        if len < estimate {
            // A smaller segment: the peer pushed what it had. With its header it may still
            // look like a full segment of a smaller MSS (at least TCP_MSS_DEFAULT, or at least
            // TCP_MIN_MSS without PSH, URG, FIN or SYN); two of one size in a row lower the
            // estimate to that size. Otherwise the ACK owed is marked pushed.
            let header = TCP_HEADER_LEN + if tcb.timestamps { TIMESTAMPS_LEN } else { 0 };
            let whole = len + header;
            if whole >= TCP_MSS_DEFAULT + TCP_HEADER_LEN || (whole >= TCP_MIN_MSS + TCP_HEADER_LEN && !remnant) {
                tcb.last_seg_size = len;
                if len == lss {
                    tcb.ack_rcv_mss = len;
                    return;
                }
            }
            tcb.ack_pushed = if tcb.ack_pushed > 0 { 2 } else { 1 };
            return;
        }
        tcb.ack_rcv_mss = len.min(advmss);
        if len == estimate {
            return;
        }
        let ratio = ((u64::from(len) << TCP_RMEM_TO_WIN_SCALE) / u64::from(len + SKB_OVERHEAD)).max(1) as u32;
        if ratio == tcb.scaling_ratio {
            return;
        }
        tcb.scaling_ratio = ratio;
        let share = win_from_space(ratio, i64::from(rcvbuf)).max(0) as u32;
        let clamp = share.max(MIN_RCVBUF / 2).min(setting);
        if clamp < tcb.window_clamp {
            tcb.rcv_ssthresh = tcb.rcv_ssthresh.min(clamp);
        } else {
            tcb.rcv_ssthresh = tcb.rcv_ssthresh.max(tcb.rcv_wnd.min(clamp));
        }
        tcb.window_clamp = clamp;
    }

    /// `tcp_grow_window()`: a segment of at least 128 bytes lets rcv_ssthresh grow toward the
    /// free buffer's share, by two segments when such segments would fit the buffer (or, at
    /// an unfavourable ratio, only while the window is small: `__tcp_grow_window()`), and by
    /// at least twice the segment.
    fn grow_window(&mut self, id: SocketId, len: u32) {
        let space = self.rcv_space(id);
        let advmss = self.own_mss(id);
        let rmem_max = 1i64 << (u32::from(self.settings(id).wscale) + 15).min(40);
        let tcb = &mut self.sockets[id as usize].tcb;
        let room = i64::from(tcb.window_clamp).min(space) - i64::from(tcb.rcv_ssthresh);
        if room <= 0 {
            return;
        }
        let truesize = i64::from(len + SKB_OVERHEAD);
        let len64 = i64::from(len);
        let mut incr = if win_from_space(tcb.scaling_ratio, truesize) <= len64 {
            2 * i64::from(advmss)
        } else {
            let mut truesize = win_from_space(tcb.scaling_ratio, truesize) >> 1;
            let mut window = win_from_space(tcb.scaling_ratio, rmem_max) >> 1;
            let mut incr = 0;
            while i64::from(tcb.rcv_ssthresh) <= window {
                if truesize <= len64 {
                    incr = 2 * i64::from(tcb.ack_rcv_mss);
                    break;
                }
                truesize >>= 1;
                window >>= 1;
            }
            incr
        };
        if incr > 0 {
            incr = incr.max(2 * len64);
            tcb.rcv_ssthresh += room.min(incr) as u32;
        }
    }

    /// A FIN at sequence number `fin_seq`. Returns what ACK is owed.
    fn receive_fin(&mut self, id: SocketId, fin_seq: u32) -> AckNeed {
        let tcp_delayed = self.settings(id).delayed_ack;
        let socket = &mut self.sockets[id as usize];
        let tcb = &mut socket.tcb;
        if tcb.fin_rcvd {
            // A retransmitted FIN: our ACK was lost.
            return AckNeed::Now;
        }
        if fin_seq != tcb.rcv_nxt {
            if seq_gt(fin_seq, tcb.rcv_nxt) {
                tcb.ooo_fin = Some(fin_seq);
            }
            return AckNeed::Now;
        }
        tcb.rcv_nxt = tcb.rcv_nxt.wrapping_add(1);
        tcb.fin_rcvd = true;
        tcb.ooo_fin = None;
        let state = socket.state;
        let fin_acked = socket.fin_acked();
        self.queues_changed(id);
        match state {
            State::Established | State::SynRecv => {
                // tcp_fin(): the ACK of a FIN waits in pingpong mode, hoping the application
                // closes soon so that its FIN can carry the ACK.
                self.sockets[id as usize].tcb.pingpong = true;
                self.set_state(
                    id,
                    State::CloseWait,
                    "the peer's FIN arrived: it has finished sending, recv() will return 0",
                );
                if tcp_delayed {
                    AckNeed::Delayed
                } else {
                    AckNeed::Now
                }
            }
            State::FinWait1 if fin_acked => {
                self.set_state(id, State::TimeWait, "the peer's FIN arrived with the ACK of ours: wait 2MSL");
                AckNeed::Now
            }
            State::FinWait1 => {
                self.set_state(id, State::Closing, "the peer's FIN crossed ours: simultaneous close");
                AckNeed::Now
            }
            State::FinWait2 => {
                self.set_state(id, State::TimeWait, "the peer's FIN arrived: ACK it and wait 2MSL");
                AckNeed::Now
            }
            _ => AckNeed::Now,
        }
    }

    // ===== timers =====

    pub(crate) fn on_timer(&mut self, id: SocketId, kind: TimerKind) {
        match kind {
            TimerKind::Retransmit => self.retransmit_timeout(id),
            TimerKind::DelayedAck => {
                let tcb = &mut self.sockets[id as usize].tcb;
                // A missed delayed ACK ends pingpong mode (tcp_delack_timer_handler()).
                tcb.pingpong = false;
                if tcb.ack_pending {
                    self.send_ack(id);
                }
            }
            TimerKind::Persist => {
                let socket = &self.sockets[id as usize];
                if !socket.state.is_synchronized() || socket.state == State::TimeWait {
                    return;
                }
                if socket.tcb.snd_wnd > 0 {
                    self.tcp_output(id);
                    return;
                }
                // tcp_probe_timer(): a peer that answers may keep its window closed for ever
                // (RFC 1122 4.2.2.17), but after tcp_retries2 probes in a row without any
                // answer the connection is given up.
                let retries2 = self.settings(id).retries2;
                if socket.tcb.probes >= retries2 {
                    self.give_up(id, "zero-window probes went unanswered (tcp_retries2): the connection times out");
                    return;
                }
                self.emit(EventKind::Note {
                    pid: None,
                    text: format!(
                        "{}'s persist timer sends a zero-window probe: a segment with an old sequence number that the peer must answer with its current window.",
                        self.hosts[socket.host].name
                    ),
                });
                self.send_probe(id);
                let tcb = &mut self.sockets[id as usize].tcb;
                tcb.probes += 1;
                tcb.probe_backoff = (tcb.probe_backoff + 1).min(retries2);
                let delay = self.probe_interval(id);
                self.arm_timer(id, TimerKind::Persist, self.now + delay);
            }
            TimerKind::Keepalive => {
                let tcp = self.settings(id).clone();
                let socket = &self.sockets[id as usize];
                if !socket.keepalive || !socket.state.is_synchronized() || socket.state == State::TimeWait {
                    return;
                }
                let idle = self.now.saturating_sub(socket.tcb.last_heard_at);
                let keepalive_time = ms_to_us(tcp.keepalive_time_ms);
                let sent = socket.tcb.probes;
                if idle < keepalive_time && sent == 0 {
                    let at = socket.tcb.last_heard_at + keepalive_time;
                    self.arm_timer(id, TimerKind::Keepalive, at);
                } else if socket.send_q() > 0 {
                    // Data waiting or in flight has its own timers to find a dead peer:
                    // tcp_keepalive_timer() only checks again an interval later.
                    self.arm_timer(id, TimerKind::Keepalive, self.now + ms_to_us(tcp.keepalive_intvl_ms));
                } else if sent >= tcp.keepalive_probes {
                    // tcp_keepalive_timer() resets the connection (tcp_send_active_reset())
                    // in case the peer is alive but unreachable, then reports ETIMEDOUT.
                    self.send_rst(id);
                    self.give_up(id, "keepalive probes went unanswered: the peer is gone (ETIMEDOUT)");
                } else {
                    let text = format!(
                        "{}'s keepalive timer sends probe {} of {}: a segment with an old sequence number that a live peer must answer.",
                        self.hosts[socket.host].name,
                        sent + 1,
                        tcp.keepalive_probes
                    );
                    self.emit(EventKind::Note { pid: None, text });
                    self.send_probe(id);
                    self.sockets[id as usize].tcb.probes = sent + 1;
                    self.arm_timer(id, TimerKind::Keepalive, self.now + ms_to_us(tcp.keepalive_intvl_ms));
                }
            }
            TimerKind::TimeWait => self.set_state(id, State::Closed, "2MSL has passed: TIME_WAIT ends"),
            TimerKind::FinWait2 => {
                self.set_state(id, State::Closed, "the orphaned FIN_WAIT2 socket timed out (tcp_fin_timeout)");
            }
            TimerKind::Linger => self.wake(id),
            TimerKind::LossProbe => self.send_loss_probe(id),
        }
    }

    // ----- tail loss probe (RACK-TLP, RFC 8985 section 7, as Linux 6.x) -----

    /// `tcp_schedule_loss_probe()`: with SACK negotiated, segments outstanding and no loss
    /// recovery under way, the kernel's one transmission timer becomes a loss probe timer of
    /// two smoothed round trips, plus the minimum RTO when a single segment is out (its ACK
    /// may be a delayed one) or 2 ms otherwise, in whole jiffies (a full initial RTO without
    /// an RTT sample), and never later than the retransmission timeout would fire: from now
    /// when the caller is about to restart it (`advancing_rto`), else from the oldest
    /// segment's transmission. Returns false when no probe is scheduled. `tcp_early_retrans`
    /// is taken at its default, 3 (probes on).
    fn schedule_loss_probe(&mut self, id: SocketId, advancing_rto: bool) -> bool {
        let tcp = self.settings(id);
        let (rto_min, timeout_init) = (ms_to_us(tcp.rto_min_ms), ms_to_us(tcp.rto_initial_ms));
        let socket = &self.sockets[id as usize];
        let tcb = &socket.tcb;
        let packets_out = tcb.unacked_segments.len();
        if !tcb.sack_ok || packets_out == 0 || tcb.recovery_until.is_some() || !may_transmit(socket.state) {
            return false;
        }
        let mut timeout = match tcb.srtt_us {
            Some(srtt) => {
                let slack = if packets_out == 1 { rto_min } else { TCP_TIMEOUT_MIN_US };
                whole_jiffies(srtt.saturating_mul(2).saturating_add(slack))
            }
            None => timeout_init,
        };
        let rto_left = if advancing_rto { tcb.rto_us as i64 } else { self.rto_left_us(id) };
        if rto_left > 0 {
            timeout = timeout.min(whole_jiffies(rto_left as u64));
        }
        self.cancel_timer(id, TimerKind::Retransmit);
        self.arm_timer(id, TimerKind::LossProbe, self.now + timeout);
        true
    }

    /// `tcp_rto_delta_us()`: how far in the future the retransmission timeout lies when it
    /// counts from the oldest unacknowledged segment's last transmission (negative if past).
    fn rto_left_us(&self, id: SocketId) -> i64 {
        let tcb = &self.sockets[id as usize].tcb;
        match tcb.unacked_segments.front() {
            Some(&(_, sent_at)) => (sent_at + tcb.rto_us) as i64 - self.now as i64,
            None => tcb.rto_us as i64,
        }
    }

    /// `tcp_rearm_rto()`: the retransmission timer restarts with the current RTO (or stops
    /// when nothing is outstanding); when it takes over from a pending loss probe it keeps
    /// the deadline counted from the oldest segment, at least one jiffy away.
    fn rearm_rto(&mut self, id: SocketId) {
        let tcb = &self.sockets[id as usize].tcb;
        if tcb.snd_una == tcb.snd_max {
            self.cancel_timer(id, TimerKind::LossProbe);
            self.cancel_timer(id, TimerKind::Retransmit);
            return;
        }
        let mut rto = tcb.rto_us;
        if self.sockets[id as usize].timer(TimerKind::LossProbe).is_some() {
            rto = whole_jiffies(self.rto_left_us(id).max(1) as u64);
            self.cancel_timer(id, TimerKind::LossProbe);
        }
        self.arm_timer(id, TimerKind::Retransmit, self.now + rto);
    }

    /// `tcp_set_xmit_timer()`, after an ACK that acknowledged data: a loss probe if one may
    /// be scheduled, else the retransmission timer.
    fn set_xmit_timer(&mut self, id: SocketId) {
        if !self.schedule_loss_probe(id, true) {
            self.rearm_rto(id);
        }
    }

    /// `tcp_send_loss_probe()`, when the probe timer fires: unless a probe is already
    /// outstanding, send one new segment if unsent data fits the peer's window, else send
    /// the last segment again. Either way the peer must answer at once (new data past a
    /// delayed ACK, or a duplicate, which it acknowledges immediately with a D-SACK), so
    /// its ACK tells the sender what arrived without waiting for the retransmission
    /// timeout. The retransmission timer then restarts from now, without backoff.
    fn send_loss_probe(&mut self, id: SocketId) {
        let socket = &self.sockets[id as usize];
        if socket.tcb.snd_una == socket.tcb.snd_max {
            return;
        }
        if socket.tcb.tlp_high_seq.is_some() || socket.tcb.recovery_until.is_some() {
            // At most one probe per tail loss episode, and none during loss recovery
            // (tcp_schedule_loss_probe() only runs in the Open and CWR states): the
            // retransmission timer takes over.
            self.rearm_rto(id);
            return;
        }
        let tcb = &socket.tcb;
        let mss_now = tcb.mss_now();
        let (unsent, fin_unsent) = (tcb.unsent(), tcb.fin_unsent());
        // tcp_snd_wnd_test(): the next new segment must fit the peer's window.
        let fits = if unsent > 0 {
            (unsent as u32).min(mss_now) <= tcb.snd_wnd.saturating_sub(socket.in_flight())
        } else {
            fin_unsent
        };
        self.sockets[id as usize].tcb.tlp_retrans = false;
        if fits {
            if !self.write_xmit(id, true) {
                self.rearm_rto(id);
                return;
            }
        } else if self.retransmit_tail(id) {
            self.sockets[id as usize].tcb.tlp_retrans = true;
        } else {
            self.rearm_rto(id);
            return;
        }
        let tcb = &mut self.sockets[id as usize].tcb;
        tcb.tlp_high_seq = Some(tcb.snd_max);
        // The probe resets the timer's owner, so the retransmission timeout restarts from now.
        self.reset_rto_timer(id);
    }

    /// Sends the last unacknowledged segment again, as it was first sent (data and PSH, or
    /// a FIN): the tail that a loss probe repeats. Returns false if there is none.
    fn retransmit_tail(&mut self, id: SocketId) -> bool {
        let tcb = &self.sockets[id as usize].tcb;
        let Some(&(end, _)) = tcb.unacked_segments.back() else { return false };
        let start = match tcb.unacked_segments.len() {
            1 => tcb.snd_una,
            n => tcb.unacked_segments[n - 2].0,
        };
        let start = if seq_lt(start, tcb.snd_una) { tcb.snd_una } else { start };
        let with_fin = tcb.fin_queued && end == tcb.write_seq.wrapping_add(1);
        let data_end = if with_fin { tcb.write_seq } else { end };
        let len = data_end.wrapping_sub(start).min(tcb.send_buf.len() as u32);
        let offset = start.wrapping_sub(tcb.snd_una) as usize;
        if offset + len as usize > tcb.send_buf.len() || (len == 0 && !with_fin) {
            return false;
        }
        let payload = copy_range(&tcb.send_buf, offset, len as usize);
        let psh = len > 0 && (data_end == tcb.write_seq || data_end == tcb.pushed_seq);
        let flags = Flags { ack: true, psh, fin: with_fin, ..Flags::default() };
        self.sockets[id as usize].tcb.rtt_probe = None;
        self.record_transmission(id, start, end);
        let probe = Outgoing { flags, seq: start, payload, retransmission: true, why: Some(LOSS_PROBE_REASON) };
        self.send_outgoing(id, probe, TcpOptions::default());
        true
    }

    /// The interval before the next zero-window probe: the probe base, max(RTO, rto_min),
    /// doubled per probe so far, at most rto_max (`tcp_probe0_base()`, `tcp_probe0_when()`).
    fn probe_interval(&self, id: SocketId) -> u64 {
        let tcp = self.settings(id);
        let tcb = &self.sockets[id as usize].tcb;
        let base = tcb.rto_us.max(ms_to_us(tcp.rto_min_ms));
        base.saturating_mul(1 << tcb.probe_backoff.min(20)).min(ms_to_us(tcp.rto_max_ms))
    }

    /// The connection is given up with ETIMEDOUT (turmoil-net and Linux surface it so).
    fn give_up(&mut self, id: SocketId, cause: &str) {
        let socket = &mut self.sockets[id as usize];
        socket.error = Some(Errno::ETIMEDOUT);
        socket.shut_wr = true;
        self.set_state(id, State::Closed, cause);
    }

    fn retransmit_timeout(&mut self, id: SocketId) {
        let tcp = self.settings(id).clone();
        let now = self.now;
        let state = self.sockets[id as usize].state;
        let listener = self.sockets[id as usize].listener;
        let rto_initial = ms_to_us(tcp.rto_initial_ms);
        match state {
            State::SynSent => {
                // tcp_syn_retries with tcp_syn_linear_timeouts: the first retransmissions keep
                // the initial RTO, then it doubles (Linux 6.x: SYNs at 0,1,2,3,4,5,7,11,...).
                let done = self.sockets[id as usize].tcb.retransmits;
                if done >= tcp.syn_retries + tcp.syn_linear_timeouts {
                    self.give_up(id, "no answer to any SYN: connect() fails with ETIMEDOUT");
                    return;
                }
                let retransmits = done + 1;
                self.sockets[id as usize].tcb.retransmits = retransmits;
                self.send_syn(id, false, true);
                let delay = if retransmits <= tcp.syn_linear_timeouts {
                    rto_initial
                } else {
                    rto_initial << (retransmits - tcp.syn_linear_timeouts).min(20)
                };
                let delay = delay.min(ms_to_us(tcp.rto_max_ms));
                self.sockets[id as usize].tcb.rto_us = delay;
                self.arm_timer(id, TimerKind::Retransmit, now + delay);
            }
            State::SynRecv => {
                let done = self.sockets[id as usize].tcb.retransmits;
                let limit = if listener.is_some() { tcp.synack_retries } else { tcp.syn_retries };
                if done >= limit {
                    if listener.is_some() {
                        self.set_state(
                            id,
                            State::Closed,
                            "no final ACK after every SYN+ACK retry: the half-open connection is dropped",
                        );
                        self.free_socket(id);
                    } else {
                        self.give_up(id, "no answer to the SYN+ACK: the connection attempt times out");
                    }
                    return;
                }
                let retransmits = done + 1;
                self.sockets[id as usize].tcb.retransmits = retransmits;
                self.send_syn(id, true, true);
                let delay = (rto_initial << retransmits.min(20)).min(ms_to_us(tcp.rto_max_ms));
                self.arm_timer(id, TimerKind::Retransmit, now + delay);
            }
            _ if self.sockets[id as usize].tcb.snd_una == self.sockets[id as usize].tcb.snd_max => {}
            State::TimeWait | State::Closed | State::Listen => {}
            _ => {
                let tcb = &mut self.sockets[id as usize].tcb;
                let first = *tcb.first_retransmit_at.get_or_insert(now.saturating_sub(tcb.rto_us));
                let limit = retransmission_budget(tcp.retries2, ms_to_us(tcp.rto_min_ms), ms_to_us(tcp.rto_max_ms));
                if now.saturating_sub(first) >= limit {
                    self.give_up(id, "retransmissions went unanswered (tcp_retries2): the connection times out");
                    return;
                }
                tcb.retransmits += 1;
                // tcp_enter_loss(): the Loss state lasts until everything sent so far is
                // acknowledged, and a loss probe episode ends.
                tcb.recovery_until = Some(tcb.snd_max);
                tcb.tlp_high_seq = None;
                let flight = tcb.snd_max.wrapping_sub(tcb.snd_una);
                tcb.ssthresh = (flight / 2).max(2 * tcb.mss);
                tcb.cwnd = tcb.mss;
                // tcp_enter_loss() clears snd_cwnd_cnt.
                tcb.snd_cwnd_cnt = 0;
                tcb.dupacks = 0;
                tcb.rtt_probe = None;
                // Go back to the oldest unacknowledged byte (RFC 6298 5.4-5.6).
                tcb.snd_nxt = tcb.snd_una;
                tcb.rto_us = tcb.rto_us.saturating_mul(2).min(ms_to_us(tcp.rto_max_ms));
                self.tcp_output(id);
                let tcb = &self.sockets[id as usize].tcb;
                if tcb.snd_nxt == tcb.snd_una {
                    // Nothing could be resent (zero window): resend the head anyway.
                    self.retransmit_head(id);
                }
                let rto = self.sockets[id as usize].tcb.rto_us;
                self.arm_timer(id, TimerKind::Retransmit, now + rto);
            }
        }
    }
}

/// Reno's window growth for an ACK of `acked` segments, counted in segments as Linux does
/// (`tcp_reno_cong_avoid()`): below ssthresh slow start adds one segment per segment
/// acknowledged, however small, but stops at ssthresh (`tcp_slow_start()`); the segments
/// left over, and all of them above ssthresh, count towards congestion avoidance, which
/// adds one segment per window's worth of acknowledged segments (`tcp_cong_avoid_ai()`
/// with `snd_cwnd_cnt`). The window stays below 4 GB (saturating arithmetic).
fn reno_cong_avoid(tcb: &mut crate::socket::Tcb, acked: u32) {
    let mss = tcb.mss.max(1);
    let mut acked = acked;
    if tcb.cwnd < tcb.ssthresh {
        let to_ssthresh = (tcb.ssthresh - tcb.cwnd).div_ceil(mss);
        let used = acked.min(to_ssthresh);
        let grown = u64::from(tcb.cwnd) + u64::from(used) * u64::from(mss);
        tcb.cwnd = grown.min(u64::from(tcb.ssthresh)) as u32;
        acked -= used;
        if acked == 0 {
            return;
        }
    }
    let window = (tcb.cwnd / mss).max(1);
    if tcb.snd_cwnd_cnt >= window {
        // Credit gathered while the window was larger is applied gently now.
        tcb.snd_cwnd_cnt = 0;
        tcb.cwnd = tcb.cwnd.saturating_add(mss);
    }
    tcb.snd_cwnd_cnt = tcb.snd_cwnd_cnt.saturating_add(acked);
    if tcb.snd_cwnd_cnt >= window {
        let delta = tcb.snd_cwnd_cnt / window;
        tcb.snd_cwnd_cnt -= delta * window;
        tcb.cwnd = tcb.cwnd.saturating_add(delta.saturating_mul(mss));
    }
}

/// A host's timestamp clock in milliseconds, offset per host as real clocks are.
fn ts_clock(now_us: u64, addr: crate::addr::Ipv4) -> u32 {
    let offset = u32::from_be_bytes(addr.0).wrapping_mul(2_654_435_761);
    ((now_us / 1000) as u32).wrapping_add(offset)
}

/// RFC 6298 2.2-2.3: smoothed RTT and its variation.
fn rtt_sample(tcb: &mut crate::socket::Tcb, sample_us: u64, tcp: &TcpSettings) {
    let sample = sample_us.max(1);
    tcb.min_rtt_us = Some(tcb.min_rtt_us.map_or(sample, |min| min.min(sample)));
    match tcb.srtt_us {
        None => {
            tcb.srtt_us = Some(sample);
            tcb.rttvar_us = sample / 2;
        }
        Some(srtt) => {
            let delta = srtt.abs_diff(sample);
            tcb.rttvar_us = (3 * tcb.rttvar_us + delta) / 4;
            tcb.srtt_us = Some((7 * srtt + sample) / 8);
        }
    }
    tcb.rto_us = rto_from_estimate(tcb, tcp);
}

/// Linux's RTO: srtt plus the larger of 4*rttvar and rto_min, within [rto_min, rto_max]
/// (`tcp_set_rto()`, `TCP_RTO_MIN`, `TCP_RTO_MAX`).
fn rto_from_estimate(tcb: &crate::socket::Tcb, tcp: &TcpSettings) -> u64 {
    let min = ms_to_us(tcp.rto_min_ms);
    let max = ms_to_us(tcp.rto_max_ms);
    match tcb.srtt_us {
        None => ms_to_us(tcp.rto_initial_ms),
        Some(srtt) => srtt.saturating_add(tcb.rttvar_us.saturating_mul(4).max(min)).clamp(min, max),
    }
}

/// How long data retransmissions may go on before the connection is dropped: the time
/// `boundary` doublings from rto_min would take, capped at rto_max (`tcp_model_timeout()`);
/// 924.6 s for tcp_retries2 = 15.
pub(crate) fn retransmission_budget(boundary: u32, rto_min_us: u64, rto_max_us: u64) -> u64 {
    let threshold = (rto_max_us / rto_min_us.max(1)).max(1).ilog2();
    if boundary <= threshold {
        ((2u64 << boundary) - 1) * rto_min_us
    } else {
        ((2u64 << threshold) - 1) * rto_min_us + u64::from(boundary - threshold) * rto_max_us
    }
}

/// Socket options a listener's new connections inherit (TLPI 61.11).
pub(crate) struct InheritedOptions {
    reuseaddr: bool,
    reuseport: bool,
    rcvbuf_locked: bool,
    sndbuf_locked: bool,
    linger: Option<u32>,
    nodelay: bool,
    keepalive: bool,
    sndbuf: u32,
    rcvbuf: u32,
}

impl crate::socket::Socket {
    pub(crate) fn clone_options(&self) -> InheritedOptions {
        InheritedOptions {
            reuseaddr: self.reuseaddr,
            reuseport: self.reuseport,
            rcvbuf_locked: self.rcvbuf_locked,
            sndbuf_locked: self.sndbuf_locked,
            linger: self.linger,
            nodelay: self.nodelay,
            keepalive: self.keepalive,
            sndbuf: self.sndbuf,
            rcvbuf: self.rcvbuf,
        }
    }
}

impl InheritedOptions {
    fn apply_to(&self, socket: &mut crate::socket::Socket) {
        socket.reuseaddr = self.reuseaddr;
        socket.reuseport = self.reuseport;
        socket.rcvbuf_locked = self.rcvbuf_locked;
        socket.sndbuf_locked = self.sndbuf_locked;
        socket.linger = self.linger;
        socket.nodelay = self.nodelay;
        socket.keepalive = self.keepalive;
        socket.sndbuf = self.sndbuf;
        socket.rcvbuf = self.rcvbuf;
    }
}

// The state-machine tests (one banner per state) and their harness live beside this file.
#[cfg(test)]
#[path = "tcp_tests.rs"]
mod tests;
