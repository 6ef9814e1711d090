//! The TCP state transition diagram, laid out like RFC 793 Fig. 6 and TLPI Fig. 61-4, with
//! the followed socket's state highlighted and its last transition drawn and labelled.

use sockscope_engine::replay::Snapshot;
use sockscope_engine::state::State;
use sockscope_engine::trace::{EventKind, SocketId};
use yew::prelude::*;

use super::{state_class, state_shape};
use crate::model::Loaded;

/// Box centres, in the figure's coordinates (640 x 560).
fn place(state: State, closed_at_bottom: bool) -> (f64, f64) {
    match state {
        State::Closed if closed_at_bottom => (520.0, 520.0),
        State::Closed => (320.0, 30.0),
        State::Listen => (320.0, 110.0),
        State::SynRecv => (130.0, 190.0),
        State::SynSent => (510.0, 190.0),
        State::Established => (320.0, 270.0),
        State::FinWait1 => (130.0, 350.0),
        State::CloseWait => (510.0, 350.0),
        State::FinWait2 => (130.0, 440.0),
        State::Closing => (320.0, 400.0),
        State::LastAck => (510.0, 440.0),
        State::TimeWait => (320.0, 520.0),
    }
}

/// Whether a transition into CLOSED ends a connection (drawn to the bottom CLOSED box, as in
/// the RFC's figure) rather than leaving LISTEN or SYN_SENT.
fn ends_connection(from: State) -> bool {
    !matches!(from, State::Listen | State::SynSent | State::Closed)
}

/// The transitions of RFC 793 Fig. 6 that Linux takes, with the figure's event/action labels.
const EDGES: &[(State, State, &str)] = &[
    (State::Closed, State::Listen, "passive open"),
    (State::Closed, State::SynSent, "active open / SYN"),
    (State::Listen, State::SynRecv, "rcv SYN / SYN,ACK"),
    (State::SynSent, State::SynRecv, "rcv SYN / ACK"),
    (State::SynSent, State::Established, "rcv SYN,ACK / ACK"),
    (State::SynRecv, State::Established, "rcv ACK"),
    (State::Established, State::FinWait1, "close / FIN"),
    (State::Established, State::CloseWait, "rcv FIN / ACK"),
    (State::FinWait1, State::FinWait2, "rcv ACK"),
    (State::FinWait1, State::Closing, "rcv FIN / ACK"),
    (State::FinWait2, State::TimeWait, "rcv FIN / ACK"),
    (State::Closing, State::TimeWait, "rcv ACK"),
    (State::CloseWait, State::LastAck, "close / FIN"),
    (State::LastAck, State::Closed, "rcv ACK"),
    (State::TimeWait, State::Closed, "2MSL timeout"),
];

/// The socket the diagram follows: id, a description, its state and its last change
/// (from, to, cause).
pub type FollowedSocket = (SocketId, String, State, Option<(State, State, String)>);

/// The socket the state diagram follows after `cursor` events, and the index of the event of
/// its last change: the `selected` socket, or else the last socket whose state changed.
pub fn followed_socket(
    loaded: &Loaded,
    snapshot: &Snapshot,
    cursor: usize,
    selected: Option<SocketId>,
) -> (Option<FollowedSocket>, Option<usize>) {
    let changes = &loaded.timing.changes;
    let applied = changes.partition_point(|&change| change < cursor);
    let socket_of = |index: usize| match &loaded.trace.events[index].kind {
        EventKind::State { socket, .. } => Some(*socket),
        _ => None,
    };
    let Some(id) = selected.or_else(|| applied.checked_sub(1).and_then(|last| socket_of(changes[last]))) else {
        return (None, None);
    };
    let last_change = changes[..applied].iter().rev().find(|&&index| socket_of(index) == Some(id)).copied();
    let last = last_change.and_then(|index| match &loaded.trace.events[index].kind {
        EventKind::State { from, to, cause, host, local, peer, .. } => {
            Some((*from, *to, cause.clone(), host.clone(), *local, *peer))
        }
        _ => None,
    });
    let view = snapshot.sockets.get(&id);
    let state = view.map(|socket| socket.state).or(last.as_ref().map(|last| last.1)).unwrap_or(State::Closed);
    let describe = match (&last, view) {
        (_, Some(socket)) => format!(
            "{}, {}{}",
            socket.host,
            socket.local.map_or_else(|| "unbound".to_string(), |addr| addr.ss()),
            socket.peer.map_or_else(String::new, |peer| format!(" → {peer}"))
        ),
        (Some((_, _, _, host, local, peer)), None) => {
            format!("{host}, {}{}, now freed", local.ss(), peer.map_or_else(String::new, |peer| format!(" → {peer}")))
        }
        (None, None) => "not created yet".to_string(),
    };
    let change = last.map(|(from, to, cause, ..)| (from, to, cause));
    (Some((id, describe, state, change)), last_change)
}

#[derive(Properties, PartialEq, Clone)]
pub struct MachineProps {
    /// The followed socket: its id, current state and last change (from, to, cause).
    pub socket: Option<FollowedSocket>,
    /// Bumped on every new transition so that its animation restarts.
    pub change_event: Option<usize>,
}

const HALF_W: f64 = 62.0;
const HALF_H: f64 = 16.0;

/// The point where the line from `a` to `b` leaves the box around `a`.
fn border(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let scale = (HALF_W / dx.abs().max(1e-9)).min(HALF_H / dy.abs().max(1e-9)).min(1.0);
    (a.0 + dx * scale, a.1 + dy * scale)
}

fn edge_line(from: (f64, f64), to: (f64, f64)) -> ((f64, f64), (f64, f64)) {
    (border(from, to), border(to, from))
}

#[function_component(StateMachine)]
pub fn state_machine(props: &MachineProps) -> Html {
    let (current, last) = match &props.socket {
        Some((_, _, state, last)) => (Some(*state), last.clone()),
        None => (None, None),
    };
    let closed_at_bottom = matches!(&last, Some((from, State::Closed, _)) if ends_connection(*from));
    let highlighted = last.as_ref().map(|(from, to, _)| (*from, *to));
    let edges: Html = EDGES
        .iter()
        .filter(|(from, to, _)| highlighted != Some((*from, *to)))
        .map(|(from, to, label)| {
            let (a, b) = edge_line(place(*from, false), place(*to, *to == State::Closed && ends_connection(*from)));
            let (lx, ly) = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
            html! {
                <g class="edge">
                    <line x1={f(a.0)} y1={f(a.1)} x2={f(b.0)} y2={f(b.1)} marker-end="url(#machine-head)" />
                    <text x={f(lx)} y={f(ly - 3.0)} text-anchor="middle">{ *label }</text>
                </g>
            }
        })
        .collect();
    let transition = match &last {
        Some((from, to, cause)) => {
            let start = place(*from, false);
            let end = place(*to, *to == State::Closed && ends_connection(*from));
            let (a, b) = if from == to { (start, (start.0 + 1.0, start.1 - 40.0)) } else { edge_line(start, end) };
            let (lx, ly) = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
            let text = shorten(&format!("{} → {}: {}", from.name(), to.name(), cause), 70);
            // The label is long: keep it inside the figure, whichever edge it belongs to. Its
            // bold 12 px letters with their halo (`.edge.taken text` in style.css) measured
            // about 7.3 units each in Chromium, so half the label is taken as 3.75 units a
            // character: a 70-character label is centred between 267 and 373.
            let half = (text.chars().count() as f64 * 3.75).min(316.0);
            // max then min, not clamp(): clamp checks its bounds and its panic message would bring
            // float formatting into the page (the bounds never cross: half is at most 316).
            let lx = lx.max(half + 4.0).min(640.0 - half - 4.0);
            html! {
                <g class="edge taken" data-testid="last-transition" key={props.change_event.unwrap_or(0).to_string()}>
                    <line x1={f(a.0)} y1={f(a.1)} x2={f(b.0)} y2={f(b.1)} marker-end="url(#machine-head-taken)" />
                    <text class="taken-label" x={f(lx)} y={f(ly - 6.0)} text-anchor="middle">{ text }</text>
                </g>
            }
        }
        None => html! {},
    };
    let boxes: Html = State::ALL
        .iter()
        .map(|state| (*state, false))
        .chain(std::iter::once((State::Closed, true)))
        .map(|(state, bottom)| {
            let (x, y) = place(state, bottom);
            let is_current = current == Some(state) && (state != State::Closed || bottom == closed_at_bottom);
            let class = classes!("box", state_class(state), is_current.then_some("current"));
            html! {
                <g class={class} data-testid={if is_current { "current-state" } else { "state-box" }} data-state={state.name()}>
                    <rect x={f(x - HALF_W)} y={f(y - HALF_H)} width={f(HALF_W * 2.0)} height={f(HALF_H * 2.0)} rx="6" />
                    <text x={f(x)} y={f(y + 5.0)} text-anchor="middle">
                        if is_current { { format!("{} ", state_shape(state)) } }
                        { state.name() }
                    </text>
                </g>
            }
        })
        .collect();
    let caption = match &props.socket {
        Some((id, describe, state, _)) => format!("Socket #{id} ({describe}) is in {}.", state.name()),
        None => "No TCP socket yet: the diagram shows the states a socket can pass through.".to_string(),
    };
    html! {
        <figure class="machine" data-testid="state-diagram">
            <svg viewBox="0 0 640 560" role="img" aria-label={format!("TCP state diagram. {caption}")}>
                <defs>
                    <marker id="machine-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                        <path d="M0,0 L10,5 L0,10 z" class="machine-arrow" />
                    </marker>
                    <marker id="machine-head-taken" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                        <path d="M0,0 L10,5 L0,10 z" class="machine-arrow-taken" />
                    </marker>
                </defs>
                { edges }
                { boxes }
                { transition }
            </svg>
            <figcaption>{ caption }</figcaption>
        </figure>
    }
}

fn f(value: f64) -> String {
    super::num(value)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(max - 1).collect();
        short.push('…');
        short
    }
}
