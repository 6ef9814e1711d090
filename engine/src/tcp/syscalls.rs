//! The TCP halves of the socket calls, on one socket: listen, connect, send, recv,
//! shutdown, the socket options, and close. The parts that reach a host's ports or other
//! sockets are the world's (`world/calls.rs`).

use crate::errno::Errno;
use crate::outcome::Outcome;
use crate::scenario::{How, OptName, SockOpt};
use crate::socket::Socket;
use crate::state::State;
use crate::tcp::context::Cx;
use crate::tcp::linux::{MAX_TCP_WINDOW, MIN_RCVBUF, MIN_SNDBUF, RMEM_MAX, TCP_MIN_MSS, TCP_MSS_DEFAULT, WMEM_MAX};
use crate::tcp::open::init_sender;
use crate::tcp::output::{tcp_output, write_xmit, XmitMode};
use crate::tcp::receive::ack_after_read;
use crate::tcp::segment::{append_range, send_ack, send_rst, send_syn, SynKind, Transmission};
use crate::tcp::timers::{arm_timer, cancel_timer};
use crate::tcp::transition::{orphan_fin_wait2, release, set_state};
use crate::time::ms_to_us;
use crate::trace::TimerKind;

/// Whether a connect() call is new or a blocked one woken to look again.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectAttempt {
    First,
    Woken,
}

/// listen() on a bound socket whose port no other listener holds.
pub(crate) fn listen(s: &mut Socket, cx: &mut Cx<'_>, backlog: u32) -> Outcome {
    s.backlog = backlog.min(cx.tcp.somaxconn);
    set_state(s, cx, State::Listen, "listen() makes the socket passive");
    cx.queues_changed(s);
    Outcome::done(0)
}

/// What connect() returns without starting a handshake: a woken call reports how the
/// handshake went, and a socket that is connecting or connected answers at once. None when
/// a handshake may start.
pub(crate) fn connect_in_progress(s: &mut Socket, attempt: ConnectAttempt) -> Option<Outcome> {
    if attempt == ConnectAttempt::Woken {
        return Some(match s.state {
            State::SynSent | State::SynRecv => Outcome::block_on(s.id, "waiting for the SYN+ACK (three-way handshake)"),
            State::Closed => Outcome::Failed(s.error.take().unwrap_or(Errno::ECONNREFUSED)),
            _ => Outcome::done(0),
        });
    }
    match s.state {
        State::Closed => None,
        State::SynSent | State::SynRecv => Some(if s.nonblocking {
            Outcome::Failed(Errno::EALREADY)
        } else {
            Outcome::block_on(s.id, "waiting for the SYN+ACK (three-way handshake)")
        }),
        _ => Some(Outcome::Failed(Errno::EISCONN)),
    }
}

/// Starts the handshake of an addressed socket: initial sequence number `iss`, a path of
/// `mtu` bytes.
pub(crate) fn connect(s: &mut Socket, cx: &mut Cx<'_>, iss: u32, mtu: u32) -> Outcome {
    init_sender(s, cx, iss, mtu);
    set_state(s, cx, State::SynSent, "connect() sends a SYN");
    send_syn(s, cx, SynKind::Syn, Transmission::First);
    let rto = ms_to_us(cx.tcp.rto_initial_ms);
    s.tcb.rto_us = rto;
    arm_timer(s, cx, TimerKind::Retransmit, cx.now + rto);
    if s.nonblocking {
        Outcome::Failed(Errno::EINPROGRESS)
    } else {
        Outcome::block_on(s.id, "waiting for the SYN+ACK (three-way handshake)")
    }
}

/// send(): queues what fits in SendQ. Returns the outcome and the bytes of `data`
/// queued so far (`progress` carries over from earlier attempts of the same call,
/// `start` is where this call began).
/// Whether a send() lets what it wrote go out now, or says more follows (MSG_MORE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Push {
    Now,
    /// `tcp_push()` with MSG_MORE: the last segment is not marked PSH, and if it is smaller
    /// than the MSS it waits, as under TCP_CORK, for more data, an ACK, or the probe timer.
    MoreFollows,
    /// MSG_EOR: as `Now`, and the written data ends a record: data written later is never
    /// sent in the same segment (Linux marks the skb `eor`, and `tcp_skb_can_collapse_to()`
    /// refuses to append to it).
    EndOfRecord,
}

pub(crate) fn send(
    s: &mut Socket,
    cx: &mut Cx<'_>,
    data: &[u8],
    progress: u32,
    start: u32,
    push: Push,
) -> (Outcome, u32) {
    let socket = &mut *s;
    if let Some(errno) = socket.error.take() {
        return (Outcome::Failed(errno), progress);
    }
    let blocking = !socket.nonblocking;
    match socket.state {
        State::Established | State::CloseWait if !socket.shut_wr => {}
        State::SynSent | State::SynRecv => {
            return if blocking {
                (Outcome::block_on(s.id, "waiting for the connection to be established"), progress)
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
    let space = if queued_before < socket.sndbuf { (socket.sndbuf - queued_before).div_ceil(goal) * goal } else { 0 };
    let take = space.min(total - progress);
    if take > 0 {
        let chunk = &data[progress as usize..(progress + take) as usize];
        socket.tcb.send_buf.extend(chunk);
        socket.written.extend_from_slice(chunk);
        socket.tcb.write_seq = socket.tcb.write_seq.wrapping_add(take);
        let cut_short = take < total - progress;
        let more = push == Push::MoreFollows;
        socket.tcb.unpushed_end = (cut_short || more).then_some(socket.tcb.write_seq);
        socket.tcb.more_follows = more;
        if push == Push::EndOfRecord {
            socket.tcb.record_ends.push_back(socket.tcb.write_seq);
        }
        write_xmit(s, cx, if more { XmitMode::MoreFollows } else { XmitMode::Normal });
        cx.queues_changed(s);
    }
    let queued = progress + take;
    if queued == total {
        return (Outcome::done(i64::from(queued - start)), queued);
    }
    if !blocking {
        return if queued > start {
            (Outcome::done(i64::from(queued - start)), queued)
        } else {
            (Outcome::Failed(Errno::EAGAIN), queued)
        };
    }
    // The writer sleeps until SendQ is writable again (Socket::send_q_writable()).
    let reason = format!(
        "no room in SendQ: {} of the {} bytes are copied, and send() waits until ACKs bring SendQ \
         down to {} bytes, two thirds of SO_SNDBUF",
        queued - start,
        total - start,
        s.writable_send_q()
    );
    (Outcome::block_on(s.id, reason), queued)
}

pub(crate) fn recv(s: &mut Socket, cx: &mut Cx<'_>, len: u32) -> Outcome {
    let socket = &mut *s;
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
        cx.queues_changed(s);
        ack_after_read(s, cx);
        return read_returns(s, take as i64);
    }
    if let Some(errno) = socket.error.take() {
        return Outcome::Failed(errno);
    }
    if socket.tcb.fin_rcvd || socket.shut_rd || (socket.state == State::Closed && socket.was_connected) {
        return read_returns(s, 0);
    }
    if matches!(socket.state, State::Closed | State::Listen) {
        return Outcome::Failed(Errno::ENOTCONN);
    }
    if socket.nonblocking {
        return Outcome::Failed(Errno::EAGAIN);
    }
    Outcome::block_on(s.id, "RecvQ is empty: waiting for data")
}

/// A read's return of `count` bytes; with TCP_INQ, also the bytes left to read, a FIN
/// received counting one, so that 0 left means "more may come" (`tcp_inq_hint()`).
fn read_returns(s: &Socket, count: i64) -> Outcome {
    let left = s.inq.then(|| (s.recv_q() + u32::from(s.tcb.fin_rcvd)).to_string());
    Outcome::Done { value: count, shown: left }
}

pub(crate) fn shutdown(s: &mut Socket, cx: &mut Cx<'_>, how: How) -> Outcome {
    let socket = &mut *s;
    if !socket.state.is_synchronized() && socket.state != State::SynRecv {
        return Outcome::Failed(Errno::ENOTCONN);
    }
    if matches!(how, How::Read | How::Both) {
        // Linux sends nothing for SHUT_RD: recv() returns 0 once RecvQ is drained.
        socket.shut_rd = true;
        cx.wake(s);
    }
    if matches!(how, How::Write | How::Both) && !s.shut_wr {
        queue_fin(s, cx, "shutdown(SHUT_WR) queues a FIN");
    }
    Outcome::done(0)
}

pub(crate) fn setsockopt(s: &mut Socket, cx: &mut Cx<'_>, opt: SockOpt) -> Outcome {
    let socket = &mut *s;
    match opt {
        SockOpt::ReuseAddr(on) => socket.reuseaddr = on,
        SockOpt::Linger(linger) => socket.linger = linger.onoff.then_some(linger.linger),
        // socket(7): the kernel doubles the value to leave room for bookkeeping.
        SockOpt::RcvBuf(bytes) => {
            socket.rcvbuf = bytes.min(RMEM_MAX).saturating_mul(2).max(MIN_RCVBUF);
            // sock_setsockopt() sets SOCK_RCVBUF_LOCK: autotuning stops and the window
            // scale offered later is chosen for this buffer (tcp_select_initial_window()).
            socket.rcvbuf_locked = true;
            cx.queues_changed(s);
        }
        SockOpt::SndBuf(bytes) => {
            socket.sndbuf = bytes.min(WMEM_MAX).saturating_mul(2).max(MIN_SNDBUF);
            socket.sndbuf_locked = true;
            cx.queues_changed(s);
        }
        SockOpt::NoDelay(on) => {
            socket.nodelay = on;
            if on {
                // __tcp_sock_set_nodelay(): TCP_NAGLE_PUSH sends whatever Nagle, TCP_CORK or
                // MSG_MORE was holding back.
                write_xmit(s, cx, XmitMode::Push);
            }
        }
        SockOpt::Inq(on) => socket.inq = on,
        SockOpt::Cork(on) => {
            socket.cork = on;
            if !on {
                // __tcp_sock_set_cork(): uncorking pushes what waits, by Nagle's rule unless
                // TCP_NODELAY is set too.
                let mode = if socket.nodelay { XmitMode::Push } else { XmitMode::Normal };
                write_xmit(s, cx, mode);
            }
        }
        SockOpt::ReusePort(on) => socket.reuseport = on,
        // do_tcp_setsockopt(): 0 clears it; otherwise it must lie within TCP_MIN_MSS and
        // MAX_TCP_WINDOW. It takes effect at the next SYN or SYN+ACK.
        SockOpt::MaxSeg(bytes) => {
            if bytes != 0 && !(TCP_MIN_MSS..=MAX_TCP_WINDOW).contains(&bytes) {
                return Outcome::Failed(Errno::EINVAL);
            }
            socket.user_mss = bytes as u16;
        }
        // do_tcp_setsockopt() refuses only a negative value, which the format cannot write.
        SockOpt::UserTimeout(ms) => socket.user_timeout_ms = ms,
        SockOpt::QuickAck(on) => {
            // __tcp_sock_set_quickack(): 0 enters pingpong mode, so ACKs wait for a reply
            // or the delayed-ACK timer; 1 leaves it and sends an ACK that is owed.
            socket.tcb.pingpong = !on;
            if on && socket.tcb.ack_pending && socket.state.is_synchronized() {
                send_ack(s, cx);
            }
        }
        SockOpt::KeepAlive(on) => {
            socket.keepalive = on;
            if on && socket.state == State::Established {
                let idle = ms_to_us(cx.tcp.keepalive_time_ms);
                arm_timer(s, cx, TimerKind::Keepalive, cx.now + idle);
            } else if !on {
                cancel_timer(s, cx, TimerKind::Keepalive);
            }
        }
    }
    Outcome::done(0)
}

pub(crate) fn getsockopt(s: &mut Socket, _cx: &mut Cx<'_>, opt: OptName) -> Outcome {
    let socket = &mut *s;
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
        // do_tcp_getsockopt(): the MSS in use (tp->mss_cache, 536 until a connection has
        // one), or TCP_MAXSEG's own value on a closed or listening socket that has it.
        OptName::UserTimeout => socket.user_timeout_ms.to_string(),
        OptName::Cork => u8::from(socket.cork).to_string(),
        OptName::Inq => u8::from(socket.inq).to_string(),
        OptName::MaxSeg => {
            let closed_or_listening = matches!(socket.state, State::Closed | State::Listen);
            if socket.user_mss != 0 && closed_or_listening {
                socket.user_mss.to_string()
            } else if socket.state.is_synchronized() && socket.tcb.mss > 0 {
                socket.tcb.mss.to_string()
            } else {
                TCP_MSS_DEFAULT.to_string()
            }
        }
    };
    Outcome::Done { value: 0, shown: Some(value) }
}

/// The last descriptor of a connection's socket was closed (tcp_close()); a listener's
/// close is the world's, which resets its pending connections first.
pub(crate) fn close(s: &mut Socket, cx: &mut Cx<'_>) {
    let socket = &*s;
    match socket.state {
        State::Closed => release(s, cx),
        State::SynSent => set_state(s, cx, State::Closed, "close() while connecting: the attempt is abandoned"),
        _ if !socket.tcb.recv_buf.is_empty() => {
            // Linux: closing with unread data resets the connection (RFC 2525 2.17).
            send_rst(s, cx);
            set_state(s, cx, State::Closed, "close() with unread data in RecvQ: RST instead of FIN");
        }
        _ if socket.linger == Some(0) => {
            send_rst(s, cx);
            set_state(s, cx, State::Closed, "SO_LINGER {1, 0}: close() aborts with RST, SendQ is discarded");
        }
        State::Established | State::SynRecv | State::CloseWait => {
            if !socket.shut_wr {
                queue_fin(s, cx, "close() queues a FIN");
            }
            orphan_fin_wait2(s, cx);
        }
        State::FinWait2 => orphan_fin_wait2(s, cx),
        _ => {}
    }
}

/// A connection that its listener's close() leaves unaccepted is reset (inet_csk_listen_stop()).
pub(crate) fn reset_unaccepted(s: &mut Socket, cx: &mut Cx<'_>) {
    if s.state != State::Closed {
        send_rst(s, cx);
    }
    set_state(s, cx, State::Closed, "its listener was closed before accept(): reset");
    release(s, cx);
}

pub(crate) fn queue_fin(s: &mut Socket, cx: &mut Cx<'_>, cause: &str) {
    let socket = &mut *s;
    socket.shut_wr = true;
    socket.tcb.fin_queued = true;
    match socket.state {
        State::Established | State::SynRecv => set_state(s, cx, State::FinWait1, cause),
        State::CloseWait => set_state(s, cx, State::LastAck, cause),
        _ => {}
    }
    tcp_output(s, cx);
}
