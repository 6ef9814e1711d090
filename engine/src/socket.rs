//! A simulated kernel socket: the TCP control block, its queues and its timers.
//!
//! Simplification: queues count payload bytes only. Linux charges socket memory by skb
//! truesize and autotunes buffer sizes; here SendQ and RecvQ capacities are the plain
//! byte counts that SO_SNDBUF / SO_RCVBUF (doubled, as Linux stores them) give, which is
//! the model the course figures draw (Sockets-in-C Fig. 7.2-7.4). The receive window, though,
//! is computed from memory as Linux does: each queued segment is charged its payload plus a
//! fixed truesize overhead ([`SKB_OVERHEAD`]), see `rmem_alloc()` and tcp/window.rs.

use std::collections::VecDeque;

use crate::addr::SockAddr;
use crate::errno::Errno;
use crate::ids::HostId;
use crate::state::State;
use crate::trace::{Pid, Proto, SendingLimits, SocketId, TimerKind};
use crate::vecmap::VecMap;

/// Memory a received segment costs beyond its payload (the skb's truesize minus its length).
/// Measured on the project's Linux 6.18 machine over loopback with SO_MEMINFO: one segment of
/// n bytes (1 to 32,741) left `sk_rmem_alloc` at n + 832 (an sk_buff, its head and shared
/// info). The same figure reproduces the kernel's windows on lo and on a 1500-byte MTU path
/// (see the window notes in tcp/window.rs).
pub(crate) const SKB_OVERHEAD: u32 = 832;

/// `TCP_DEFAULT_SCALING_RATIO`: until a full-sized segment has been measured, Linux assumes
/// half of the buffer memory holds payload (ratios are in 256ths, `TCP_RMEM_TO_WIN_SCALE`).
pub(crate) const TCP_DEFAULT_SCALING_RATIO: u32 = 128;

fn writable_at(send_q: u32, sndbuf: u32) -> bool {
    sndbuf.saturating_sub(send_q) >= send_q / 2
}

/// Number of [`TimerKind`] variants; each socket has one deadline slot per kind.
pub(crate) const TIMER_KINDS: usize = TimerKind::ALL.len();

/// Sequence-space comparisons modulo 2^32 (RFC 793 section 3.3).
pub(crate) fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

pub(crate) fn seq_le(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) <= 0
}

pub(crate) fn seq_gt(a: u32, b: u32) -> bool {
    seq_lt(b, a)
}

pub(crate) fn seq_ge(a: u32, b: u32) -> bool {
    seq_le(b, a)
}

#[derive(Clone, Debug)]
pub(crate) struct Socket {
    pub id: SocketId,
    pub host: HostId,
    pub proto: Proto,
    pub state: State,
    pub local: Option<SockAddr>,
    pub peer: Option<SockAddr>,
    /// Descriptors (across all processes) that refer to this socket.
    pub refs: u32,
    /// The socket has been freed; its slot is kept so ids stay stable.
    pub freed: bool,
    /// It was connected once (so a later send() gives EPIPE, not ENOTCONN).
    pub was_connected: bool,
    pub error: Option<Errno>,
    pub shut_rd: bool,
    pub shut_wr: bool,

    pub reuseaddr: bool,
    /// SO_REUSEPORT: sockets that all set it may share a port, listeners included.
    pub reuseport: bool,
    pub linger: Option<u32>,
    pub nodelay: bool,
    /// TCP_CORK: a last segment smaller than the MSS waits until the cork is pulled (Linux's
    /// `TCP_NAGLE_CORK`).
    pub cork: bool,
    /// TCP_INQ: recv() also reports the bytes left to read (Linux's `TCP_CMSG_INQ`).
    pub inq: bool,
    /// TCP_MAXSEG (Linux's `rx_opt.user_mss`): caps the MSS announced and the one used; 0 for
    /// none.
    pub user_mss: u16,
    /// TCP_USER_TIMEOUT in milliseconds (Linux's `icsk_user_timeout`); 0 for none.
    pub user_timeout_ms: u32,
    pub keepalive: bool,
    pub nonblocking: bool,
    pub sndbuf: u32,
    pub rcvbuf: u32,
    /// The application set SO_RCVBUF, which also bounds the window scale this socket offers
    /// (Linux sets SOCK_RCVBUF_LOCK and clamps the window to the buffer).
    pub rcvbuf_locked: bool,
    /// SO_SNDBUF was set: the kernel stops growing SendQ (SOCK_SNDBUF_LOCK).
    pub sndbuf_locked: bool,

    pub backlog: u32,
    pub syn_queue: Vec<SocketId>,
    pub accept_queue: VecDeque<SocketId>,
    /// For a connection made by a listener: that listener, until accept() takes it.
    pub listener: Option<SocketId>,
    /// Processes blocked on this socket, woken by any state or queue change.
    pub waiters: Vec<Pid>,
    /// Deadlines, one slot per timer kind.
    pub timers: [Option<u64>; TIMER_KINDS],
    /// Every byte the application wrote, and every byte it read, in order: what the
    /// stream-integrity property tests compare.
    pub written: Vec<u8>,
    pub read: Vec<u8>,
    /// UDP datagrams waiting to be read: (sender, payload).
    pub datagrams: VecDeque<(SockAddr, Vec<u8>)>,
    pub tcb: Tcb,
    /// The sending limits the trace last showed for this socket, so that only a change is
    /// traced (see [`Socket::sending_limits`]).
    pub traced_limits: Option<SendingLimits>,
}

/// The TCP control block (RFC 793 section 3.2 variables, plus Linux's ACK machinery).
#[derive(Clone, Debug, Default)]
pub(crate) struct Tcb {
    pub iss: u32,
    pub snd_una: u32,
    pub snd_nxt: u32,
    /// Highest sequence number sent so far (snd_nxt goes back on a retransmission timeout).
    pub snd_max: u32,
    /// Sequence number after the last byte the application has written.
    pub write_seq: u32,
    /// The application asked for a FIN; it takes sequence number `write_seq`.
    pub fin_queued: bool,
    /// The peer's window in bytes (already scaled).
    pub snd_wnd: u32,
    /// The largest window the peer has advertised (Linux's `max_window`): segments are at
    /// most half of it once it exceeds 536 bytes (`tcp_bound_to_half_wnd()`).
    pub max_window: u32,
    pub snd_wl1: u32,
    pub snd_wl2: u32,
    /// Shift applied to windows the peer sends us.
    pub snd_wscale: u8,
    /// Shift we apply to the windows we send.
    pub rcv_wscale: u8,
    /// Largest payload per segment we may send.
    pub mss: u32,
    /// The MSS the peer announced (Linux's `rx_opt.mss_clamp`).
    pub mss_clamp: u32,
    /// The MSS we announced.
    pub adv_mss: u16,
    /// Bytes from snd_una on: sent but unacknowledged, then not yet sent.
    pub send_buf: VecDeque<u8>,
    /// End of the last segment smaller than the MSS that we sent (Nagle, Minshall's rule).
    pub snd_sml: u32,
    /// End of the last segment that carried PSH (Linux's `pushed_seq`).
    pub pushed_seq: u32,
    /// A send() that stopped short ended here, on a full send buffer that left during the
    /// call, so no PSH marks this point (`tcp_sendmsg_locked()` pushes full buffers as it
    /// goes and marks only an unsent tail).
    pub unpushed_end: Option<u32>,
    /// The last send() said more follows (MSG_MORE): packets of several segments go out
    /// without the PSH they otherwise carry (packetdrill's `sendmsg_msg_more`).
    pub more_follows: bool,
    /// Where records written with MSG_EOR end, in sequence order: no segment crosses one, and
    /// a segment that ends at one carries PSH. Those at or before snd_una are dropped.
    pub record_ends: VecDeque<u32>,
    /// When we last answered an out-of-window segment (Linux's `last_oow_ack_time`).
    pub last_oow_ack_at: Option<u64>,

    pub irs: u32,
    pub rcv_nxt: u32,
    /// rcv_nxt when we last advertised a window, and that window: the right edge we promised.
    pub rcv_wup: u32,
    pub rcv_wnd: u32,
    /// Linux's `scaling_ratio`: the share of buffer memory (in 256ths) that is offered as
    /// window, from len/truesize of the peer's full-sized segments (`tcp_measure_rcv_mss()`).
    pub scaling_ratio: u32,
    /// Linux's `rcv_ssthresh`: the window may grow up to this, which starts at the initial
    /// window and grows as data arrives (`tcp_grow_window()`).
    pub rcv_ssthresh: u32,
    /// Linux's `window_clamp`: the largest window this socket will ever offer (0 until the
    /// first SYN chose it, `tcp_select_initial_window()`).
    pub window_clamp: u32,
    /// Payload bytes of each segment that joined RecvQ and is not wholly read yet: each one
    /// is charged its truesize against SO_RCVBUF (see `rmem_alloc()`).
    pub recv_skbs: VecDeque<u32>,
    /// Received, in order, not yet read.
    pub recv_buf: VecDeque<u8>,
    /// The peer's FIN arrived in order: after recv_buf is drained, recv() returns 0.
    pub fin_rcvd: bool,
    /// Out-of-order segments keyed by sequence number.
    pub ooo: VecMap<u32, Vec<u8>>,
    /// A FIN that arrived out of order, at this sequence number.
    pub ooo_fin: Option<u32>,
    /// Bytes the application has read.
    pub delivered: u64,
    /// Largest segment seen from the peer (Linux's rcv_mss estimate).
    pub rcv_mss: u32,
    /// Linux's `icsk_ack.rcv_mss`: the estimate of the peer's MSS that window decisions use.
    /// It starts at a guess (`tcp_initialize_rcv_mss()`) and only grows, to the length of a
    /// larger segment (`tcp_measure_rcv_mss()`); 0 until the connection is established.
    pub ack_rcv_mss: u32,
    /// `icsk_ack.last_seg_size`: the payload of the last small segment that looked full-sized
    /// (`tcp_measure_rcv_mss()`); two in a row lower `ack_rcv_mss` to it.
    pub last_seg_size: u32,
    /// `ICSK_ACK_PUSHED` (1) and `ICSK_ACK_PUSHED2` (2): one or two segments smaller than
    /// `ack_rcv_mss` arrived since the last ACK. A read that empties the queue then sends the
    /// owed ACK at once (`tcp_cleanup_rbuf()`); cleared by every ACK sent.
    pub ack_pushed: u8,

    pub srtt_us: Option<u64>,
    /// The smallest RTT sample so far (`tcp_min_rtt()`). Linux keeps a windowed minimum over
    /// `tcp_min_rtt_wlen` (300 s); the scenarios are far shorter, so a plain minimum of the
    /// samples gives the same value.
    pub min_rtt_us: Option<u64>,
    /// `sk_pacing_rate` in bytes per second, as `tcp_update_pacing_rate()` last set it; None
    /// (unlimited) before the first RTT sample. It only sizes TSO packets here: like Linux
    /// without the fq qdisc or BBR, nothing is actually paced.
    pub pacing_rate: Option<u64>,
    pub rttvar_us: u64,
    pub rto_us: u64,
    /// Retransmissions of the current head segment (drives backoff and give-up).
    pub retransmits: u32,
    pub first_retransmit_at: Option<u64>,
    /// (sequence number whose ACK ends the measurement, time sent).
    pub rtt_probe: Option<(u32, u64)>,
    /// The congestion window in bytes: Linux's `snd_cwnd` (counted in segments) times the MSS.
    pub cwnd: u32,
    pub ssthresh: u32,
    /// Linux's `snd_cwnd_cnt`: segments acknowledged in congestion avoidance since the
    /// window last grew; the window grows by one segment per window's worth of them
    /// (`tcp_cong_avoid_ai()`).
    pub snd_cwnd_cnt: u32,
    pub dupacks: u32,
    /// Zero-window or keepalive probes sent without an answer.
    pub probes: u32,
    /// Doublings of the zero-window probe interval (Linux's `icsk_backoff` while probing);
    /// unlike `probes` it is not cleared by an answer that still shows a closed window.
    pub probe_backoff: u32,

    pub ack_pending: bool,
    pub quick: u32,
    pub pingpong: bool,
    pub last_rcv_at: Option<u64>,
    /// Time of the last segment received (keepalive idle time counts from here).
    pub last_heard_at: u64,

    pub timestamps: bool,
    pub ts_recent: u32,
    pub sack_ok: bool,

    /// Segments sent and not yet acknowledged, oldest first: where each ends (a FIN counts
    /// one) and when it was last transmitted. Linux's retransmission queue, one entry per
    /// segment: its length is `packets_out` and its head's time is what the retransmission
    /// timeout counts from (`tcp_rto_delta_us()`).
    pub unacked_segments: VecDeque<(u32, u64)>,
    /// Linux's `tlp_high_seq`: snd_nxt when the last tail loss probe was sent, until an ACK
    /// ends the probe's episode; only one probe may be outstanding (RFC 8985 section 7.3).
    pub tlp_high_seq: Option<u32>,
    /// Linux's `tlp_retrans`: the outstanding probe repeated old data rather than sending new.
    pub tlp_retrans: bool,
    /// The sender is in loss recovery (Linux's `icsk_ca_state` Loss or Recovery) until snd_una
    /// reaches this sequence number: no loss probe is scheduled meanwhile.
    pub recovery_until: Option<u32>,
    /// The next ACK reports a duplicate segment in a D-SACK block (`tcp_dsack_set()`).
    pub dsack_pending: bool,
}

impl Socket {
    pub fn new(id: SocketId, host: HostId, proto: Proto, sndbuf: u32, rcvbuf: u32) -> Self {
        Socket {
            id,
            host,
            proto,
            state: State::Closed,
            local: None,
            peer: None,
            refs: 0,
            freed: false,
            was_connected: false,
            error: None,
            shut_rd: false,
            shut_wr: false,
            reuseaddr: false,
            reuseport: false,
            linger: None,
            nodelay: false,
            cork: false,
            inq: false,
            user_mss: 0,
            user_timeout_ms: 0,
            keepalive: false,
            nonblocking: false,
            sndbuf,
            rcvbuf,
            rcvbuf_locked: false,
            sndbuf_locked: false,
            backlog: 0,
            syn_queue: Vec::new(),
            accept_queue: VecDeque::new(),
            listener: None,
            waiters: Vec::new(),
            timers: [None; TIMER_KINDS],
            written: Vec::new(),
            read: Vec::new(),
            datagrams: VecDeque::new(),
            tcb: Tcb { scaling_ratio: TCP_DEFAULT_SCALING_RATIO, ..Tcb::default() },
            traced_limits: None,
        }
    }

    /// A TCP socket's congestion window, slow-start threshold, RTT estimate and RTO, from the
    /// moment it takes its peer's SYN, when its MSS and so its window in bytes are known,
    /// until it is freed. A listener, a socket before connect() and one in SYN_SENT have none.
    pub fn sending_limits(&self) -> Option<SendingLimits> {
        let tcb = &self.tcb;
        (self.proto == Proto::Tcp && tcb.cwnd > 0 && !self.freed).then_some(SendingLimits {
            cwnd: tcb.cwnd,
            // init_sender() starts it at u32::MAX, Linux's TCP_INFINITE_SSTHRESH.
            ssthresh: (tcb.ssthresh != u32::MAX).then_some(tcb.ssthresh),
            srtt_us: tcb.srtt_us,
            rto_us: tcb.rto_us,
        })
    }

    pub fn timer(&self, kind: TimerKind) -> Option<u64> {
        self.timers[kind.slot()]
    }

    /// Bytes written and not yet acknowledged (`ss`'s Send-Q without an unacknowledged SYN
    /// or FIN).
    /// `sk_acceptq_is_full()`: more than `backlog` connections wait to be accepted, so a
    /// listener takes no new SYN and no final ACK of a handshake.
    pub fn accept_queue_full(&self) -> bool {
        self.accept_queue.len() as u32 > self.backlog
    }

    pub fn send_q(&self) -> u32 {
        self.tcb.send_buf.len() as u32
    }

    /// Linux's sk_stream_is_writeable() for SendQ: the free room is at least half of what is
    /// queued (`sk_stream_wspace() >= sk_stream_min_wspace()`), so a blocked writer wakes
    /// once SendQ is down to about two thirds of SO_SNDBUF.
    pub fn send_q_writable(&self) -> bool {
        writable_at(self.send_q(), self.sndbuf)
    }

    /// The largest SendQ at which [`Socket::send_q_writable`] holds.
    pub fn writable_send_q(&self) -> u32 {
        let mut level = (u64::from(self.sndbuf) * 2 / 3 + 1).min(u64::from(u32::MAX)) as u32;
        while level > 0 && !writable_at(level, self.sndbuf) {
            level -= 1;
        }
        level
    }

    pub fn recv_q(&self) -> u32 {
        if self.proto == Proto::Udp {
            return self.datagrams.iter().map(|(_, data)| data.len() as u32).sum();
        }
        self.tcb.recv_buf.len() as u32
    }

    /// Sequence number of our FIN, once the application asked for one.
    pub fn fin_seq(&self) -> Option<u32> {
        self.tcb.fin_queued.then_some(self.tcb.write_seq)
    }

    /// True once the peer has acknowledged our FIN.
    pub fn fin_acked(&self) -> bool {
        match self.fin_seq() {
            Some(fin) => seq_gt(self.tcb.snd_una, fin),
            None => false,
        }
    }

    /// Bytes in flight (sent, unacknowledged), counting SYN and FIN.
    pub fn in_flight(&self) -> u32 {
        self.tcb.snd_nxt.wrapping_sub(self.tcb.snd_una)
    }

    /// Unread plus out-of-order bytes held by the receive side.
    pub fn recv_used(&self) -> u32 {
        self.tcb.recv_buf.len() as u32 + self.tcb.ooo.values().map(|data| data.len() as u32).sum::<u32>()
    }

    /// Receive memory charged against SO_RCVBUF (Linux's `sk_rmem_alloc`): every queued
    /// segment costs its payload plus [`SKB_OVERHEAD`], in order or not.
    pub fn rmem_alloc(&self) -> u32 {
        let skbs = (self.tcb.recv_skbs.len() + self.tcb.ooo.len()) as u32;
        self.recv_used().saturating_add(skbs.saturating_mul(SKB_OVERHEAD))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_comparisons_wrap() {
        assert!(seq_lt(u32::MAX - 5, 3));
        assert!(seq_gt(3, u32::MAX - 5));
        assert!(seq_le(7, 7));
        assert!(seq_ge(7, 7));
        assert!(!seq_lt(7, 7));
    }

    #[test]
    fn a_writer_wakes_at_two_thirds_of_the_send_buffer() {
        for sndbuf in (0..2000).chain([4608, 9216, 16384, 212_992 * 2, u32::MAX]) {
            let level = Socket::new(SocketId(0), HostId(0), Proto::Tcp, sndbuf, 0).writable_send_q();
            assert!(writable_at(level, sndbuf), "{sndbuf}");
            assert!(!writable_at(level + 1, sndbuf), "{sndbuf}");
            if sndbuf < 2000 {
                assert!((0..=level).all(|queued| writable_at(queued, sndbuf)), "{sndbuf}");
            }
        }
        assert_eq!(Socket::new(SocketId(0), HostId(0), Proto::Tcp, 9216, 0).writable_send_q(), 6144);
    }
}
