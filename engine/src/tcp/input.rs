//! A segment arrives for a connection: handled per state, as `tcp_rcv_state_process()`,
//! `tcp_rcv_synsent_state_process()` and `tcp_timewait_state_process()` do; and a
//! listener's new connection, which answers the SYN that made it.

use crate::errno::Errno;
use crate::socket::{seq_ge, seq_gt, seq_lt, Socket};
use crate::state::State;
use crate::tcp::ack::process_ack;
use crate::tcp::context::{AcceptQueue, Cx};
use crate::tcp::linux::*;

use crate::tcp::open::{handshake_acked, init_receiver, init_sender, start_keepalive};
use crate::tcp::output::tcp_output;
use crate::tcp::receive::{receive_data, receive_fin, AckNeed};
use crate::tcp::segment::{reply_rst, send_ack, send_rst, send_syn, SynKind, Transmission};
use crate::tcp::timers::{arm_timer, ensure_timer};
use crate::tcp::transition::{release, set_state};
use crate::time::ms_to_us;
use crate::trace::{EventKind, TimerKind};
use crate::wire::{Wire, LOOPBACK_MTU};

/// A segment arrived for this connection's socket.
pub(crate) fn segment_arrives(s: &mut Socket, cx: &mut Cx<'_>, wire: &Wire) {
    let now = cx.now;
    let tcb = &mut s.tcb;
    tcb.last_heard_at = now;
    tcb.probes = 0;
    if tcb.timestamps {
        if let Some((value, _)) = wire.options.ts {
            tcb.ts_recent = value;
        }
    }
    match s.state {
        State::Closed | State::Listen => {
            reply_rst(cx, wire);
        }
        State::SynSent => syn_sent_input(s, cx, wire),
        State::TimeWait => time_wait_input(s, cx, wire),
        _ => synchronized_input(s, cx, wire),
    }
}

pub(crate) fn syn_sent_input(s: &mut Socket, cx: &mut Cx<'_>, wire: &Wire) {
    let iss = s.tcb.iss;
    if wire.flags.ack && wire.ack != iss.wrapping_add(1) {
        // Perhaps a stale connection's FIN/ACK or RST/ACK that our RST will clear away:
        // unless the SYN was already resent, resend it very soon
        // (tcp_rcv_synsent_state_process(), TCP_TIMEOUT_MIN).
        if s.tcb.retransmits == 0 {
            arm_timer(s, cx, TimerKind::Retransmit, cx.now + TCP_TIMEOUT_MIN_JIFFIES_US);
        }
        reply_rst(cx, wire);
        return;
    }
    if wire.flags.rst {
        if wire.flags.ack {
            s.error = Some(Errno::ECONNREFUSED);
            set_state(s, cx, State::Closed, "RST in answer to our SYN: nobody listens on that port");
        }
        return;
    }
    if !wire.flags.syn {
        return;
    }
    let mtu = cx.path_mtu.unwrap_or(LOOPBACK_MTU);
    init_receiver(s, cx, wire, mtu);
    if wire.flags.ack {
        handshake_acked(s, cx, wire);
        s.tcb.last_rcv_at = Some(cx.now);
        set_state(s, cx, State::Established, "the SYN+ACK arrived: connect() returns");
        send_ack(s, cx);
        start_keepalive(s, cx);
        tcp_output(s, cx);
    } else {
        set_state(s, cx, State::SynRecv, "a SYN arrived while ours was out: simultaneous open");
        send_syn(s, cx, SynKind::SynAck, Transmission::First);
    }
}

/// A segment for a TIME_WAIT socket, handled as Linux's `tcp_timewait_state_process()`.
pub(crate) fn time_wait_input(s: &mut Socket, cx: &mut Cx<'_>, wire: &Wire) {
    let rcv_nxt = s.tcb.rcv_nxt;
    let two_msl = two_msl_us(cx.tcp);
    if wire.seq == rcv_nxt && (wire.seq_len() == 0 || wire.flags.rst) {
        // Exactly at rcv_nxt only an RST or a bare ACK can come: the RST ends TIME_WAIT
        // (tcp_rfc1337 = 0, Linux's default), the ACK restarts it, neither is answered.
        if wire.flags.rst {
            set_state(s, cx, State::Closed, "an RST ends TIME_WAIT early (Linux does not enforce RFC 1337)");
        } else {
            arm_timer(s, cx, TimerKind::TimeWait, cx.now + two_msl);
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
        arm_timer(s, cx, TimerKind::TimeWait, cx.now + two_msl);
    }
    // Every other segment is acknowledged at once (TCP_TW_ACK).
    send_ack(s, cx);
}

pub(crate) fn synchronized_input(s: &mut Socket, cx: &mut Cx<'_>, wire: &Wire) {
    let state = s.state;
    let listener = s.listener;
    if wire.flags.rst {
        if state == State::SynRecv && listener.is_some() {
            set_state(s, cx, State::Closed, "an RST ended the half-open connection");
            release(s, cx);
            return;
        }
        // RFC 5961 3.2, as tcp_validate_incoming() and tcp_reset_check(): only an RST at
        // exactly rcv_nxt resets (or one byte before it once the peer's FIN is in); one
        // elsewhere in the window draws a challenge ACK; one outside it is ignored.
        let tcb = &s.tcb;
        let exact = wire.seq == tcb.rcv_nxt
            || (matches!(state, State::CloseWait | State::LastAck | State::Closing)
                && wire.seq == tcb.rcv_nxt.wrapping_sub(1));
        if !exact {
            let window = tcb.rcv_wnd.max(1);
            if seq_ge(wire.seq, tcb.rcv_nxt) && seq_lt(wire.seq, tcb.rcv_nxt.wrapping_add(window)) {
                send_ack(s, cx);
            }
            return;
        }
        let errno = match state {
            State::CloseWait => Errno::EPIPE,
            State::SynRecv => Errno::ECONNREFUSED,
            _ => Errno::ECONNRESET,
        };
        let socket = &mut *s;
        socket.error = Some(errno);
        socket.shut_wr = true;
        set_state(s, cx, State::Closed, "RST received: the peer aborted the connection");
        return;
    }
    if wire.flags.syn {
        let tcb = &s.tcb;
        if state == State::SynRecv && !wire.flags.ack && wire.seq == tcb.irs {
            // The client resent its SYN: our SYN+ACK was lost or is late.
            send_syn(s, cx, SynKind::SynAck, Transmission::Retransmission);
            return;
        }
        if !(state == State::SynRecv && wire.flags.ack) {
            send_ack(s, cx);
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
        let now = cx.now;
        let tcb = &mut s.tcb;
        let window = tcb.rcv_wup.wrapping_add(tcb.rcv_wnd).wrapping_sub(tcb.rcv_nxt) as i32;
        let right_edge = tcb.rcv_nxt.wrapping_add(window.max(0) as u32);
        if seq_lt(wire.seq, tcb.rcv_wup) || seq_gt(wire.seq, right_edge) {
            match tcb.last_oow_ack_at.map(|at| now.saturating_sub(at)) {
                Some(since) if since < TCP_INVALID_RATELIMIT_US => {
                    let text = format!(
                        "{} leaves this segment unanswered: it lies outside the receive window (a probe's old \
                         sequence number), and Linux answers at most one such segment per 500 ms \
                         (tcp_invalid_ratelimit, tcp_oow_rate_limited()); it answered one {} ms ago.",
                        cx.host_name,
                        since / 1000
                    );
                    cx.emit(EventKind::Note { pid: None, text });
                }
                _ => {
                    tcb.last_oow_ack_at = Some(now);
                    send_ack(s, cx);
                }
            }
            return;
        }
    }
    if !wire.flags.ack {
        return;
    }
    if state == State::SynRecv {
        let iss = s.tcb.iss;
        if wire.ack != iss.wrapping_add(1) {
            reply_rst(cx, wire);
            return;
        }
        if cx.accept_queue == AcceptQueue::Full {
            if cx.tcp.abort_on_overflow {
                send_rst(s, cx);
                set_state(s, cx, State::Closed, "the accept queue is full and tcp_abort_on_overflow is set");
                release(s, cx);
            } else {
                cx.emit(EventKind::Note {
                    pid: None,
                    text: "the accept queue is full: the listener ignores this final ACK and will resend its SYN+ACK"
                        .into(),
                });
            }
            return;
        }
        handshake_acked(s, cx, wire);
        let cause = if listener.is_some() {
            "the handshake's final ACK arrived: the connection moves to the accept queue"
        } else {
            "our SYN is acknowledged: simultaneous open completes"
        };
        set_state(s, cx, State::Established, cause);
        if let Some(listener) = listener {
            cx.join_accept_queue(listener, s.id);
        }
        start_keepalive(s, cx);
        if wire.flags.syn {
            return;
        }
    }
    if !process_ack(s, cx, wire) {
        return;
    }
    let mut need = AckNeed::None;
    if !wire.payload().is_empty() {
        let state = s.state;
        let socket = &*s;
        let new_data = seq_gt(wire.seq.wrapping_add(wire.payload().len() as u32), socket.tcb.rcv_nxt);
        if matches!(state, State::FinWait1 | State::FinWait2) && socket.refs == 0 && new_data {
            // Data for a socket its owner has closed: nobody will ever read it, so Linux
            // resets the connection (LINUX_MIB_TCPABORTONDATA). The RST answers the
            // segment as tcp_v4_send_reset() does: <SEQ=SEG.ACK><CTL=RST>.
            reply_rst(cx, wire);
            set_state(s, cx, State::Closed, "data arrived after close(): the kernel answers with RST");
            return;
        }
        if matches!(state, State::Established | State::FinWait1 | State::FinWait2) {
            need = need.max(receive_data(s, cx, wire));
        }
    }
    if wire.flags.fin {
        need = need.max(receive_fin(s, cx, wire.seq.wrapping_add(wire.payload().len() as u32)));
    }
    if s.freed || s.state == State::Closed {
        return;
    }
    if need == AckNeed::Quick {
        // A FIN that came with the data has put the socket in pingpong mode, so its ACK
        // waits, hoping to ride on the application's own FIN (`tcp_fin()`, then
        // `tcp_in_quickack_mode()` in `__tcp_ack_snd_check()`).
        let tcb = &s.tcb;
        need = if tcb.quick > 0 && !tcb.pingpong { AckNeed::Now } else { AckNeed::Delayed };
    }
    match need {
        AckNeed::Now => send_ack(s, cx),
        AckNeed::Delayed => {
            s.tcb.ack_pending = true;
            let delay = delayed_ack_delay(s, cx);
            ensure_timer(s, cx, TimerKind::DelayedAck, cx.now + delay);
        }
        AckNeed::Quick | AckNeed::None => {}
    }
    tcp_output(s, cx);
}

/// How long an ACK waits (`tcp_send_delayed_ack()`): `icsk_ack.ato`, which Linux sets to
/// `TCP_ATO_MIN` (the 40 ms delayed-ACK timeout) only once data has arrived
/// (`tcp_event_data_recv()`). On a connection that has received no data it is still 0, so the
/// timer is due at once and fires at the next tick of the kernel's clock: the ACK of a FIN
/// there comes within a jiffy (4 ms at HZ=250), not 40 ms later. The engine's jiffies start at
/// the run's time 0. Measured on Linux 6.18: 0.4 to 7.5 ms over 15 runs (docs/linux-model.md).
fn delayed_ack_delay(s: &Socket, cx: &Cx<'_>) -> u64 {
    if s.tcb.rcv_mss == 0 {
        JIFFY_US - cx.now % JIFFY_US
    } else {
        ms_to_us(cx.tcp.delack_ms)
    }
}

/// A SYN reached a listener and made this socket: it takes the peer's SYN and enters
/// SYN_RECV in the listener's SYN queue.
pub(crate) fn syn_received(s: &mut Socket, cx: &mut Cx<'_>, iss: u32, syn: &Wire, mtu: u32) {
    init_sender(s, cx, iss, mtu);
    init_receiver(s, cx, syn, mtu);
    set_state(s, cx, State::SynRecv, "a SYN reached the listener: the new connection waits in its SYN queue");
}

/// The new connection answers the SYN with its SYN+ACK and waits for the final ACK.
pub(crate) fn answer_syn(s: &mut Socket, cx: &mut Cx<'_>) {
    send_syn(s, cx, SynKind::SynAck, Transmission::First);
    let rto = ms_to_us(cx.tcp.rto_initial_ms);
    arm_timer(s, cx, TimerKind::Retransmit, cx.now + rto);
}
