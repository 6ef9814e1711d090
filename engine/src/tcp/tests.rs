//! Unit tests of the TCP state machine, one banner per state, one fixture per state
//! (smoltcp's `socket/tcp.rs` layout).
//!
//! Each fixture builds a two-host world with [`harness::Harness`] and drives the socket
//! under test into its state by hand-made segments and system calls; each test then
//! injects one segment or makes one call and checks what the socket sent, which state it
//! reached and what the calls return. The remote host is always played by the test.

#[path = "harness.rs"]
mod harness;

use harness::{Harness, Ret, Seg, Sent, LATENCY_US, LOCAL_EPHEMERAL_PORT, LOCAL_IP, LOCAL_ISS, REMOTE_IP};

use super::congestion::retransmission_budget;
use crate::addr::SockAddr;
use crate::errno::Errno;
use crate::scenario::{How, SockOpt, TcpSettings};
use crate::state::State;
use crate::trace::{Fate, Flags, SocketId, TcpOptions, TimerKind};

/// The remote host's initial sequence number.
pub(crate) const REMOTE_ISS: u32 = 7_000_000;
/// The port a listener under test listens on, and the port the remote client uses.
pub(crate) const SERVER_PORT: u16 = 80;
pub(crate) const CLIENT_PORT: u16 = 50_000;
/// The remote host's window field after the handshake (scaled by 7: 64256 bytes).
pub(crate) const REMOTE_WIN: u16 = 502;
/// Linux's delayed-ACK timeout, `TCP_DELACK_MIN`.
pub(crate) const DELACK_US: u64 = 40_000;
/// RTO of a socket whose one RTT sample is the 2 ms round trip of the harness link:
/// srtt + max(4 * rttvar, rto_min) = 2 ms + 200 ms (`tcp_set_rto()`).
pub(crate) const RTO_AFTER_HANDSHAKE_US: u64 = 202_000;
pub(crate) const SECOND: u64 = 1_000_000;

pub(crate) const FIN_ACK: Flags = Flags { fin: true, ack: true, syn: false, rst: false, psh: false };
pub(crate) const PSH_ACK: Flags = Flags { psh: true, ack: true, syn: false, fin: false, rst: false };

pub(crate) fn remote_syn_options() -> TcpOptions {
    TcpOptions { mss: Some(1460), wscale: Some(7), ..TcpOptions::default() }
}

/// The remote client's SYN to the local listener.
pub(crate) fn remote_syn() -> Seg {
    Seg { flags: Flags::SYN, seq: REMOTE_ISS, win: 64_240, options: remote_syn_options(), ..Seg::default() }
}

/// The remote server's SYN+ACK to our SYN (seq REMOTE_ISS, ack LOCAL_ISS+1).
pub(crate) fn remote_syn_ack() -> Seg {
    Seg {
        flags: Flags::SYN_ACK,
        seq: REMOTE_ISS,
        ack: LOCAL_ISS + 1,
        win: 64_240,
        options: remote_syn_options(),
        ..Seg::default()
    }
}

/// A segment from the remote end of an established connection: `seq`/`ack` given in
/// offsets from the two ISNs plus one (the first byte after each SYN).
pub(crate) fn remote(flags: Flags, seq_off: u32, ack_off: u32) -> Seg {
    Seg {
        flags,
        seq: REMOTE_ISS.wrapping_add(1 + seq_off),
        ack: LOCAL_ISS.wrapping_add(1 + ack_off),
        win: REMOTE_WIN,
        ..Seg::default()
    }
}

pub(crate) fn remote_data(seq_off: u32, ack_off: u32, payload: &[u8]) -> Seg {
    Seg { payload: payload.to_vec(), ..remote(PSH_ACK, seq_off, ack_off) }
}

/// Checks one sent segment's flags, sequence and acknowledgement numbers.
#[track_caller]
pub(crate) fn assert_segment(sent: &Sent, flags: Flags, seq: u32, ack: u32) {
    assert_eq!(
        (sent.seg.flags, sent.seg.seq, sent.seg.ack),
        (flags, seq, ack),
        "expected {} seq {seq} ack {ack}, got {:?}",
        flags.letters(),
        sent.seg
    );
}

#[track_caller]
pub(crate) fn only(sent: Vec<Sent>) -> Sent {
    assert_eq!(sent.len(), 1, "expected exactly one segment, got {sent:#?}");
    sent.into_iter().next().expect("one segment")
}

// ----- fixtures: one per state -----

/// A listener on *:80 with listen(fd, 1).
pub(crate) fn socket_listen() -> (Harness, SocketId) {
    let mut h = Harness::new(Harness::linux_settings());
    let id = h.socket();
    assert_eq!(h.bind(id, SockAddr::new(crate::addr::Ipv4::UNSPECIFIED, SERVER_PORT)), Ret::Value(0));
    assert_eq!(h.listen(id, 1), Ret::Value(0));
    h.local = SockAddr::new(LOCAL_IP, SERVER_PORT);
    h.remote = SockAddr::new(REMOTE_IP, CLIENT_PORT);
    assert_eq!(h.state(id), State::Listen);
    h.take_sent();
    (h, id)
}

/// A connecting socket: connect() has sent its SYN (seq LOCAL_ISS) at time 0.
pub(crate) fn socket_syn_sent() -> (Harness, SocketId) {
    socket_syn_sent_with(Harness::linux_settings())
}

pub(crate) fn socket_syn_sent_with(tcp: TcpSettings) -> (Harness, SocketId) {
    let mut h = Harness::new(tcp);
    let id = h.socket();
    let server = SockAddr::new(REMOTE_IP, SERVER_PORT);
    assert_eq!(h.connect(id, server), Ret::Blocked);
    h.local = SockAddr::new(LOCAL_IP, LOCAL_EPHEMERAL_PORT);
    h.remote = server;
    assert_eq!(h.state(id), State::SynSent);
    h.take_sent();
    (h, id)
}

/// A connection the listener made for the remote client's SYN, answered by SYN+ACK
/// (seq LOCAL_ISS); the returned socket is the child, its listener is `h.sock(child).listener`.
pub(crate) fn socket_syn_recv() -> (Harness, SocketId) {
    let (mut h, listener) = socket_listen();
    h.inject(remote_syn());
    let child = *h.sock(listener).syn_queue.first().expect("the SYN made a child");
    assert_eq!(h.state(child), State::SynRecv);
    h.take_sent();
    (h, child)
}

/// An established connection, opened actively: SYN at 0 ms, SYN+ACK back at 2 ms.
pub(crate) fn socket_established() -> (Harness, SocketId) {
    socket_established_with(Harness::linux_settings())
}

pub(crate) fn socket_established_with(tcp: TcpSettings) -> (Harness, SocketId) {
    socket_established_after(tcp, 2 * LATENCY_US)
}

/// An established connection whose handshake took `rtt_us` (the injected SYN+ACK travels the
/// harness link's latency on top of the wait); the peer agrees to SACK if `tcp` offers it.
pub(crate) fn socket_established_after(tcp: TcpSettings, rtt_us: u64) -> (Harness, SocketId) {
    let sack = tcp.sack;
    let (mut h, id) = socket_syn_sent_with(tcp);
    h.advance(rtt_us - LATENCY_US);
    let syn_ack = remote_syn_ack();
    h.inject(Seg { options: TcpOptions { sack_ok: sack, ..syn_ack.options }, ..syn_ack });
    assert_eq!(h.state(id), State::Established);
    assert_eq!(h.connect_result(id), Ret::Value(0));
    h.take_sent();
    (h, id)
}

/// close() on an established connection: FIN (seq LOCAL_ISS+1) sent, not yet acknowledged.
pub(crate) fn socket_fin_wait_1() -> (Harness, SocketId) {
    let (mut h, id) = socket_established();
    h.close(id);
    assert_eq!(h.state(id), State::FinWait1);
    h.take_sent();
    (h, id)
}

/// The orphaned socket's FIN is acknowledged; the peer has not closed yet.
pub(crate) fn socket_fin_wait_2() -> (Harness, SocketId) {
    let (mut h, id) = socket_fin_wait_1();
    h.inject(remote(Flags::ACK, 0, 1));
    assert_eq!(h.state(id), State::FinWait2);
    h.take_sent();
    (h, id)
}

/// The peer closed first; our (delayed) ACK of its FIN has gone out.
pub(crate) fn socket_close_wait() -> (Harness, SocketId) {
    let (mut h, id) = socket_established();
    h.inject(remote(FIN_ACK, 0, 0));
    assert_eq!(h.state(id), State::CloseWait);
    h.advance(100_000);
    h.take_sent();
    (h, id)
}

/// Both FINs crossed: ours (seq LOCAL_ISS+1) is unacknowledged, theirs is acked.
pub(crate) fn socket_closing() -> (Harness, SocketId) {
    let (mut h, id) = socket_fin_wait_1();
    h.inject(remote(FIN_ACK, 0, 0));
    assert_eq!(h.state(id), State::Closing);
    h.take_sent();
    (h, id)
}

/// close() in CLOSE_WAIT: our FIN (seq LOCAL_ISS+1) is out, unacknowledged.
pub(crate) fn socket_last_ack() -> (Harness, SocketId) {
    let (mut h, id) = socket_close_wait();
    h.close(id);
    assert_eq!(h.state(id), State::LastAck);
    h.take_sent();
    (h, id)
}

/// The active closer after the peer's FIN: our last ACK is out.
pub(crate) fn socket_time_wait() -> (Harness, SocketId) {
    socket_time_wait_with(Harness::linux_settings())
}

pub(crate) fn socket_time_wait_with(tcp: TcpSettings) -> (Harness, SocketId) {
    let (mut h, id) = socket_established_with(tcp);
    h.close(id);
    h.inject(remote(Flags::ACK, 0, 1));
    h.inject(remote(FIN_ACK, 0, 1));
    assert_eq!(h.state(id), State::TimeWait);
    h.take_sent();
    (h, id)
}

/// A socket bound to 10.0.0.1:80 that does not listen: port 80 is closed to TCP.
pub(crate) fn socket_closed() -> (Harness, SocketId) {
    let mut h = Harness::new(Harness::linux_settings());
    let id = h.socket();
    assert_eq!(h.bind(id, SockAddr::new(LOCAL_IP, SERVER_PORT)), Ret::Value(0));
    h.local = SockAddr::new(LOCAL_IP, SERVER_PORT);
    h.remote = SockAddr::new(REMOTE_IP, CLIENT_PORT);
    assert_eq!(h.state(id), State::Closed);
    (h, id)
}

// ===== LISTEN =====

/// RFC 9293 3.10.7.2 and Linux `tcp_conn_request()`: a SYN makes a SYN_RECV request in
/// the listener's SYN queue, answered by a SYN+ACK with our MSS and window scale.
#[test]
pub(crate) fn test_listen_syn_creates_syn_recv_child() {
    let (mut h, listener) = socket_listen();
    h.inject(remote_syn());
    let queue = h.sock(listener).syn_queue.clone();
    assert_eq!(queue.len(), 1);
    assert!(h.sock(listener).accept_queue.is_empty());
    let child = queue[0];
    assert_eq!(h.state(child), State::SynRecv);
    assert_eq!(h.sock(child).listener, Some(listener));
    assert_eq!(h.state(listener), State::Listen);
    let synack = only(h.take_sent());
    assert_segment(&synack, Flags::SYN_ACK, LOCAL_ISS, REMOTE_ISS + 1);
    assert_eq!(synack.seg.options.mss, Some(1460), "Ethernet MTU 1500 - 40");
    assert_eq!(synack.seg.options.wscale, Some(7), "the peer offered scaling, so ours is echoed");
    assert_eq!(synack.seg.to, h.remote);
}

/// `tcp_select_initial_window()` ("Quantize space offering to a multiple of mss"): the
/// window on a SYN or SYN+ACK is the receive space rounded down to a multiple of the MSS,
/// 64240 = 44 * 1460 on Ethernet (65495 and 65483 on lo, see docs/linux-model.md, "Connection setup").
#[test]
pub(crate) fn test_listen_syn_ack_window_is_a_multiple_of_mss() {
    let (mut h, _) = socket_listen();
    h.inject(remote_syn());
    let synack = only(h.take_sent());
    assert_eq!(synack.seg.win, 64_240);
    let (h, _) = socket_syn_sent();
    assert_eq!(only(h.all_sent()).seg.win, 64_240);
}

/// RFC 7323 1.3: window scaling is used only when both SYNs carry the option, so a SYN
/// without it gets a SYN+ACK without it.
#[test]
pub(crate) fn test_listen_syn_without_wscale_gets_no_wscale() {
    let (mut h, _) = socket_listen();
    h.inject(Seg { options: TcpOptions { mss: Some(1460), ..TcpOptions::default() }, ..remote_syn() });
    let synack = only(h.take_sent());
    assert_eq!(synack.seg.flags, Flags::SYN_ACK);
    assert_eq!(synack.seg.options.wscale, None);
}

/// RFC 9293 3.10.7.2 ("any acknowledgment is bad if it arrives on a connection still in
/// the LISTEN state") and `tcp_v4_send_reset()`: an ACK draws `<SEQ=SEG.ACK><CTL=RST>`.
#[test]
pub(crate) fn test_listen_ack_draws_rst() {
    let (mut h, listener) = socket_listen();
    h.inject(Seg { flags: Flags::ACK, seq: REMOTE_ISS + 1, ack: 123_456, win: REMOTE_WIN, ..Seg::default() });
    let rst = only(h.take_sent());
    assert_segment(&rst, Flags::RST, 123_456, 0);
    assert!(h.sock(listener).syn_queue.is_empty());
    assert_eq!(h.state(listener), State::Listen);
}

/// RFC 9293 3.10.7.2: an RST reaching a listener is ignored, never answered.
#[test]
pub(crate) fn test_listen_rst_ignored() {
    let (mut h, listener) = socket_listen();
    h.inject(Seg { flags: Flags::RST, seq: REMOTE_ISS, ..Seg::default() });
    assert!(h.take_sent().is_empty());
    assert_eq!(h.state(listener), State::Listen);
}

/// Completes a handshake from the remote port `port` and returns the new connection.
pub(crate) fn handshake_from(h: &mut Harness, listener: SocketId, port: u16) -> SocketId {
    let from = SockAddr::new(REMOTE_IP, port);
    let to = SockAddr::new(LOCAL_IP, SERVER_PORT);
    h.inject_between(from, to, remote_syn());
    let synack = only(h.take_sent());
    assert_eq!(synack.seg.flags, Flags::SYN_ACK);
    let ack =
        Seg { flags: Flags::ACK, seq: REMOTE_ISS + 1, ack: synack.seg.seq + 1, win: REMOTE_WIN, ..Seg::default() };
    h.inject_between(from, to, ack);
    let child = *h.sock(listener).accept_queue.back().expect("the handshake completed");
    assert_eq!(h.state(child), State::Established);
    child
}

/// `sk_acceptq_is_full()` (queue length > backlog) and `tcp_conn_request()`: listen(fd, 1)
/// holds two completed connections; a third SYN is dropped without an answer, and once
/// accept() makes room the client's retransmitted SYN is answered.
#[test]
pub(crate) fn test_listen_syn_dropped_when_accept_queue_full() {
    let (mut h, listener) = socket_listen();
    handshake_from(&mut h, listener, CLIENT_PORT);
    handshake_from(&mut h, listener, CLIENT_PORT + 1);
    assert_eq!(h.sock(listener).accept_queue.len(), 2, "backlog 1 holds backlog+1 = 2");
    let third = SockAddr::new(REMOTE_IP, CLIENT_PORT + 2);
    let sockets_before = h.world.sockets.next_id();
    let syn = h.inject_between(third, h.local, remote_syn());
    let (fate, reason) = h.fate(syn).expect("the SYN is traced");
    assert_eq!(fate, Fate::Dropped);
    assert!(reason.is_some_and(|reason| reason.contains("accept queue is full")));
    assert!(h.take_sent().is_empty(), "no SYN+ACK and no RST");
    assert_eq!(h.world.sockets.next_id(), sockets_before, "no request socket was made");
    assert!(h.accept(listener).is_ok());
    h.inject_between(third, h.local, remote_syn());
    let synack = only(h.take_sent());
    assert_eq!(synack.seg.flags, Flags::SYN_ACK);
    assert_eq!(synack.seg.to, third);
}

// ===== SYN_SENT =====

/// RFC 9293 3.10.7.3 and `tcp_connect()`: connect() sends a SYN with our MSS and window
/// scale and arms the retransmission timer with the initial RTO of 1 s (`TCP_TIMEOUT_INIT`).
#[test]
pub(crate) fn test_syn_sent_syn_carries_options() {
    let (h, id) = socket_syn_sent();
    let syn = only(h.all_sent());
    assert_segment(&syn, Flags::SYN, LOCAL_ISS, 0);
    assert_eq!(syn.seg.options.mss, Some(1460));
    assert_eq!(syn.seg.options.wscale, Some(7));
    assert_eq!(h.timer(id, TimerKind::Retransmit), Some(SECOND));
}

/// RFC 9293 3.10.7.3 and `tcp_rcv_synsent_state_process()`: a SYN+ACK that acknowledges
/// our SYN establishes the connection, is acknowledged at once and connect() returns 0.
#[test]
pub(crate) fn test_syn_sent_syn_ack() {
    let (mut h, id) = socket_syn_sent();
    h.advance(LATENCY_US);
    h.inject(remote_syn_ack());
    assert_eq!(h.state(id), State::Established);
    let ack = only(h.take_sent());
    assert_segment(&ack, Flags::ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(ack.t_us, 2 * LATENCY_US, "the ACK leaves as the SYN+ACK arrives");
    assert_eq!(h.connect_result(id), Ret::Value(0));
    assert_eq!(h.timer(id, TimerKind::Retransmit), None);
    assert_eq!(h.sock(id).tcb.mss, 1460);
}

/// RFC 9293 3.10.7.3 and `tcp_reset()`: an RST whose ACK acknowledges our SYN means
/// nobody listens; the connection closes and connect() fails with ECONNREFUSED.
#[test]
pub(crate) fn test_syn_sent_rst_ack_refused() {
    let (mut h, id) = socket_syn_sent();
    h.inject(Seg { flags: Flags::RST_ACK, seq: 0, ack: LOCAL_ISS + 1, ..Seg::default() });
    assert_eq!(h.state(id), State::Closed);
    assert!(h.take_sent().is_empty(), "an RST is never answered");
    assert_eq!(h.connect_result(id), Ret::Err(Errno::ECONNREFUSED));
}

/// RFC 9293 3.10.7.3: in SYN_SENT an RST without an ACK is dropped.
#[test]
pub(crate) fn test_syn_sent_rst_no_ack() {
    let (mut h, id) = socket_syn_sent();
    h.inject(Seg { flags: Flags::RST, seq: REMOTE_ISS, ..Seg::default() });
    assert_eq!(h.state(id), State::SynSent);
    assert!(h.take_sent().is_empty());
}

/// RFC 9293 3.10.7.3 ("If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset") and
/// `tcp_v4_send_reset()`: an unacceptable ACK draws `<SEQ=SEG.ACK><CTL=RST>`, no state change.
#[test]
pub(crate) fn test_syn_sent_rst_bad_ack() {
    let (mut h, id) = socket_syn_sent();
    h.inject(Seg { flags: Flags::ACK, seq: REMOTE_ISS, ack: LOCAL_ISS + 1000, win: REMOTE_WIN, ..Seg::default() });
    let rst = only(h.take_sent());
    assert_segment(&rst, Flags::RST, LOCAL_ISS + 1000, 0);
    assert_eq!(h.state(id), State::SynSent);
    // The same for a SYN+ACK acknowledging our ISN itself (SEG.ACK =< ISS).
    h.inject(Seg { flags: Flags::SYN_ACK, seq: REMOTE_ISS, ack: LOCAL_ISS, win: 64_240, ..Seg::default() });
    let rst = only(h.take_sent());
    assert_segment(&rst, Flags::RST, LOCAL_ISS, 0);
    assert_eq!(h.state(id), State::SynSent);
}

/// `tcp_rcv_synsent_state_process()`: after an unacceptable ACK (perhaps from a stale
/// connection our RST clears away) a SYN not yet resent is resent after `TCP_TIMEOUT_MIN`
/// (8 ms at HZ=250) instead of the full initial RTO; later resends keep the 1 s schedule.
#[test]
pub(crate) fn test_syn_sent_bad_ack_resends_syn_soon() {
    let (mut h, id) = socket_syn_sent();
    let arrival = h.now() + LATENCY_US;
    h.inject(Seg { flags: Flags::ACK, seq: REMOTE_ISS, ack: LOCAL_ISS + 1000, win: REMOTE_WIN, ..Seg::default() });
    assert_eq!(only(h.take_sent()).seg.flags, Flags::RST);
    h.advance(SECOND + 10_000);
    let sent = h.take_sent();
    let times: Vec<u64> = sent.iter().map(|sent| sent.t_us).collect();
    assert_eq!(times, [arrival + 8_000, arrival + 8_000 + SECOND]);
    for syn in &sent {
        assert_segment(syn, Flags::SYN, LOCAL_ISS, 0);
    }
    assert_eq!(h.state(id), State::SynSent);
}

/// RFC 9293 3.10.7.3: an RST with an unacceptable ACK is dropped, not answered.
#[test]
pub(crate) fn test_syn_sent_rst_with_bad_ack_ignored() {
    let (mut h, id) = socket_syn_sent();
    h.inject(Seg { flags: Flags::RST_ACK, seq: 0, ack: LOCAL_ISS + 1000, ..Seg::default() });
    assert!(h.take_sent().is_empty());
    assert_eq!(h.state(id), State::SynSent);
}

/// RFC 9293 3.5 (Figure 7, simultaneous open) and `tcp_rcv_synsent_state_process()`: a
/// bare SYN moves SYN_SENT to SYN_RECV and is answered by a SYN+ACK with our ISN; the
/// peer's SYN+ACK then completes the connection and, since Linux 6.11
/// (`tcp_validate_incoming()` lets it pass, `tcp_rcv_state_process()` consumes it), draws
/// no further ACK.
#[test]
pub(crate) fn test_syn_sent_syn_simultaneous_open() {
    let (mut h, id) = socket_syn_sent();
    h.inject(remote_syn());
    assert_eq!(h.state(id), State::SynRecv);
    let synack = only(h.take_sent());
    assert_segment(&synack, Flags::SYN_ACK, LOCAL_ISS, REMOTE_ISS + 1);
    h.inject(remote_syn_ack());
    assert_eq!(h.state(id), State::Established);
    assert!(h.take_sent().is_empty(), "both ends are synchronized: nothing more to say");
    assert_eq!(h.connect_result(id), Ret::Value(0));
}

/// `tcp_syn_retries` = 6 with `tcp_syn_linear_timeouts` = 4 (`tcp_retransmit_timer()`,
/// `tcp_write_timeout()`): SYNs at 0,1,2,3,4,5,7,11,19,35,67 s, then ETIMEDOUT at 131 s.
#[test]
pub(crate) fn test_syn_sent_retransmission_schedule_and_timeout() {
    let (mut h, id) = socket_syn_sent();
    h.advance(140 * SECOND);
    let sent = h.take_sent();
    let times: Vec<u64> = sent.iter().map(|sent| sent.t_us / SECOND).collect();
    assert_eq!(times, [1, 2, 3, 4, 5, 7, 11, 19, 35, 67]);
    for syn in &sent {
        assert_segment(syn, Flags::SYN, LOCAL_ISS, 0);
        assert!(syn.seg.retransmission);
        assert_eq!(syn.t_us % SECOND, 0, "no timer slack is modelled");
    }
    let closed = h.transitions(id).last().copied().expect("a state change");
    assert_eq!(closed, (131 * SECOND, State::SynSent, State::Closed));
    assert_eq!(h.connect_result(id), Ret::Err(Errno::ETIMEDOUT));
}

// ===== SYN_RECV =====

/// RFC 9293 3.10.7.4 and `tcp_check_req()`: the handshake's final ACK establishes the
/// connection and moves it from the SYN queue to the accept queue, where accept() finds it.
#[test]
pub(crate) fn test_syn_recv_ack_established() {
    let (mut h, child) = socket_syn_recv();
    let listener = h.sock(child).listener.expect("a child of the listener");
    h.inject(remote(Flags::ACK, 0, 0));
    assert_eq!(h.state(child), State::Established);
    assert!(h.take_sent().is_empty(), "the final ACK itself needs no answer");
    assert!(h.sock(listener).syn_queue.is_empty());
    assert_eq!(h.sock(listener).accept_queue.iter().copied().collect::<Vec<_>>(), [child]);
    assert_eq!(h.timer(child, TimerKind::Retransmit), None);
    assert_eq!(h.accept(listener), Ok(child));
    assert!(h.sock(listener).accept_queue.is_empty());
}

/// `tcp_check_req()`: a retransmitted SYN (same ISN) draws the SYN+ACK again, marked as a
/// retransmission, and makes no second connection.
#[test]
pub(crate) fn test_syn_recv_syn_retransmitted() {
    let (mut h, child) = socket_syn_recv();
    let listener = h.sock(child).listener.expect("a child of the listener");
    h.inject(remote_syn());
    let synack = only(h.take_sent());
    assert_segment(&synack, Flags::SYN_ACK, LOCAL_ISS, REMOTE_ISS + 1);
    assert!(synack.seg.retransmission);
    assert_eq!(h.state(child), State::SynRecv);
    assert_eq!(h.sock(listener).syn_queue, [child]);
}

/// RFC 9293 3.10.7.4 ("If this connection was initiated with a passive OPEN, then return
/// this connection to the LISTEN state") and `tcp_check_req()` (`embryonic_reset`): an RST
/// removes the request silently.
#[test]
pub(crate) fn test_syn_recv_rst() {
    let (mut h, child) = socket_syn_recv();
    let listener = h.sock(child).listener.expect("a child of the listener");
    h.inject(remote(Flags::RST, 0, 0));
    assert!(h.take_sent().is_empty());
    assert_eq!(h.state(child), State::Closed);
    assert!(h.sock(child).freed);
    assert!(h.freed_in_trace(child));
    assert!(h.sock(listener).syn_queue.is_empty());
    assert_eq!(h.state(listener), State::Listen);
}

/// `tcp_synack_retries` = 5 (`reqsk_timer_handler()`): the SYN+ACK is resent after 1, 3,
/// 7, 15 and 31 s (doubling from 1 s) and the request is dropped at 63 s.
#[test]
pub(crate) fn test_syn_recv_synack_retransmissions() {
    let (mut h, child) = socket_syn_recv();
    let listener = h.sock(child).listener.expect("a child of the listener");
    let start = h.now();
    h.advance(70 * SECOND);
    let sent = h.take_sent();
    let times: Vec<u64> = sent.iter().map(|sent| (sent.t_us - start) / SECOND).collect();
    assert_eq!(times, [1, 3, 7, 15, 31]);
    assert!(sent.iter().all(|sent| sent.seg.flags == Flags::SYN_ACK && sent.seg.retransmission));
    assert!(h.sock(child).freed);
    let closed = h.transitions(child).last().copied().expect("a state change");
    assert_eq!(closed, (start + 63 * SECOND, State::SynRecv, State::Closed));
    assert!(h.sock(listener).syn_queue.is_empty());
}

// ===== ESTABLISHED =====

/// `tcp_event_data_recv()`, `tcp_incr_quickack()` (`TCP_MAX_QUICKACKS` = 16) and
/// `__tcp_ack_snd_check()`: the first 16 data segments are acknowledged at once, the next
/// one after the 40 ms delayed-ACK timeout (`TCP_DELACK_MIN`).
#[test]
pub(crate) fn test_established_quick_acks_then_delayed_ack() {
    let (mut h, id) = socket_established();
    for index in 0..16u32 {
        let arrival = h.now() + LATENCY_US;
        h.inject(remote_data(index * 100, 0, &[b'x'; 100]));
        let ack = only(h.take_sent());
        assert_segment(&ack, Flags::ACK, LOCAL_ISS + 1, REMOTE_ISS + 1 + (index + 1) * 100);
        assert_eq!(ack.t_us, arrival, "segment {index} is acknowledged at once");
        h.advance(5_000);
    }
    assert_eq!(h.sock(id).tcb.quick, 0, "the 16 quick-ACKs are used up");
    let arrival = h.now() + LATENCY_US;
    h.inject(remote_data(1600, 0, &[b'x'; 100]));
    assert!(h.take_sent().is_empty(), "the 17th segment's ACK is delayed");
    h.advance(DELACK_US);
    let ack = only(h.take_sent());
    assert_segment(&ack, Flags::ACK, LOCAL_ISS + 1, REMOTE_ISS + 1 + 1700);
    assert_eq!(ack.t_us, arrival + DELACK_US);
}

/// `tcp_event_data_recv()` measures the segment (`tcp_measure_rcv_mss()`) before it counts
/// the quick-ACKs, so the count is half the window in segments of the size that arrived: with
/// a small buffer and a full-sized first segment that is a single quick ACK, and the next
/// segment already waits for the delayed-ACK timer. (On loopback a first segment of 24 KB
/// does the same to a 64 KB window; see the nagle-off scenario.)
#[test]
pub(crate) fn test_established_quick_acks_count_in_the_measured_segment_size() {
    let mut tcp = Harness::linux_settings();
    tcp.rcvbuf = 8192;
    tcp.window_scaling = false;
    let (mut h, id) = socket_established_with(tcp);
    let rcv_wnd = h.sock(id).tcb.rcv_wnd;
    assert!((2 * 1460..4 * 1460).contains(&rcv_wnd), "a window of one to two full segments: {rcv_wnd}");
    let arrival = h.now() + LATENCY_US;
    h.inject(remote_data(0, 0, &[b'q'; 1460]));
    let ack = only(h.take_sent());
    assert_eq!((ack.t_us, ack.seg.ack), (arrival, REMOTE_ISS + 1 + 1460), "the one quick ACK");
    assert_eq!(h.sock(id).tcb.quick, 0);
    h.advance(5_000);
    h.inject(remote_data(1460, 0, &[b'q'; 100]));
    assert!(h.take_sent().is_empty(), "no quick-ACK is left: the ACK waits");
    h.advance(DELACK_US);
    assert_eq!(only(h.take_sent()).seg.ack, REMOTE_ISS + 1 + 1560);
}

/// `__tcp_ack_snd_check()`: two full segments call for an immediate ACK only if it would move
/// the window's right edge. When nobody reads, RecvQ fills, the window the ACK could offer is
/// smaller than the one already promised, and the ACK waits for the delayed-ACK timer (or for
/// the read, `tcp_cleanup_rbuf()`, whichever comes first).
#[test]
pub(crate) fn test_established_full_segments_into_a_filling_queue_wait_for_the_delayed_ack() {
    let mut tcp = Harness::linux_settings();
    tcp.rcvbuf = 65_536;
    tcp.window_scaling = false;
    let (mut h, id) = socket_established_with(tcp);
    // Use up the quick-ACKs first, so only the full-frame rule is left to send ACKs at once.
    for index in 0..16u32 {
        h.inject(remote_data(index * 100, 0, &[b'q'; 100]));
        h.take_sent();
        h.advance(1_000);
    }
    assert_eq!(h.sock(id).tcb.quick, 0);
    h.inject(remote_data(1600, 0, &[b'r'; 1460]));
    h.inject(remote_data(3060, 0, &[b'r'; 1460]));
    assert!(h.take_sent().is_empty(), "the window would shrink: no immediate ACK");
    assert_eq!(h.recv(id, 65_536), Ret::Value(1600 + 2 * 1460));
    let ack = only(h.take_sent());
    assert_eq!(ack.seg.ack, REMOTE_ISS + 1 + 1600 + 2 * 1460, "the read sends the ACK it owes");
}

/// `tcp_event_data_sent()` and `tcp_in_quickack_mode()`: once the application answers
/// within the ACK delay the connection is interactive (pingpong) and data is acknowledged
/// by the reply or, failing one, after 40 ms, although quick-ACKs remain.
#[test]
pub(crate) fn test_established_pingpong_delays_ack() {
    let (mut h, id) = socket_established();
    h.inject(remote_data(0, 0, b"ping"));
    let quick = only(h.take_sent());
    assert_segment(&quick, Flags::ACK, LOCAL_ISS + 1, REMOTE_ISS + 5);
    h.advance(5_000);
    assert_eq!(h.send(id, b"pong"), Ret::Value(4));
    let reply = only(h.take_sent());
    assert_segment(&reply, PSH_ACK, LOCAL_ISS + 1, REMOTE_ISS + 5);
    assert!(h.sock(id).tcb.pingpong);
    assert!(h.sock(id).tcb.quick > 0, "quick-ACKs are left, but pingpong mode wins");
    let arrival = h.now() + LATENCY_US;
    h.inject(remote_data(4, 4, b"ping"));
    assert!(h.take_sent().is_empty(), "the ACK waits for a reply to ride on");
    h.advance(DELACK_US);
    let delayed = only(h.take_sent());
    assert_segment(&delayed, Flags::ACK, LOCAL_ISS + 5, REMOTE_ISS + 9);
    assert_eq!(delayed.t_us, arrival + DELACK_US);
}

/// RFC 5681 4.2 and `tcp_data_queue()` (out-of-order queue): data beyond a gap is kept
/// aside and draws an immediate duplicate ACK; the segment that fills the gap is
/// acknowledged at once, up to the end of both.
#[test]
pub(crate) fn test_established_out_of_order_dup_ack_then_fill() {
    let (mut h, id) = socket_established();
    h.inject(remote_data(100, 0, &[b'b'; 100]));
    let dup = only(h.take_sent());
    assert_segment(&dup, Flags::ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(h.sock(id).recv_q(), 0, "out-of-order data is not readable");
    h.inject(remote_data(0, 0, &[b'a'; 100]));
    let fill = only(h.take_sent());
    assert_segment(&fill, Flags::ACK, LOCAL_ISS + 1, REMOTE_ISS + 201);
    assert_eq!(h.sock(id).recv_q(), 200);
    assert_eq!(h.recv(id, 1000), Ret::Value(200));
}

/// `tcp_fin()`: after data, the peer's FIN moves ESTABLISHED to CLOSE_WAIT and enters
/// pingpong mode, so its ACK waits the 40 ms delayed-ACK timeout (measured on Linux 6.18).
#[test]
pub(crate) fn test_established_fin_close_wait_delayed_ack() {
    let (mut h, id) = socket_established();
    h.inject(remote_data(0, 0, b"hello"));
    only(h.take_sent());
    let arrival = h.now() + LATENCY_US;
    h.inject(remote(FIN_ACK, 5, 0));
    assert_eq!(h.state(id), State::CloseWait);
    assert!(h.take_sent().is_empty(), "the ACK of the FIN is delayed");
    h.advance(DELACK_US);
    let ack = only(h.take_sent());
    assert_segment(&ack, Flags::ACK, LOCAL_ISS + 1, REMOTE_ISS + 7);
    assert_eq!(ack.t_us, arrival + DELACK_US);
    assert_eq!(h.recv(id, 100), Ret::Value(5));
    assert_eq!(h.recv(id, 100), Ret::Value(0), "end of file after the data");
}

/// `tcp_fin()` (pingpong) and `tcp_send_fin()`: after data, when the application closes
/// within the ACK delay, its FIN carries the ACK of the peer's FIN and no lone ACK is sent.
#[test]
pub(crate) fn test_established_fin_then_close_three_segment_close() {
    let (mut h, id) = socket_established();
    h.inject(remote_data(0, 0, b"hello"));
    only(h.take_sent());
    h.inject(remote(FIN_ACK, 5, 0));
    assert_eq!(h.recv(id, 100), Ret::Value(5));
    h.advance(10_000);
    h.close(id);
    assert_eq!(h.state(id), State::LastAck);
    h.advance(DELACK_US);
    let fin = only(h.take_sent());
    assert_segment(&fin, FIN_ACK, LOCAL_ISS + 1, REMOTE_ISS + 7);
}

/// `tcp_send_delayed_ack()`: on a connection that has received no data, `ato` is still 0,
/// so the ACK of a FIN is due at once and leaves at the next tick of the kernel's clock
/// (measured on Linux 6.18: 0.4 to 7.5 ms after the FIN); a close 10 ms later sends its FIN
/// alone, four segments in all.
#[test]
pub(crate) fn test_established_fin_without_data_is_acked_at_the_next_tick() {
    let (mut h, id) = socket_established();
    let arrival = h.now() + LATENCY_US;
    h.inject(remote(FIN_ACK, 0, 0));
    h.advance(10_000);
    let ack = only(h.take_sent());
    assert_segment(&ack, Flags::ACK, LOCAL_ISS + 1, REMOTE_ISS + 2);
    assert!(ack.t_us > arrival && ack.t_us <= arrival + JIFFY_US, "{} after {arrival}", ack.t_us);
    assert_eq!(ack.t_us % JIFFY_US, 0, "on a tick");
    h.close(id);
    let fin = only(h.take_sent());
    assert_segment(&fin, FIN_ACK, LOCAL_ISS + 1, REMOTE_ISS + 2);
}

/// RFC 9293 3.10.7.4 (RST in a synchronized state) and `tcp_reset()`: the connection is
/// closed at once; the next recv() fails with ECONNRESET and the send() after it with EPIPE.
#[test]
pub(crate) fn test_established_rst() {
    let (mut h, id) = socket_established();
    h.inject(remote(Flags::RST, 0, 0));
    assert_eq!(h.state(id), State::Closed);
    assert!(h.take_sent().is_empty());
    assert_eq!(h.recv(id, 100), Ret::Err(Errno::ECONNRESET));
    assert_eq!(h.send(id, b"x"), Ret::Err(Errno::EPIPE));
}

/// `tcp_select_window()` and `tcp_data_queue()` (`TCPZEROWINDOWDROP`): while nobody reads,
/// each ACK offers less window, down to 0; data sent into a zero window is dropped and the
/// ACK repeated; a read that frees the buffer is announced by a window update.
#[test]
pub(crate) fn test_established_window_shrinks_to_zero() {
    let mut tcp = Harness::linux_settings();
    tcp.rcvbuf = 4096;
    tcp.window_scaling = false;
    let (mut h, id) = socket_established_with(tcp);
    let mut windows = Vec::new();
    for index in 0..8u32 {
        h.inject(remote_data(index * 512, 0, &[b'z'; 512]));
        // Only rcv_wnd / (2 * 536) = 3 quick-ACKs for this small buffer; the rest are delayed.
        h.advance(DELACK_US);
        let ack = only(h.take_sent());
        assert_eq!(ack.seg.ack, REMOTE_ISS + 1 + (index + 1) * 512);
        windows.push(ack.seg.win);
    }
    // The buffer's share is half of 4096 bytes (scaling_ratio 50%); the SYN offered 1460 of it
    // (a multiple of the MSS). Each 512-byte segment is charged 512 + 832 bytes of memory, so
    // the computed window falls fast, and the edge already promised only shrinks as data
    // arrives (tcp_select_window()): 1072, then 560, 48, and 0 once nothing was promised.
    // This peer keeps sending beyond the window; RecvQ still takes it up to SO_RCVBUF.
    assert_eq!(windows, [1072, 560, 48, 0, 0, 0, 0, 0]);
    assert_eq!(h.sock(id).recv_q(), 4096);
    let arrival = h.now() + LATENCY_US;
    h.inject(remote_data(8 * 512, 0, &[b'z'; 512]));
    let ack = only(h.take_sent());
    assert_eq!(ack.t_us, arrival, "a segment dropped for a zero window is answered at once");
    assert_eq!((ack.seg.ack, ack.seg.win), (REMOTE_ISS + 1 + 4096, 0), "the segment was not taken");
    assert_eq!(h.recv(id, 4096), Ret::Value(4096));
    let update = only(h.take_sent());
    assert_eq!(update.seg.flags, Flags::ACK);
    assert!(update.seg.win > 0, "the window update opens the window: {update:?}");
}

// ----- tail loss probes (RACK-TLP) and TSO packets -----

/// One jiffy at HZ=250: the kernel's timers count in these.
pub(crate) const JIFFY_US: u64 = 4_000;

/// An established connection on which both ends negotiated SACK, so that tail loss probes
/// apply (`tcp_schedule_loss_probe()` requires `tcp_is_sack()`). Its one RTT sample is the
/// harness's 2 ms round trip.
pub(crate) fn socket_established_sack() -> (Harness, SocketId) {
    let (h, id) = socket_established_with(TcpSettings { sack: true, ..Harness::linux_settings() });
    assert!(h.sock(id).tcb.sack_ok);
    (h, id)
}

/// `tcp_schedule_loss_probe()`: with one segment outstanding the probe waits two round trips
/// plus the 200 ms minimum RTO (its ACK may be a delayed one), in whole jiffies, but never
/// longer than the RTO: here both come to 204 ms, so the probe fires at the RTO instant. It
/// repeats the segment, marked as a tail loss probe, and the RTO restarts from now with no
/// backoff (`tcp_send_loss_probe()`, `tcp_rearm_rto()`).
#[test]
pub(crate) fn test_established_loss_probe_with_one_segment_out() {
    let (mut h, id) = socket_established_sack();
    let sent_at = h.now();
    assert_eq!(h.send(id, &[b'x'; 100]), Ret::Value(100));
    let data = only(h.take_sent());
    assert_segment(&data, PSH_ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    let pto = (2 * 2_000 + 200_000u64).div_ceil(JIFFY_US) * JIFFY_US;
    assert_eq!(pto, RTO_AFTER_HANDSHAKE_US.div_ceil(JIFFY_US) * JIFFY_US, "capped at the RTO, in jiffies");
    assert_eq!(h.timer(id, TimerKind::LossProbe), Some(sent_at + pto));
    assert_eq!(h.timer(id, TimerKind::Retransmit), None, "one kernel timer: the probe holds it");
    h.advance_to(sent_at + pto);
    let probe = only(h.take_sent());
    assert_segment(&probe, PSH_ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(probe.seg.len, 100);
    assert!(probe.seg.retransmission);
    assert_eq!(probe.seg.reason.as_deref(), Some("tail loss probe"));
    assert_eq!(h.timer(id, TimerKind::LossProbe), None);
    assert_eq!(h.timer(id, TimerKind::Retransmit), Some(sent_at + pto + RTO_AFTER_HANDSHAKE_US));
    assert_eq!(h.sock(id).tcb.tlp_high_seq, Some(LOCAL_ISS + 101));
}

/// `tcp_schedule_loss_probe()` and `tcp_send_loss_probe()`: with several segments out the
/// probe waits two round trips plus 2 ms (`TCP_TIMEOUT_MIN_US`), 8 ms in whole jiffies, and
/// then sends the last segment again, not the first: the tail whose loss nothing else would
/// reveal before the RTO.
#[test]
pub(crate) fn test_established_loss_probe_repeats_the_tail() {
    let (mut h, id) = socket_established_sack();
    let sent_at = h.now();
    assert_eq!(h.send(id, &[b'x'; 3000]), Ret::Value(3000));
    let sent = h.take_sent();
    assert_eq!(sent.iter().map(|sent| sent.seg.len).collect::<Vec<_>>(), vec![1460, 1460, 80]);
    let pto = (2 * 2_000 + 2_000u64).div_ceil(JIFFY_US) * JIFFY_US;
    assert_eq!(pto, 8_000);
    assert_eq!(h.timer(id, TimerKind::LossProbe), Some(sent_at + pto));
    h.advance_to(sent_at + pto);
    let probe = only(h.take_sent());
    assert_segment(&probe, PSH_ACK, LOCAL_ISS + 1 + 2920, REMOTE_ISS + 1);
    assert_eq!(probe.seg.len, 80);
    assert_eq!(probe.seg.reason.as_deref(), Some("tail loss probe"));
}

/// `tcp_send_loss_probe()`: at most one probe per tail loss episode. An ACK that covers less
/// than the probe did schedules the probe timer again, but when it fires nothing is sent
/// while `tlp_high_seq` is set; the retransmission timer takes over, counted from the oldest
/// outstanding segment's transmission (`tcp_rearm_rto()`).
#[test]
pub(crate) fn test_established_one_loss_probe_per_episode() {
    let (mut h, id) = socket_established_sack();
    let sent_at = h.now();
    h.send(id, &[b'x'; 3000]);
    h.take_sent();
    h.advance_to(sent_at + 8_000);
    assert_eq!(h.take_sent().len(), 1, "the first probe");
    h.inject(remote(Flags::ACK, 0, 1460));
    let again = h.timer(id, TimerKind::LossProbe).expect("the ACK schedules the probe timer again");
    h.advance_to(again);
    assert!(h.take_sent().is_empty(), "no second probe in the same episode");
    assert_eq!(h.timer(id, TimerKind::LossProbe), None);
    let rto = h.timer(id, TimerKind::Retransmit).expect("the RTO takes over");
    assert!(rto > again, "the RTO counts from the oldest segment's last transmission");
}

/// Fast recovery takes the one transmission timer from a pending loss probe: Linux's
/// `tcp_xmit_retransmit_queue()` resets it to the RTO when it retransmits the head
/// (`tcp_reset_xmit_timer(ICSK_TIME_RETRANS, icsk_rto)`), and `tcp_schedule_loss_probe()`
/// schedules no probe outside the Open and CWR states. So if the fast retransmission is
/// lost too, the next thing sent is the RTO's retransmission, not a tail loss probe.
#[test]
pub(crate) fn test_established_fast_retransmit_replaces_a_pending_loss_probe() {
    let (mut h, id) = socket_established_sack();
    assert_eq!(h.send(id, &[b'x'; 14_600]), Ret::Value(14_600));
    assert_eq!(h.take_sent().len(), 10);
    h.advance(2 * LATENCY_US);
    h.inject(remote(Flags::ACK, 0, 1460));
    assert!(h.timer(id, TimerKind::LossProbe).is_some(), "the first ACK schedules a probe");
    for _ in 0..3 {
        h.inject(remote(Flags::ACK, 0, 1460));
    }
    let fast = only(h.take_sent());
    assert_eq!((fast.seg.seq, fast.seg.len, fast.seg.reason.as_deref()), (LOCAL_ISS + 1461, 1460, None));
    let rto = h.sock(id).tcb.rto_us;
    assert_eq!(h.timer(id, TimerKind::LossProbe), None, "fast recovery cancels the probe");
    assert_eq!(h.timer(id, TimerKind::Retransmit), Some(h.now() + rto));
    let deadline = h.now() + rto;
    h.advance_to(deadline - 1);
    assert!(h.take_sent().is_empty(), "no tail loss probe during fast recovery");
    h.advance_to(deadline);
    let resent = only(h.take_sent());
    assert_eq!((resent.seg.seq, resent.seg.reason), (LOCAL_ISS + 1461, None));
}

/// `tcp_slow_start()`: an ACK of five segments with the window two segments below ssthresh
/// grows it to ssthresh only; the three segments left over count towards congestion
/// avoidance (`tcp_cong_avoid_ai()`), where twelve acknowledged segments make one more.
#[test]
pub(crate) fn test_established_slow_start_stops_at_ssthresh() {
    let (mut h, id) = socket_established();
    let mss = h.sock(id).tcb.mss;
    h.world.sockets[id].tcb.ssthresh = 12 * mss;
    h.send(id, &[b'x'; 29_200]);
    assert_eq!(h.take_sent().len(), 10);
    h.inject(remote(Flags::ACK, 0, 5 * 1460));
    let tcb = &h.sock(id).tcb;
    assert_eq!((tcb.cwnd, tcb.snd_cwnd_cnt), (12 * mss, 3));
    // Nine more segments acknowledged one by one: 3 + 9 = 12, one window's worth.
    for acked in 6..=14u32 {
        h.inject(remote(Flags::ACK, 0, acked * 1460));
    }
    let tcb = &h.sock(id).tcb;
    assert_eq!((tcb.cwnd, tcb.snd_cwnd_cnt), (13 * mss, 0));
}

/// An ACK that covers an enormous number of segments must not overflow the window's
/// arithmetic (tcp_slow_start() works in segments; here the window saturates).
#[test]
pub(crate) fn test_established_huge_ack_does_not_overflow_the_window() {
    let (mut h, id) = socket_established();
    let count = 70_000u32;
    let tcb = &mut h.world.sockets[id].tcb;
    tcb.mss = 65_000;
    tcb.cwnd = 10 * 65_000;
    for index in 1..=count {
        tcb.unacked_segments.push_back((LOCAL_ISS + 1 + index, 0));
    }
    tcb.snd_nxt = LOCAL_ISS + 1 + count;
    tcb.snd_max = tcb.snd_nxt;
    tcb.write_seq = tcb.snd_nxt;
    h.inject(remote(Flags::ACK, 0, count));
    assert_eq!(h.sock(id).tcb.snd_una, LOCAL_ISS + 1 + count);
    assert_eq!(h.sock(id).tcb.cwnd, u32::MAX);
}

/// Tail loss probes need SACK (`tcp_is_sack()` in `tcp_schedule_loss_probe()`): without it
/// only the retransmission timer runs, and its expiry repeats the oldest segment.
#[test]
pub(crate) fn test_established_no_loss_probe_without_sack() {
    let (mut h, id) = socket_established();
    assert!(!h.sock(id).tcb.sack_ok);
    let sent_at = h.now();
    h.send(id, &[b'x'; 3000]);
    assert_eq!(h.take_sent().len(), 3);
    assert_eq!(h.timer(id, TimerKind::LossProbe), None);
    assert_eq!(h.timer(id, TimerKind::Retransmit), Some(sent_at + RTO_AFTER_HANDSHAKE_US));
    h.advance_to(sent_at + RTO_AFTER_HANDSHAKE_US);
    let resent = only(h.take_sent());
    assert_segment(&resent, Flags::ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(resent.seg.reason, None);
}

/// `tcp_transmit_skb()` stamps only the skb it sends: a retransmission of the head restamps
/// the head alone, and new data sent afterwards joins the queue without touching the
/// segments before it (the engine finds the resent range by binary search).
#[test]
pub(crate) fn test_established_retransmission_restamps_only_the_resent_segment() {
    let (mut h, id) = socket_established();
    let sent_at = h.now();
    h.send(id, &[b'x'; 3000]);
    assert_eq!(h.take_sent().len(), 3);
    h.advance_to(sent_at + RTO_AFTER_HANDSHAKE_US);
    let resent = only(h.take_sent());
    assert_eq!((resent.seg.seq, resent.seg.len), (LOCAL_ISS + 1, 1460));
    let rto_at = h.now();
    let ends = [LOCAL_ISS + 1461, LOCAL_ISS + 2921, LOCAL_ISS + 3001];
    assert_eq!(
        h.sock(id).tcb.unacked_segments.iter().copied().collect::<Vec<_>>(),
        vec![(ends[0], rto_at), (ends[1], sent_at), (ends[2], sent_at)]
    );
}

/// `tcp_data_queue()`: a segment the receiver already has (a loss probe that crossed a
/// delayed ACK) is acknowledged at once, reported as a D-SACK when SACK is on, and puts the
/// receiver in quick-ACK mode, out of pingpong mode (`tcp_enter_quickack_mode()`).
#[test]
pub(crate) fn test_established_duplicate_segment_acked_at_once_in_quick_ack_mode() {
    let (mut h, id) = socket_established_sack();
    h.world.sockets[id].tcb.pingpong = true;
    h.inject(remote_data(0, 0, &[b'x'; 100]));
    assert!(h.take_sent().is_empty(), "in pingpong mode the first ACK waits");
    h.inject(remote_data(0, 0, &[b'x'; 100]));
    let ack = only(h.take_sent());
    assert_segment(&ack, Flags::ACK, LOCAL_ISS + 1, REMOTE_ISS + 101);
    let tcb = &h.sock(id).tcb;
    assert!(!tcb.pingpong && tcb.quick > 0);
}

/// `tcp_cwnd_test()` and `__tcp_transmit_skb()`: one TSO packet takes at most half the
/// congestion window, and Linux marks PSH on every packet of more than one segment, which
/// after segmentation shows on its last segment. With the initial window of ten segments a
/// 20-segment write leaves as two packets of five, PSH on the 5th and the 10th segment.
#[test]
pub(crate) fn test_established_tso_packets_end_with_psh() {
    let (mut h, id) = socket_established();
    assert_eq!(h.send(id, &[b'x'; 14_600 * 2]), Ret::Value(29_200));
    let sent = h.take_sent();
    assert_eq!(sent.len(), 10, "the initial congestion window");
    let pushed: Vec<usize> = (0..sent.len()).filter(|&index| sent[index].seg.flags.psh).collect();
    assert_eq!(pushed, vec![4, 9]);
    assert_eq!(h.sock(id).tcb.pushed_seq, LOCAL_ISS + 1, "the forced PSH is the packet's, not tcp_mark_push()'s");
}

/// `tcp_tso_autosize()` caps a TSO packet by the pacing rate as well as by `tcp_cwnd_test()`.
/// After a handshake with a 20 ms round trip the rate is mss * 10 / 20 ms * 200%, about one
/// segment per millisecond, and the min-RTT bonus is gone (20000 >> 9 is 39 halvings), so
/// each packet holds `tcp_min_tso_segs` = 2 segments and Linux's forced PSH lands on every
/// second segment of the flight (`__tcp_transmit_skb()`).
#[test]
pub(crate) fn test_established_tso_packets_at_20_ms_hold_two_segments() {
    let (mut h, id) = socket_established_after(Harness::linux_settings(), 20_000);
    let tcb = &h.sock(id).tcb;
    assert_eq!((tcb.srtt_us, tcb.min_rtt_us), (Some(20_000), Some(20_000)));
    assert_eq!(tcb.pacing_rate, Some(1460 * 10 * 2 * 1_000_000 / 20_000));
    h.take_sent();
    assert_eq!(h.send(id, &[b'x'; 14_600 * 2]), Ret::Value(29_200));
    let sent = h.take_sent();
    assert_eq!(sent.len(), 10, "the initial congestion window");
    let pushed: Vec<usize> = (0..sent.len()).filter(|&index| sent[index].seg.flags.psh).collect();
    assert_eq!(pushed, vec![1, 3, 5, 7, 9]);
}

/// `tcp_tso_autosize()`'s numbers: about 1 ms of the pacing rate (rate >> 10) plus 64 KB
/// halved per 512 us of min RTT, at most `sk_gso_max_size` (65215), at least 2 segments.
#[test]
pub(crate) fn tso_autosize_follows_pacing_rate_and_min_rtt() {
    let tcb = |rate: Option<u64>, min_rtt: Option<u64>| crate::socket::Tcb {
        pacing_rate: rate,
        min_rtt_us: min_rtt,
        ..Default::default()
    };
    // No RTT sample yet: unlimited, so as many segments as 64 KB holds.
    assert_eq!(super::congestion::tso_autosize(&tcb(None, None), 1460), 44);
    // 20 ms: 1460 * 10 * 2 / 20 ms = 1.46 MB/s, 1425 bytes a millisecond, no bonus.
    assert_eq!(super::congestion::tso_autosize(&tcb(Some(1_460_000), Some(20_000)), 1460), 2);
    // 2 ms: 14.6 MB/s gives 14257 bytes, the bonus 65215 >> 3 = 8151 more: 15 segments.
    assert_eq!(super::congestion::tso_autosize(&tcb(Some(14_600_000), Some(2_000)), 1460), 15);
    // Loopback, 30 us: the full bonus, capped at 65215 bytes, whatever the rate.
    assert_eq!(super::congestion::tso_autosize(&tcb(Some(1_000), Some(30)), 1460), 44);
    assert_eq!(super::congestion::tso_autosize(&tcb(Some(1_000), Some(30)), 65_483), 2);
}

// ===== FIN_WAIT_1 =====

/// RFC 9293 3.10.7.4 (FIN-WAIT-1: "if the FIN segment is now acknowledged, then enter
/// FIN-WAIT-2") and `tcp_rcv_state_process()`.
#[test]
pub(crate) fn test_fin_wait_1_ack_of_fin() {
    let (mut h, id) = socket_fin_wait_1();
    let fin = only(h.all_sent().into_iter().filter(|sent| sent.seg.flags.fin).collect());
    assert_segment(&fin, FIN_ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    h.inject(remote(Flags::ACK, 0, 1));
    assert_eq!(h.state(id), State::FinWait2);
    assert!(h.take_sent().is_empty());
    assert_eq!(h.timer(id, TimerKind::Retransmit), None);
}

/// RFC 9293 3.10.7.4 (FIN bit, FIN-WAIT-1: "Otherwise, enter the CLOSING state") and
/// `tcp_fin()`: a FIN that does not acknowledge ours means a simultaneous close; it is
/// acknowledged at once.
#[test]
pub(crate) fn test_fin_wait_1_fin_without_ack_closing() {
    let (mut h, id) = socket_fin_wait_1();
    let arrival = h.now() + LATENCY_US;
    h.inject(remote(FIN_ACK, 0, 0));
    assert_eq!(h.state(id), State::Closing);
    let ack = only(h.take_sent());
    assert_segment(&ack, Flags::ACK, LOCAL_ISS + 2, REMOTE_ISS + 2);
    assert_eq!(ack.t_us, arrival);
}

/// RFC 9293 3.10.7.4 (FIN bit, FIN-WAIT-1: "If our FIN has been ACKed ... enter
/// TIME-WAIT") and `tcp_fin()`: a FIN that also acknowledges ours leads to TIME_WAIT.
#[test]
pub(crate) fn test_fin_wait_1_fin_ack_time_wait() {
    let (mut h, id) = socket_fin_wait_1();
    h.inject(remote(FIN_ACK, 0, 1));
    assert_eq!(h.state(id), State::TimeWait);
    let ack = only(h.take_sent());
    assert_segment(&ack, Flags::ACK, LOCAL_ISS + 2, REMOTE_ISS + 2);
    let states: Vec<State> = h.transitions(id).iter().map(|(_, _, to)| *to).collect();
    assert!(states.ends_with(&[State::FinWait1, State::FinWait2, State::TimeWait]), "{states:?}");
}

/// RFC 9293 3.10.7.4 and the retransmission timer (RFC 6298 5.4): an unacknowledged FIN
/// is sent again after the RTO.
#[test]
pub(crate) fn test_fin_wait_1_fin_retransmitted() {
    let (mut h, id) = socket_fin_wait_1();
    let sent_at = h.now();
    h.advance(RTO_AFTER_HANDSHAKE_US);
    let again = only(h.take_sent());
    assert_segment(&again, FIN_ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert!(again.seg.retransmission);
    assert_eq!(again.t_us, sent_at + RTO_AFTER_HANDSHAKE_US);
    assert_eq!(h.state(id), State::FinWait1);
}

// ===== FIN_WAIT_2 =====

/// RFC 9293 3.10.7.4 (FIN bit, FIN-WAIT-2: "Enter the TIME-WAIT state") and `tcp_fin()`:
/// the FIN is acknowledged at once and TIME_WAIT's 2MSL timer starts.
#[test]
pub(crate) fn test_fin_wait_2_fin_time_wait() {
    let (mut h, id) = socket_fin_wait_2();
    let arrival = h.now() + LATENCY_US;
    h.inject(remote(FIN_ACK, 0, 1));
    assert_eq!(h.state(id), State::TimeWait);
    let ack = only(h.take_sent());
    assert_segment(&ack, Flags::ACK, LOCAL_ISS + 2, REMOTE_ISS + 2);
    assert_eq!(ack.t_us, arrival);
    assert_eq!(h.timer(id, TimerKind::TimeWait), Some(arrival + 60 * SECOND));
    assert_eq!(h.timer(id, TimerKind::FinWait2), None);
}

/// `tcp_fin_timeout` (tcp(7)) and `tcp_time_wait(sk, TCP_FIN_WAIT2, tmo)`: an orphaned
/// FIN_WAIT2 socket whose peer never closes is dropped silently after 60 s.
#[test]
pub(crate) fn test_fin_wait_2_orphan_times_out() {
    let (mut h, id) = socket_fin_wait_2();
    let entered = h.now();
    assert_eq!(h.timer(id, TimerKind::FinWait2), Some(entered + 60 * SECOND));
    h.advance(60 * SECOND - 1);
    assert_eq!(h.state(id), State::FinWait2);
    h.advance(1);
    assert_eq!(h.state(id), State::Closed);
    assert!(h.sock(id).freed);
    assert!(h.take_sent().is_empty(), "the socket goes without a word");
}

/// tcp(7) on `tcp_fin_timeout`: only orphans time out; after shutdown(SHUT_WR) the owner
/// may still read, so FIN_WAIT2 lasts as long as the peer keeps its side open.
#[test]
pub(crate) fn test_fin_wait_2_not_orphaned_stays() {
    let (mut h, id) = socket_established();
    assert_eq!(h.shutdown(id, How::Write), Ret::Value(0));
    assert_eq!(h.state(id), State::FinWait1);
    h.inject(remote(Flags::ACK, 0, 1));
    assert_eq!(h.state(id), State::FinWait2);
    h.advance(600 * SECOND);
    assert_eq!(h.state(id), State::FinWait2);
    h.inject(remote_data(0, 1, b"late"));
    assert_eq!(h.recv(id, 100), Ret::Value(4), "a half-closed socket still receives");
}

/// `tcp_rcv_state_process()` (FIN_WAIT1/2 after shutdown of the receive side,
/// `LINUX_MIB_TCPABORTONDATA`) and `tcp_v4_send_reset()`: new data for a socket its owner
/// has closed resets the connection with `<SEQ=SEG.ACK><CTL=RST>`.
#[test]
pub(crate) fn test_fin_wait_2_data_after_close_rst() {
    let (mut h, id) = socket_fin_wait_2();
    h.inject(remote_data(0, 1, b"too late"));
    let rst = only(h.take_sent());
    assert_segment(&rst, Flags::RST, LOCAL_ISS + 2, 0);
    assert_eq!(h.state(id), State::Closed);
    assert!(h.sock(id).freed);
}

// ===== CLOSE_WAIT =====

/// RFC 9293 3.10.7.4 (CLOSE-WAIT) and `tcp_recvmsg()`: once the peer's FIN is in, recv()
/// returns 0 (end of file) without blocking.
#[test]
pub(crate) fn test_close_wait_recv_returns_zero() {
    let (mut h, id) = socket_close_wait();
    assert_eq!(h.recv(id, 100), Ret::Value(0));
    assert_eq!(h.recv(id, 100), Ret::Value(0));
}

/// RFC 9293 3.5 (half-close): in CLOSE_WAIT our side may still send.
#[test]
pub(crate) fn test_close_wait_send_still_allowed() {
    let (mut h, id) = socket_close_wait();
    assert_eq!(h.send(id, b"bye"), Ret::Value(3));
    let data = only(h.take_sent());
    assert_segment(&data, PSH_ACK, LOCAL_ISS + 1, REMOTE_ISS + 2);
    assert_eq!(data.seg.len, 3);
}

/// RFC 9293 3.10.4 (CLOSE in CLOSE-WAIT: "enter LAST-ACK") and `tcp_close()`: close()
/// sends our FIN at once.
#[test]
pub(crate) fn test_close_wait_close_last_ack() {
    let (mut h, id) = socket_close_wait();
    h.close(id);
    assert_eq!(h.state(id), State::LastAck);
    let fin = only(h.take_sent());
    assert_segment(&fin, FIN_ACK, LOCAL_ISS + 1, REMOTE_ISS + 2);
    assert!(h.timer(id, TimerKind::Retransmit).is_some());
}

// ===== CLOSING =====

/// RFC 9293 3.10.7.4 (CLOSING: "if the ACK acknowledges our FIN, then enter the TIME-WAIT
/// state") and `tcp_rcv_state_process()`.
#[test]
pub(crate) fn test_closing_ack_time_wait() {
    let (mut h, id) = socket_closing();
    let arrival = h.now() + LATENCY_US;
    h.inject(remote(Flags::ACK, 1, 1));
    assert_eq!(h.state(id), State::TimeWait);
    assert!(h.take_sent().is_empty());
    assert_eq!(h.timer(id, TimerKind::TimeWait), Some(arrival + 60 * SECOND));
}

// ===== LAST_ACK =====

/// RFC 9293 3.10.7.4 (LAST-ACK: "If our FIN is now acknowledged, delete the TCB") and
/// `tcp_rcv_state_process()`: the socket closes and is freed, no TIME_WAIT.
#[test]
pub(crate) fn test_last_ack_ack_closed_and_freed() {
    let (mut h, id) = socket_last_ack();
    h.inject(remote(Flags::ACK, 1, 1));
    assert_eq!(h.state(id), State::Closed);
    assert!(h.sock(id).freed);
    assert!(h.freed_in_trace(id));
    assert!(h.take_sent().is_empty());
}

/// RFC 6298 5.4-5.5 and `tcp_retransmit_timer()`: when the last ACK is lost the FIN is
/// resent after the RTO, then after twice the RTO.
#[test]
pub(crate) fn test_last_ack_fin_retransmitted_after_rto() {
    let (mut h, id) = socket_last_ack();
    let fin_at = h.now();
    h.advance(3 * RTO_AFTER_HANDSHAKE_US + 1);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    for fin in &sent {
        assert_segment(fin, FIN_ACK, LOCAL_ISS + 1, REMOTE_ISS + 2);
        assert!(fin.seg.retransmission);
    }
    assert_eq!(sent[0].t_us, fin_at + RTO_AFTER_HANDSHAKE_US);
    assert_eq!(sent[1].t_us, fin_at + 3 * RTO_AFTER_HANDSHAKE_US);
    assert_eq!(h.state(id), State::LastAck);
}

// ===== TIME_WAIT =====

/// RFC 9293 3.10.8 and `TCP_TIMEWAIT_LEN`: TIME_WAIT lasts 2MSL = 60 s, then the socket
/// closes and is freed without sending anything.
#[test]
pub(crate) fn test_time_wait_lasts_2msl() {
    let (mut h, id) = socket_time_wait();
    let (at, _, _) = h.transitions(id).last().copied().expect("a state change");
    assert_eq!(h.timer(id, TimerKind::TimeWait), Some(at + 60 * SECOND));
    h.advance_to(at + 60 * SECOND - 1);
    assert_eq!(h.state(id), State::TimeWait);
    h.advance(1);
    assert_eq!(h.state(id), State::Closed);
    assert!(h.sock(id).freed);
    assert!(h.take_sent().is_empty());
}

/// RFC 9293 3.10.7.4 (TIME-WAIT: "acknowledge it, and restart the 2 MSL timeout") and
/// `tcp_timewait_state_process()`: a retransmitted FIN is acknowledged again and TIME_WAIT
/// starts over.
#[test]
pub(crate) fn test_time_wait_fin_retransmitted_reacked() {
    let (mut h, id) = socket_time_wait();
    h.advance(10 * SECOND);
    let arrival = h.now() + LATENCY_US;
    h.inject(remote(FIN_ACK, 0, 1));
    let ack = only(h.take_sent());
    assert_segment(&ack, Flags::ACK, LOCAL_ISS + 2, REMOTE_ISS + 2);
    assert_eq!(h.timer(id, TimerKind::TimeWait), Some(arrival + 60 * SECOND));
    h.advance_to(arrival + 60 * SECOND - 1);
    assert_eq!(h.state(id), State::TimeWait);
    h.advance(1);
    assert_eq!(h.state(id), State::Closed);
}

/// `tcp_timewait_state_process()` with `tcp_rfc1337` = 0 (Linux's default, RFC 1337 1.
/// "TIME-WAIT assassination"): an RST at the expected sequence number ends TIME_WAIT.
#[test]
pub(crate) fn test_time_wait_rst_kills() {
    let (mut h, id) = socket_time_wait();
    h.inject(remote(Flags::RST, 1, 0));
    assert_eq!(h.state(id), State::Closed);
    assert!(h.sock(id).freed);
    assert!(h.take_sent().is_empty());
}

/// `tcp_timewait_state_process()`: only an RST at rcv_nxt kills a TIME_WAIT socket; one
/// with any other sequence number is ignored.
#[test]
pub(crate) fn test_time_wait_rst_out_of_window_ignored() {
    let (mut h, id) = socket_time_wait();
    h.inject(remote(Flags::RST, 5000, 0));
    assert_eq!(h.state(id), State::TimeWait);
    assert!(h.take_sent().is_empty());
}

/// `tcp_timewait_state_process()` ("In window segment, it may be only reset or bare ack"):
/// a bare ACK at rcv_nxt restarts the TIME_WAIT timer and is not answered.
#[test]
pub(crate) fn test_time_wait_bare_ack_restarts_timer() {
    let (mut h, id) = socket_time_wait();
    h.advance(10 * SECOND);
    let arrival = h.now() + LATENCY_US;
    h.inject(remote(Flags::ACK, 1, 1));
    assert!(h.take_sent().is_empty());
    assert_eq!(h.timer(id, TimerKind::TimeWait), Some(arrival + 60 * SECOND));
}

/// TIME_WAIT lasts twice the MSL a scenario sets (RFC 9293 3.4.2; e.g. BSD's 30 s MSL).
#[test]
pub(crate) fn test_time_wait_length_follows_msl() {
    let tcp = TcpSettings { msl_ms: 15_000, ..Harness::linux_settings() };
    let (mut h, id) = socket_time_wait_with(tcp);
    let (at, _, _) = h.transitions(id).last().copied().expect("a state change");
    assert_eq!(h.timer(id, TimerKind::TimeWait), Some(at + 30 * SECOND));
    h.advance_to(at + 30 * SECOND);
    assert_eq!(h.state(id), State::Closed);
}

// ===== CLOSED =====

/// RFC 9293 3.10.7.1 and `tcp_v4_send_reset()`: a SYN to a port nobody listens on draws
/// `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>` with window 0.
#[test]
pub(crate) fn test_closed_syn_draws_rst_ack() {
    let (mut h, id) = socket_closed();
    h.inject(remote_syn());
    let rst = only(h.take_sent());
    assert_segment(&rst, Flags::RST_ACK, 0, REMOTE_ISS + 1);
    assert_eq!(rst.seg.win, 0);
    assert_eq!(rst.seg.to, h.remote);
    assert_eq!(h.state(id), State::Closed);
}

/// RFC 9293 3.10.7.1 ("If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>"): a stray ACK to a
/// closed port is answered by a plain RST carrying its acknowledgement number.
#[test]
pub(crate) fn test_closed_ack_draws_rst_seq_ack() {
    let (mut h, _) = socket_closed();
    h.inject(Seg { flags: Flags::ACK, seq: 42, ack: 987_654, win: REMOTE_WIN, ..Seg::default() });
    let rst = only(h.take_sent());
    assert_segment(&rst, Flags::RST, 987_654, 0);
}

/// RFC 9293 3.10.7.1: data without ACK is counted in the RST's acknowledgement number.
#[test]
pub(crate) fn test_closed_data_without_ack_counts_length() {
    let (mut h, _) = socket_closed();
    h.inject(Seg { flags: Flags { psh: true, ..Flags::default() }, seq: 42, payload: vec![0; 10], ..Seg::default() });
    let rst = only(h.take_sent());
    assert_segment(&rst, Flags::RST_ACK, 0, 52);
}

/// RFC 9293 3.10.7.1 ("An incoming segment containing a RST is discarded"): an RST is
/// never answered.
#[test]
pub(crate) fn test_closed_rst_ignored() {
    let (mut h, _) = socket_closed();
    h.inject(Seg { flags: Flags::RST_ACK, seq: 42, ack: 1, ..Seg::default() });
    assert!(h.take_sent().is_empty());
}

// ===== timers and recovery (loss, probes, keepalive) =====

/// RFC 6298 5.5 and `tcp_retransmit_timer()` (`icsk_backoff`, `TCP_RTO_MAX`): data that is
/// never acknowledged is resent after the RTO, and each expiry doubles the timeout, up to
/// 120 s.
#[test]
pub(crate) fn test_established_rto_backoff_doubles_up_to_rto_max() {
    let (mut h, id) = socket_established();
    let sent_at = h.now();
    assert_eq!(h.send(id, b"lost"), Ret::Value(4));
    let original = only(h.take_sent());
    assert_eq!(original.t_us, sent_at);
    h.advance(600 * SECOND);
    let resent: Vec<u64> = h.take_sent().iter().map(|sent| sent.t_us).collect();
    let mut times = vec![sent_at];
    times.extend(&resent);
    let gaps: Vec<u64> = times.windows(2).map(|pair| pair[1] - pair[0]).collect();
    let expected: Vec<u64> = (0..gaps.len() as u32).map(|n| (RTO_AFTER_HANDSHAKE_US << n).min(120 * SECOND)).collect();
    assert_eq!(gaps, expected);
    assert!(gaps.contains(&(120 * SECOND)), "the backoff reaches TCP_RTO_MAX within 600 s: {gaps:?}");
    assert_eq!(h.state(id), State::Established);
}

/// `tcp_retransmit_timer()` / `tcp_write_timeout()` with tcp_retries2 = 15: the connection
/// is given up at the first expiry at least 924.6 s (`tcp_model_timeout()`) after the first
/// transmission, and the error is ETIMEDOUT.
#[test]
pub(crate) fn test_established_retransmissions_give_up_with_etimedout() {
    let (mut h, id) = socket_established();
    let sent_at = h.now();
    assert_eq!(h.send(id, b"lost"), Ret::Value(4));
    h.advance(1_200 * SECOND);
    let (closed_at, from, to) = h.transitions(id).last().copied().expect("a state change");
    assert_eq!((from, to), (State::Established, State::Closed));
    assert!(closed_at - sent_at >= retransmission_budget(15, 200_000, 120 * SECOND));
    let resent = h.all_sent().iter().filter(|sent| sent.seg.retransmission).count();
    assert_eq!(resent, 15, "15 retransmissions with a 202 ms initial RTO");
    assert_eq!(h.recv(id, 10), Ret::Err(Errno::ETIMEDOUT));
}

/// RFC 793 3.3 and `tcp_sequence()` / `tcp_send_dupack()`: an empty segment with an old
/// sequence number (a keepalive or zero-window probe, seq = SND.UNA - 1) is answered at once
/// with an ACK that shows rcv_nxt and the window.
#[test]
pub(crate) fn test_established_probe_with_old_seq_is_answered() {
    let (mut h, _) = socket_established();
    let arrival = h.now() + LATENCY_US;
    h.inject(Seg { seq: REMOTE_ISS, ..remote(Flags::ACK, 0, 0) });
    let ack = only(h.take_sent());
    assert_segment(&ack, Flags::ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(ack.t_us, arrival);
    assert!(ack.seg.win > 0);
}

/// `tcp_keepalive_timer()`: after keepalive_time of silence a probe goes out, then one per
/// keepalive_intvl; an answered probe keeps the connection, and after keepalive_probes
/// unanswered ones the connection is reset (`tcp_send_active_reset()`) with ETIMEDOUT.
#[test]
pub(crate) fn test_established_keepalive_probes_then_reset() {
    let tcp = TcpSettings {
        keepalive_time_ms: 10_000,
        keepalive_intvl_ms: 1_000,
        keepalive_probes: 2,
        ..Harness::linux_settings()
    };
    let (mut h, id) = socket_established_with(tcp);
    let heard = h.now();
    assert_eq!(h.setsockopt(id, SockOpt::KeepAlive(true)), Ret::Value(0));
    h.advance(10 * SECOND);
    let probe = only(h.take_sent());
    assert_segment(&probe, Flags::ACK, LOCAL_ISS, REMOTE_ISS + 1);
    assert_eq!(probe.t_us, heard + 10 * SECOND);
    // A live peer answers; the idle time starts again from its answer.
    h.inject(remote(Flags::ACK, 0, 0));
    let answered = h.now();
    h.advance(10 * SECOND - 2 * LATENCY_US);
    assert!(h.take_sent().is_empty(), "no probe before another keepalive_time of silence");
    // From now on nobody answers.
    h.advance(3 * SECOND);
    let sent = h.take_sent();
    let shape: Vec<(u64, Flags)> = sent.iter().map(|sent| (sent.t_us - answered, sent.seg.flags)).collect();
    assert_eq!(
        shape,
        [(10 * SECOND, Flags::ACK), (11 * SECOND, Flags::ACK), (12 * SECOND, Flags::RST_ACK)],
        "two unanswered probes, then the reset"
    );
    assert_eq!(h.state(id), State::Closed);
    assert_eq!(h.recv(id, 10), Ret::Err(Errno::ETIMEDOUT));
}

/// Zero-window probing (`tcp_probe_timer()`, `tcp_probe0_base()`, `tcp_probe0_when()`,
/// `tcp_ack_probe()`): the first probe leaves one RTO after the window closed; an answer
/// that still shows a zero window re-arms the timer with the interval doubled, counted from
/// the answer; after tcp_retries2 probes in a row with no answer the connection is given up.
#[test]
pub(crate) fn test_established_zero_window_probes_back_off_and_give_up() {
    let tcp = TcpSettings { retries2: 3, ..Harness::linux_settings() };
    let (mut h, id) = socket_established_with(tcp);
    h.inject(Seg { win: 0, ..remote(Flags::ACK, 0, 0) });
    let closed_at = h.now();
    assert_eq!(h.send(id, b"waiting"), Ret::Value(7));
    assert!(h.take_sent().is_empty(), "nothing may be sent into a zero window");
    assert_eq!(h.timer(id, TimerKind::Persist), Some(closed_at + RTO_AFTER_HANDSHAKE_US));
    h.advance(RTO_AFTER_HANDSHAKE_US);
    let probe = only(h.take_sent());
    assert_segment(&probe, Flags::ACK, LOCAL_ISS, REMOTE_ISS + 1);
    // The peer answers, still with a zero window: the next probe is 2 * base after the answer.
    h.inject(Seg { win: 0, ..remote(Flags::ACK, 0, 0) });
    let answer = h.now();
    assert_eq!(h.timer(id, TimerKind::Persist), Some(answer + 2 * RTO_AFTER_HANDSHAKE_US));
    // No more answers: three probes, 2b, 4b and 8b apart, then the give-up at the next
    // expiry, 8b later again because icsk_backoff stops growing at tcp_retries2.
    h.advance(30 * SECOND);
    let times: Vec<u64> = h.take_sent().iter().map(|sent| sent.t_us).collect();
    let b = RTO_AFTER_HANDSHAKE_US;
    assert_eq!(times, [answer + 2 * b, answer + 2 * b + 4 * b, answer + 2 * b + 4 * b + 8 * b]);
    let (at, from, to) = h.transitions(id).last().copied().expect("a state change");
    assert_eq!((at, from, to), (times[2] + 8 * b, State::Established, State::Closed));
    assert_eq!(h.send(id, b"x"), Ret::Err(Errno::ETIMEDOUT));
}

/// `tcp_data_queue()` then `tcp_fin()` then `__tcp_ack_snd_check()`: data that arrives with
/// a FIN, even in quick-ACK mode, is acknowledged only after the ACK delay, because the FIN
/// has put the socket in pingpong mode; a close() in between carries the ACK on its FIN.
#[test]
pub(crate) fn test_established_data_with_fin_ack_waits_for_close() {
    let (mut h, id) = socket_established();
    h.inject(Seg { flags: Flags { fin: true, ..PSH_ACK }, ..remote_data(0, 0, b"bye") });
    assert_eq!(h.state(id), State::CloseWait);
    assert!(h.take_sent().is_empty(), "no immediate ACK although the connection is in quick-ACK mode");
    assert_eq!(h.recv(id, 10), Ret::Value(3));
    assert_eq!(h.recv(id, 10), Ret::Value(0));
    h.close(id);
    let fin = only(h.take_sent());
    assert_segment(&fin, FIN_ACK, LOCAL_ISS + 1, REMOTE_ISS + 5);
}

// ===== bind() and EADDRINUSE =====

/// `inet_csk_bind_conflict()` (`sk_reuse` on both sockets, TIME_WAIT sockets included):
/// a port held by a TIME_WAIT socket can be bound again only if both the new socket and
/// the one in TIME_WAIT set SO_REUSEADDR (TLPI 61.10).
#[test]
pub(crate) fn test_time_wait_blocks_bind_unless_both_set_reuseaddr() {
    let (mut h, time_wait) = socket_time_wait();
    let port = SockAddr::new(crate::addr::Ipv4::UNSPECIFIED, LOCAL_EPHEMERAL_PORT);
    let fresh = h.socket();
    assert_eq!(h.bind(fresh, port), Ret::Err(Errno::EADDRINUSE));
    assert_eq!(h.setsockopt(fresh, SockOpt::ReuseAddr(true)), Ret::Value(0));
    assert_eq!(h.bind(fresh, port), Ret::Err(Errno::EADDRINUSE), "only the new socket set SO_REUSEADDR");
    // The fixture cannot place a setsockopt() before its connect(); the flag is only read
    // when another socket binds, so setting it now is the same as having set it then.
    h.world.sockets[time_wait].reuseaddr = true;
    assert_eq!(h.bind(fresh, port), Ret::Value(0), "both set SO_REUSEADDR");
    assert_eq!(h.state(time_wait), State::TimeWait);
}

/// `inet_csk_bind_conflict()` and `inet_csk_get_port()`: SO_REUSEADDR never lets a socket
/// share a port with a listener, and of two SO_REUSEADDR sockets bound to one port only
/// the first may listen.
#[test]
pub(crate) fn test_listen_reuseaddr_never_shares_with_a_listener() {
    let (mut h, _) = socket_listen();
    let other = h.socket();
    assert_eq!(h.setsockopt(other, SockOpt::ReuseAddr(true)), Ret::Value(0));
    assert_eq!(h.bind(other, SockAddr::new(LOCAL_IP, SERVER_PORT)), Ret::Err(Errno::EADDRINUSE));
    let shared = SockAddr::new(crate::addr::Ipv4::UNSPECIFIED, SERVER_PORT + 1);
    let (first, second) = (h.socket(), h.socket());
    for id in [first, second] {
        assert_eq!(h.setsockopt(id, SockOpt::ReuseAddr(true)), Ret::Value(0));
        assert_eq!(h.bind(id, shared), Ret::Value(0), "two SO_REUSEADDR sockets may bind one port");
    }
    assert_eq!(h.listen(first, 5), Ret::Value(0));
    assert_eq!(h.listen(second, 5), Ret::Err(Errno::EADDRINUSE));
}

// ===== helpers of the state machine =====

/// `tcp_model_timeout()`: with tcp_retries2 = 15 data retransmissions go on for 924.6 s.
#[test]
pub(crate) fn retransmission_budget_matches_linux_for_retries2_15() {
    // 0.2 s * (2^10 - 1) + 6 * 120 s = 924.6 s.
    assert_eq!(retransmission_budget(15, 200_000, 120_000_000), 924_600_000);
    assert_eq!(retransmission_budget(3, 200_000, 120_000_000), 3_000_000);
}
