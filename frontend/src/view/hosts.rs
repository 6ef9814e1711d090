//! A panel per host: its processes and the call each is in, their descriptors, and a card per
//! socket with its state, addresses, queues and running timers. A process's line is
//! [`call_status`](crate::call_status), read from the same snapshot as the socket cards, so
//! the two never tell different queue levels or states.

use std::rc::Rc;

use sockscope_engine::replay::{ProcessView, Snapshot, SocketView};
use sockscope_engine::state::State;
use sockscope_engine::trace::{Proto, SocketId, TimerKind};
use yew::prelude::*;

use super::{state_class, state_shape};
use crate::call_status::{call_status, CallStatus};

#[derive(Properties, Clone)]
pub struct HostPanelProps {
    pub host: String,
    pub addr: String,
    pub snapshot: Rc<Snapshot>,
    /// Simulated time for the countdowns, in µs.
    pub now_us: u64,
    /// The socket the state diagram shows, marked on its card.
    pub followed: Option<SocketId>,
    /// The socket the reader pinned the state diagram to.
    pub pinned: Option<SocketId>,
    pub on_select: Callback<SocketId>,
}

impl PartialEq for HostPanelProps {
    fn eq(&self, other: &Self) -> bool {
        self.host == other.host
            && self.addr == other.addr
            && Rc::ptr_eq(&self.snapshot, &other.snapshot)
            && self.now_us == other.now_us
            && self.followed == other.followed
            && self.pinned == other.pinned
    }
}

#[function_component(HostPanel)]
pub fn host_panel(props: &HostPanelProps) -> Html {
    let snapshot = &props.snapshot;
    let processes: Vec<&ProcessView> =
        snapshot.processes.values().filter(|process| process.host == props.host).collect();
    let sockets: Vec<&SocketView> = snapshot.sockets_of(&props.host).collect();
    html! {
        <section class="host" data-testid="host" data-host={props.host.clone()} aria-label={format!("host {}", props.host)}>
            <h2 class="host-name"><span>{ &props.host }</span><small>{ &props.addr }</small></h2>
            <div class="processes">
                if processes.is_empty() {
                    <p class="muted">{ "No processes yet." }</p>
                }
                { for processes.iter().map(|process| process_row(snapshot, process)) }
            </div>
            <div class="sockets">
                { for sockets.iter().map(|socket| html! {
                    <SocketCard
                        key={socket.id.0}
                        socket={(*socket).clone()}
                        now_us={if socket.timers.is_empty() { 0 } else { props.now_us }}
                        followed={props.followed == Some(socket.id)}
                        pinned={props.pinned == Some(socket.id)}
                        on_select={props.on_select.clone()}
                    />
                }) }
            </div>
        </section>
    }
}

fn process_row(snapshot: &Snapshot, process: &ProcessView) -> Html {
    let status = call_status(snapshot, process);
    let call = match &status {
        CallStatus::Blocked { call, wait } => {
            let reason = wait.text();
            html! {
                <div class="call blocked" data-testid="call" data-blocked="true">
                    <code>{ call.clone() }</code>{ " — blocked" }
                    if !reason.is_empty() { <span class="why">{ format!(": {reason}") }</span> }
                </div>
            }
        }
        CallStatus::Woken { call, why } => html! {
            <div class="call woken" data-testid="call" data-woken="true">
                <code>{ call.clone() }</code>{ " — woken" }<span class="why">{ format!(": {why}") }</span>
            </div>
        },
        CallStatus::Running { call } => {
            html! { <div class="call running" data-testid="call"><code>{ call.clone() }</code>{ " — running" }</div> }
        }
        CallStatus::Exited => html! { <div class="call muted">{ "exited" }</div> },
        CallStatus::Returned { .. } => {
            html! { <div class="call muted" data-testid="call"><code>{ status.text() }</code></div> }
        }
        CallStatus::Starting => html! { <div class="call muted">{ "starting" }</div> },
    };
    html! {
        <div class="process" data-testid="process" data-process={process.name.clone()}>
            <div class="process-head">
                <strong>{ &process.name }</strong>
                <small class="muted">{ format!(" pid {}", process.pid) }</small>
                if let Some(parent) = process.parent { <small class="muted">{ format!(", child of {parent}") }</small> }
            </div>
            { call }
            if !process.fds.is_empty() {
                <ul class="fds" aria-label="descriptors">
                    { for process.fds.iter().map(|(fd, socket)| html! {
                        <li>{ format!("fd {fd} → #{socket}") }</li>
                    }) }
                </ul>
            }
        </div>
    }
}

#[derive(Properties, PartialEq, Clone)]
pub struct SocketCardProps {
    pub socket: SocketView,
    pub now_us: u64,
    /// The state diagram shows this socket.
    pub followed: bool,
    /// The reader pinned the state diagram to this socket.
    pub pinned: bool,
    pub on_select: Callback<SocketId>,
}

#[function_component(SocketCard)]
pub fn socket_card(props: &SocketCardProps) -> Html {
    let socket = &props.socket;
    let id = socket.id;
    let onclick = {
        let on_select = props.on_select.clone();
        Callback::from(move |_| on_select.emit(id))
    };
    let local = socket.local.map_or_else(|| "unbound".to_string(), |addr| addr.ss());
    let peer = socket.peer.map_or_else(|| "*:*".to_string(), |addr| addr.to_string());
    let proto = if socket.proto == Proto::Udp { "UDP" } else { "TCP" };
    let state_text = if socket.proto == Proto::Udp { "UDP".to_string() } else { socket.state.name().to_string() };
    let class = classes!("socket", props.followed.then_some("selected"), state_class(socket.state));
    let head_content = html! {
        <>
            <span class="socket-id">{ format!("#{id} {proto}") }</span>
            <StateBadge state={socket.state} udp={socket.proto == Proto::Udp} />
        </>
    };
    // A TCP socket's head pins it in the state diagram; a UDP socket has no TCP state to show.
    let head = if socket.proto == Proto::Udp {
        html! { <div class="socket-head">{ head_content }</div> }
    } else {
        let pin_label = if props.pinned {
            format!("#{id} TCP {state_text}, pinned in the state diagram: press to unpin")
        } else {
            format!("#{id} TCP {state_text}: press to pin it in the state diagram")
        };
        html! {
            <button class="socket-head" {onclick} aria-pressed={props.pinned.to_string()} aria-label={pin_label.clone()}
                title={pin_label} data-testid="pin-socket">{ head_content }</button>
        }
    };
    let queue_note = socket.listener.map(|listener| match socket.state {
        State::SynRecv => format!("in listener #{listener}'s SYN queue until the handshake completes"),
        _ => format!("in listener #{listener}'s accept queue until accept()"),
    });
    // What `ss -tan` counts beyond the bytes: an unacknowledged SYN or FIN, an unread FIN.
    let (ss_recv_q, ss_send_q) = socket.ss_queues();
    let send_flag = (ss_send_q > socket.send_q).then_some(if matches!(socket.state, State::SynSent | State::SynRecv) {
        "SYN"
    } else {
        "FIN"
    });
    let recv_flag = (ss_recv_q > socket.recv_q).then_some("FIN");
    html! {
        <article class={class} data-testid="socket" data-socket={id.to_string()} data-state={state_text.clone()}
            data-host={socket.host.clone()}>
            { head }
            <div class="addrs"><code>{ local }</code><span aria-hidden="true">{ " ⇄ " }</span><span class="sr-only">{ " peer " }</span><code>{ peer }</code></div>
            if let Some(note) = queue_note {
                <div class="note" data-testid="queue-note">{ note }</div>
            }
            if socket.state == State::Listen {
                <Slots label="SYN queue" testid="syn-queue" count={socket.syn_q} slots={socket.backlog + 1}
                    hint="half-open connections (SYN_RECV)" />
                <Slots label="accept queue" testid="accept-queue" count={socket.accept_q} slots={socket.backlog + 1}
                    hint="completed connections waiting for accept()" />
            } else {
                <Bar label="SendQ" counts="unacked" testid="sendq" value={u64::from(socket.send_q)} cap={u64::from(socket.send_cap)}
                    flag={send_flag}
                    hint="Bytes the program has written that the peer has not acknowledged yet, sent or not. The limit is SO_SNDBUF: send() copies while SendQ is below it, a whole buffer at a time, so SendQ can end above it. An unacknowledged SYN or FIN takes a sequence number, and ss -tan counts it as one more." />
                <Bar label="RecvQ" counts="unread" testid="recvq" value={u64::from(socket.recv_q)} cap={u64::from(socket.recv_cap)}
                    flag={recv_flag}
                    hint="Bytes received in order that the program has not read yet; the limit is SO_RCVBUF. A FIN that has arrived and not been read counts as one more in ss -tan." />
                <div class="delivered" data-testid="delivered">
                    { "Delivered " }<strong>{ format!("{} B", socket.delivered) }</strong>
                    if socket.fin_read { <span class="fin-flag" title="recv() has taken the peer's FIN: from now on it returns 0, end of file">{ " + FIN" }</span> }
                </div>
            }
            if !socket.timers.is_empty() {
                <ul class="timers">
                    { for socket.timers.iter().map(|(kind, deadline)| timer_row(*kind, *deadline, props.now_us)) }
                </ul>
            }
        </article>
    }
}

fn timer_row(kind: TimerKind, deadline_us: u64, now_us: u64) -> Html {
    let left = deadline_us.saturating_sub(now_us);
    let name = match kind {
        TimerKind::Retransmit => "retransmit",
        TimerKind::DelayedAck => "delayed_ack",
        TimerKind::Persist => "persist",
        TimerKind::Keepalive => "keepalive",
        TimerKind::TimeWait => "time_wait",
        TimerKind::FinWait2 => "fin_wait2",
        TimerKind::Linger => "linger",
        TimerKind::LossProbe => "loss_probe",
    };
    html! {
        <li class="timer" data-testid="timer" data-kind={name} data-left-us={left.to_string()}>
            <span aria-hidden="true">{ "◔ " }</span>{ kind.label() }{ ": " }
            <strong class="countdown">{ countdown(left) }</strong>{ " left" }
        </li>
    }
}

/// `59.960 s`, `40 ms`.
pub fn countdown(left_us: u64) -> String {
    if left_us >= 1_000_000 {
        format!("{}.{:03} s", left_us / 1_000_000, left_us / 1000 % 1000)
    } else {
        format!("{} ms", left_us.div_ceil(1000))
    }
}

#[derive(Properties, PartialEq, Clone)]
pub struct StateBadgeProps {
    pub state: State,
    #[prop_or_default]
    pub udp: bool,
}

/// The state as text, a shape and a colour, so that no one needs the colour to read it.
#[function_component(StateBadge)]
pub fn state_badge(props: &StateBadgeProps) -> Html {
    if props.udp {
        return html! { <span class="badge udp" data-testid="state-badge">{ "UDP" }</span> };
    }
    html! {
        <span class={classes!("badge", state_class(props.state))} data-testid="state-badge">
            <span aria-hidden="true" class="shape">{ state_shape(props.state) }</span>{ props.state.name() }
        </span>
    }
}

#[derive(Properties, PartialEq, Clone)]
pub struct BarProps {
    pub label: &'static str,
    /// What the queue counts, in a word shown under its name.
    pub counts: &'static str,
    pub testid: &'static str,
    pub value: u64,
    pub cap: u64,
    /// A sentence on what the queue counts and what its limit is.
    pub hint: &'static str,
    /// A SYN or FIN that `ss -tan` counts as one more: unacknowledged (SendQ) or unread (RecvQ).
    #[prop_or_default]
    pub flag: Option<&'static str>,
}

/// A queue's level against its limit: the bar's scale (the larger of the two), and the text.
/// SendQ can hold more than SO_SNDBUF, because Linux checks the limit only before it starts
/// a new buffer (`sk_stream_memory_free()` in `tcp_sendmsg_locked()`): the bar then fills to
/// the end and a line marks where the limit is.
#[derive(Clone, Debug, PartialEq)]
pub struct Level {
    /// Percent of the track filled.
    pub fill: f64,
    /// Where the limit is, in percent of the track, when the queue holds more.
    pub limit: Option<f64>,
    pub text: String,
    pub full: bool,
}

pub fn level(value: u64, cap: u64) -> Level {
    let scale = value.max(cap);
    // A few bytes in a large buffer still show as a sliver, so that "not empty" is visible.
    let fill = if value == 0 || scale == 0 { 0.0 } else { (value as f64 / scale as f64 * 100.0).clamp(1.5, 100.0) };
    if value > cap {
        Level {
            fill,
            limit: Some(cap as f64 / scale as f64 * 100.0),
            text: format!("{value} / {cap} B, {} over", value - cap),
            full: true,
        }
    } else {
        let full = cap > 0 && value == cap;
        Level { fill, limit: None, text: format!("{value} / {cap} B{}", if full { ", full" } else { "" }), full }
    }
}

#[function_component(Bar)]
pub fn bar(props: &BarProps) -> Html {
    let level = level(props.value, props.cap);
    let text = match props.flag {
        Some(flag) => format!("{} + {flag}", level.text),
        None => level.text.clone(),
    };
    html! {
        <div class={classes!("bar", level.full.then_some("full"))} data-testid={props.testid}
            data-value={props.value.to_string()} data-cap={props.cap.to_string()} title={props.hint}>
            <span class="bar-label">{ props.label }<small>{ props.counts }</small></span>
            <span class="bar-track" role="meter" aria-label={format!("{} ({})", props.label, props.counts)} aria-valuemin="0"
                aria-valuemax={props.value.max(props.cap).to_string()} aria-valuenow={props.value.to_string()}
                aria-valuetext={text.clone()}>
                // An SVG rectangle rather than a styled span: the page's CSP forbids inline styles.
                <svg class="bar-svg" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
                    <rect class="bar-fill" x="0" y="0" width={super::num(level.fill)} height="10" />
                    if let Some(limit) = level.limit {
                        <line class="bar-limit" x1={super::num(limit)} x2={super::num(limit)} y1="0" y2="10" />
                    }
                </svg>
            </span>
            <span class="bar-text" data-testid={format!("{}-text", props.testid)}>{ text }</span>
        </div>
    }
}

#[derive(Properties, PartialEq, Clone)]
pub struct SlotsProps {
    pub label: &'static str,
    pub testid: &'static str,
    pub count: u32,
    pub slots: u32,
    pub hint: &'static str,
}

/// A listener queue as a row of slots, one per connection it can hold (backlog + 1).
#[function_component(Slots)]
pub fn slots(props: &SlotsProps) -> Html {
    let shown = props.slots.min(16);
    html! {
        <div class="slots" data-testid={props.testid} data-count={props.count.to_string()} title={props.hint}>
            <span class="bar-label">{ props.label }</span>
            <span class="slot-row" aria-hidden="true">
                { for (0..shown).map(|slot| html! {
                    <span class={classes!("slot", (slot < props.count).then_some("taken"))}></span>
                }) }
                if props.slots > shown { <span class="muted">{ "…" }</span> }
            </span>
            <span class="bar-text">{ format!("{} of {}", props.count, props.slots) }</span>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::level;

    #[test]
    fn a_queue_over_its_limit_says_by_how_much() {
        let over = level(9490, 9216);
        assert_eq!(over.text, "9490 / 9216 B, 274 over");
        assert_eq!(over.fill, 100.0);
        let limit = over.limit.expect("a limit line");
        assert!((limit - 9216.0 / 9490.0 * 100.0).abs() < 1e-9);
        let under = level(8030, 9216);
        assert_eq!((under.text.as_str(), under.limit, under.full), ("8030 / 9216 B", None, false));
        assert!((under.fill - 8030.0 / 9216.0 * 100.0).abs() < 1e-9);
        assert_eq!(level(9216, 9216).text, "9216 / 9216 B, full");
        assert_eq!(level(0, 0).fill, 0.0);
        assert_eq!(level(3, 131_072).fill, 1.5, "a sliver");
    }
}
