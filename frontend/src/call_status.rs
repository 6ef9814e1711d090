//! What a process card says about the call its process is in, from the snapshot alone.
//!
//! The trace says why a call blocks once, when it blocks (`the accept queue is empty`); the
//! world goes on changing while the process waits, and the call's return is traced only once
//! the process runs again, a step or two later. Quoting the block's reason until then would
//! let the card say "the accept queue is empty" beside a listener that shows one connection
//! in it. So the card reads what the call waits for from the socket as it is now: still
//! missing, it says what is missing, with the numbers the socket's own card shows; there, it
//! says that the call is woken and what woke it. Only a wait the page does not know (a sleep)
//! quotes the trace's reason.

use sockscope_engine::replay::{CallView, ProcessView, Snapshot, SocketView};
use sockscope_engine::state::State;
use sockscope_engine::trace::{Proto, SocketId, TimerKind};

/// The line under a process's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallStatus {
    /// The process has not called anything yet.
    Starting,
    Exited,
    /// No call in progress; the last one returned this (`accept`, `4`).
    Returned {
        call: String,
        result: String,
    },
    /// In a call that has not blocked: `accept(3)`.
    Running {
        call: String,
    },
    /// Blocked, and what it waits for is still missing.
    Blocked {
        call: String,
        wait: Wait,
    },
    /// Blocked, but what it waited for has happened: it returns when it next runs.
    Woken {
        call: String,
        why: String,
    },
}

/// What a blocked call waits for, with the levels it reads them from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wait {
    /// accept(): the listener's accept queue is empty.
    AcceptQueueEmpty { listener: SocketId },
    /// connect(): the handshake is not over.
    Handshake { socket: SocketId },
    /// recv(): nothing to read and no FIN.
    RecvQueueEmpty { socket: SocketId },
    /// send() before the handshake is over.
    Connecting { socket: SocketId },
    /// send(): SendQ holds too much to take more (Linux's sk_stream_is_writeable(): a writer
    /// sleeps until the free space is at least half of what is queued).
    SendQueueFull { socket: SocketId, queued: u32, capacity: u32 },
    /// close() with SO_LINGER: the FIN is not acknowledged yet.
    Lingering { socket: SocketId },
    /// recvfrom(): no datagram yet.
    NoDatagram { socket: SocketId },
    /// Anything else, in the trace's words (a sleep).
    Other(String),
}

impl Wait {
    pub fn text(&self) -> String {
        match self {
            Wait::AcceptQueueEmpty { .. } => "the accept queue is empty: waiting for a completed connection".into(),
            Wait::Handshake { .. } => "waiting for the SYN+ACK (three-way handshake)".into(),
            Wait::Connecting { .. } => "waiting for the connection to be established".into(),
            Wait::RecvQueueEmpty { .. } => "RecvQ is empty: waiting for data".into(),
            Wait::SendQueueFull { queued, capacity, .. } => format!(
                "SendQ holds {queued} of {capacity} B: send() sleeps until the peer's ACKs bring it down to {} B",
                writable_level(*capacity)
            ),
            Wait::Lingering { .. } => "lingering until the FIN is acknowledged (SO_LINGER)".into(),
            Wait::NoDatagram { .. } => "no datagram has arrived yet".into(),
            Wait::Other(reason) => reason.clone(),
        }
    }
}

impl CallStatus {
    /// The card's words, e.g. `accept(3) — blocked: the accept queue is empty: …`.
    pub fn text(&self) -> String {
        match self {
            CallStatus::Starting => "starting".into(),
            CallStatus::Exited => "exited".into(),
            CallStatus::Returned { call, result } => format!("{call}() = {result}"),
            CallStatus::Running { call } => format!("{call} — running"),
            CallStatus::Blocked { call, wait } => match wait.text() {
                reason if reason.is_empty() => format!("{call} — blocked"),
                reason => format!("{call} — blocked: {reason}"),
            },
            CallStatus::Woken { call, why } => format!("{call} — woken: {why}"),
        }
    }
}

/// What `process`'s card says in the world `snapshot`.
pub fn call_status(snapshot: &Snapshot, process: &ProcessView) -> CallStatus {
    let Some(call) = &process.call else {
        return match (&process.last, process.exited) {
            (_, true) => CallStatus::Exited,
            (Some((call, result)), false) => CallStatus::Returned { call: call.clone(), result: result.clone() },
            (None, false) => CallStatus::Starting,
        };
    };
    let text = format!("{}({})", call.call, call.args);
    let Some(reason) = &call.blocked else { return CallStatus::Running { call: text } };
    match blocked(snapshot, call, reason) {
        Ok(wait) => CallStatus::Blocked { call: text, wait },
        Err(why) => CallStatus::Woken { call: text, why },
    }
}

/// What the call still waits for, or (as the error) what has happened that it waited for.
fn blocked(snapshot: &Snapshot, call: &CallView, reason: &str) -> Result<Wait, String> {
    let socket = call.socket.and_then(|id| snapshot.sockets.get(&id));
    let Some(socket) = socket else {
        return match call.socket {
            Some(_) => Err("its socket is gone".into()),
            None => Ok(Wait::Other(reason.to_string())),
        };
    };
    let id = socket.id;
    match call.call.as_str() {
        "accept" if socket.state != State::Listen => Err("the listener is closed".into()),
        "accept" if socket.accept_q > 0 => {
            Err(format!("the accept queue holds {} of {}", plural(socket.accept_q, "connection"), socket.backlog + 1))
        }
        "accept" => Ok(Wait::AcceptQueueEmpty { listener: id }),
        "connect" if matches!(socket.state, State::SynSent | State::SynRecv) => Ok(Wait::Handshake { socket: id }),
        "connect" if socket.state == State::Established => Err("the handshake is over (ESTABLISHED)".into()),
        "connect" => Err(format!("the attempt ended ({})", socket.state.name())),
        "recv" => match readable(socket) {
            Some(why) => Err(why),
            None => Ok(Wait::RecvQueueEmpty { socket: id }),
        },
        "recvfrom" if socket.proto == Proto::Udp && socket.recv_q > 0 => Err("a datagram arrived".into()),
        "recvfrom" if socket.proto == Proto::Udp => Ok(Wait::NoDatagram { socket: id }),
        "send" if matches!(socket.state, State::SynSent | State::SynRecv) => Ok(Wait::Connecting { socket: id }),
        "send" => match writable(socket) {
            Some(why) => Err(why),
            None => Ok(Wait::SendQueueFull { socket: id, queued: socket.send_q, capacity: socket.send_cap }),
        },
        "close" => {
            let unacknowledged = matches!(socket.state, State::FinWait1 | State::Closing | State::LastAck);
            match (unacknowledged, socket.timers.contains_key(&TimerKind::Linger)) {
                (true, true) => Ok(Wait::Lingering { socket: id }),
                (true, false) => Err("the linger time is up".into()),
                (false, _) => Err(format!("the FIN is acknowledged ({})", socket.state.name())),
            }
        }
        _ => Ok(Wait::Other(reason.to_string())),
    }
}

/// Why a recv() can return, if it can (data, the peer's FIN, or the connection's end).
fn readable(socket: &SocketView) -> Option<String> {
    if socket.recv_q > 0 {
        return Some(format!("RecvQ holds {} B", socket.recv_q));
    }
    if socket.rcv_fin {
        return Some("the peer's FIN arrived: recv() returns 0".into());
    }
    match socket.state {
        State::SynSent | State::SynRecv | State::Established | State::FinWait1 | State::FinWait2 => None,
        state => Some(format!("the connection can bring no more data ({})", state.name())),
    }
}

/// Why a blocked send() can go on, if it can (Linux's sk_stream_is_writeable(), as the
/// engine's `World::writable`; an ended connection also wakes the writer, to see the error).
fn writable(socket: &SocketView) -> Option<String> {
    if !socket.state.can_send() {
        return Some(format!("the connection can send no more ({})", socket.state.name()));
    }
    let free = socket.send_cap.saturating_sub(socket.send_q);
    (free >= socket.send_q / 2).then(|| format!("SendQ has room again ({} of {} B free)", free, socket.send_cap))
}

/// The most SendQ may hold for a writer to wake: the largest `queued` whose free space
/// (`capacity - queued`) is at least `queued / 2`, about two thirds of the capacity.
pub fn writable_level(capacity: u32) -> u32 {
    ((2 * u64::from(capacity) + 1) / 3) as u32
}

fn plural(count: u32, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockscope_engine::trace::Pid;

    /// A world with one socket in `state` and one process blocked in `call` on it.
    fn blocked_in(call: &str, state: State, adjust: impl FnOnce(&mut SocketView)) -> (Snapshot, Pid) {
        let mut snapshot = Snapshot::default();
        let mut socket = SocketView::new(SocketId(0), "h".into(), Proto::Tcp);
        socket.state = state;
        (socket.send_cap, socket.recv_cap, socket.backlog) = (16384, 131072, 5);
        adjust(&mut socket);
        snapshot.sockets.insert(SocketId(0), socket);
        let call = CallView {
            call: call.into(),
            args: "3".into(),
            blocked: Some("the trace's reason".into()),
            socket: Some(SocketId(0)),
        };
        let process = ProcessView {
            pid: Pid(7),
            name: "p".into(),
            host: "h".into(),
            parent: None,
            fds: Default::default(),
            call: Some(call),
            last: None,
            exited: false,
        };
        snapshot.processes.insert(Pid(7), process);
        (snapshot, Pid(7))
    }

    fn status(call: &str, state: State, adjust: impl FnOnce(&mut SocketView)) -> String {
        let (snapshot, pid) = blocked_in(call, state, adjust);
        call_status(&snapshot, snapshot.processes.get(&pid).expect("the process")).text()
    }

    #[test]
    fn a_blocked_call_says_what_is_missing_until_it_is_there() {
        let cases: Vec<(String, &str)> = vec![
            (status("accept", State::Listen, |_| {}), "accept(3) — blocked: the accept queue is empty"),
            (status("accept", State::Listen, |s| s.accept_q = 1), "accept(3) — woken: the accept queue holds 1 connection of 6"),
            (status("connect", State::SynSent, |_| {}), "connect(3) — blocked: waiting for the SYN+ACK"),
            (status("connect", State::Established, |_| {}), "connect(3) — woken: the handshake is over (ESTABLISHED)"),
            (status("connect", State::Closed, |_| {}), "connect(3) — woken: the attempt ended (CLOSED)"),
            (status("recv", State::Established, |_| {}), "recv(3) — blocked: RecvQ is empty"),
            (status("recv", State::Established, |s| s.recv_q = 100), "recv(3) — woken: RecvQ holds 100 B"),
            (status("recv", State::CloseWait, |s| s.rcv_fin = true), "recv(3) — woken: the peer's FIN arrived"),
            (status("send", State::SynSent, |_| {}), "send(3) — blocked: waiting for the connection to be established"),
            (
                status("send", State::Established, |s| s.send_q = 16384),
                "send(3) — blocked: SendQ holds 16384 of 16384 B: send() sleeps until the peer's ACKs bring it down to 10923 B",
            ),
            (status("send", State::Established, |s| s.send_q = 10923), "send(3) — woken: SendQ has room again"),
            (status("send", State::Closed, |_| {}), "send(3) — woken: the connection can send no more (CLOSED)"),
            (
                status("close", State::FinWait1, |s| {
                    s.timers.insert(TimerKind::Linger, 5);
                }),
                "close(3) — blocked: lingering until the FIN is acknowledged",
            ),
            (status("close", State::FinWait2, |_| {}), "close(3) — woken: the FIN is acknowledged (FIN_WAIT2)"),
            (status("sleep", State::Established, |_| {}), "sleep(3) — blocked: the trace's reason"),
        ];
        for (text, expected) in cases {
            assert!(text.starts_with(expected), "“{text}” should start with “{expected}”");
        }
    }

    #[test]
    fn the_level_a_writer_wakes_at_follows_sk_stream_is_writeable() {
        for capacity in 0..2000u32 {
            let level = writable_level(capacity);
            let writable = |queued: u32| capacity.saturating_sub(queued) >= queued / 2;
            assert!(writable(level), "{capacity}: {level} must be writable");
            assert!(level >= capacity || !writable(level + 1), "{capacity}: {level} must be the largest");
        }
    }
}
