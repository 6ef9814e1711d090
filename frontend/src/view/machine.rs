//! The TCP state transition diagram, laid out like RFC 793 Fig. 6 and TLPI Fig. 61-4, with the
//! followed socket's state highlighted and its last transition drawn on its edge.
//!
//! The figure is drawn for a projector as well as a screen: every edge is routed between the
//! boxes (some with corners) and every label has a place of its own, fixed in [`EDGES`], so
//! that no label covers another, a box or a line; `tests` checks this with the labels'
//! widths estimated on the generous side, and the colours' contrast against the panel in both
//! themes (WCAG AA: 4.5:1 for text, 3:1 for lines). The long sentence of the last transition
//! is written under the figure, where it wraps, not on its edge.
//!
//! The diagram only draws its own edges. Linux makes a connection's socket when the SYN
//! arrives (CLOSED → SYN_RECV), which the RFC draws as LISTEN's edge, and the diagram shows it
//! there; a reset, an abort or a timeout can end a connection from any state, which the
//! figure draws as one dashed edge into the bottom CLOSED box rather than a line from every
//! state.

use sockscope_engine::replay::Snapshot;
use sockscope_engine::state::State;
use sockscope_engine::trace::{EventKind, SocketId};
use yew::prelude::*;

use super::{state_class, state_shape};
use crate::model::Loaded;

/// The figure's size in its own units.
pub const WIDTH: f64 = 760.0;
pub const HEIGHT: f64 = 652.0;
/// Half a box's width and height.
pub const HALF_W: f64 = 66.0;
pub const HALF_H: f64 = 18.0;
/// The labels' font size in the figure's units (style.css, `.machine .edge text`).
pub const LABEL_SIZE: f64 = 15.0;

/// A box of the diagram: a state, or CLOSED drawn a second time at the bottom, where
/// connections end (as in the RFC's figure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    State(State),
    ClosedAtEnd,
}

impl Node {
    pub fn centre(self) -> (f64, f64) {
        match self {
            Node::ClosedAtEnd => (680.0, 596.0),
            Node::State(state) => match state {
                State::Closed => (380.0, 36.0),
                State::Listen => (380.0, 136.0),
                State::SynRecv => (130.0, 226.0),
                State::SynSent => (630.0, 226.0),
                State::Established => (380.0, 316.0),
                State::FinWait1 => (130.0, 406.0),
                State::CloseWait => (630.0, 406.0),
                State::Closing => (380.0, 476.0),
                State::FinWait2 => (130.0, 506.0),
                State::LastAck => (630.0, 506.0),
                State::TimeWait => (380.0, 596.0),
            },
        }
    }

    pub fn state(self) -> State {
        match self {
            Node::ClosedAtEnd => State::Closed,
            Node::State(state) => state,
        }
    }

    /// Every box, in drawing order.
    pub fn all() -> impl Iterator<Item = Node> {
        State::ALL.into_iter().map(Node::State).chain(std::iter::once(Node::ClosedAtEnd))
    }
}

/// How a label's x lines up with its text (SVG `text-anchor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn svg(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// One edge: where it starts (`None`: from any state), where it ends, its event/action label
/// and where that sits (the text's anchor point on its baseline), and its line's corners from
/// the first box's border to the second's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    pub from: Option<Node>,
    pub to: Node,
    pub label: &'static str,
    pub label_at: (f64, f64),
    pub anchor: Anchor,
    pub path: &'static [(f64, f64)],
}

const fn edge(
    from: State,
    to: Node,
    label: &'static str,
    label_at: (f64, f64),
    anchor: Anchor,
    path: &'static [(f64, f64)],
) -> Edge {
    Edge { from: Some(Node::State(from)), to, label, label_at, anchor, path }
}

use Anchor::{End, Middle, Start};
use Node::ClosedAtEnd;

const fn to(state: State) -> Node {
    Node::State(state)
}

/// The transitions of RFC 793 Fig. 6 that Linux takes, with the figure's event/action
/// labels, plus the ends Linux adds (a SYN_SENT socket's RST or timeout; any state's reset).
pub const EDGES: &[Edge] = &[
    edge(State::Closed, to(State::Listen), "passive open", (356.0, 92.0), End, &[(364.0, 54.0), (364.0, 118.0)]),
    edge(State::Listen, to(State::Closed), "close", (404.0, 92.0), Start, &[(396.0, 118.0), (396.0, 54.0)]),
    edge(
        State::Closed,
        to(State::SynSent),
        "active open / SYN",
        (604.0, 70.0),
        End,
        &[(446.0, 46.0), (614.0, 46.0), (614.0, 208.0)],
    ),
    edge(
        State::SynSent,
        to(State::Closed),
        "RST, timeout, close",
        (456.0, 18.0),
        Start,
        &[(646.0, 208.0), (646.0, 26.0), (446.0, 26.0)],
    ),
    edge(
        State::Listen,
        to(State::SynRecv),
        "rcv SYN / SYN,ACK",
        (140.0, 128.0),
        Start,
        &[(314.0, 136.0), (130.0, 136.0), (130.0, 208.0)],
    ),
    edge(
        State::SynSent,
        to(State::SynRecv),
        "rcv SYN / SYN,ACK",
        (380.0, 218.0),
        Middle,
        &[(564.0, 226.0), (196.0, 226.0)],
    ),
    edge(
        State::SynSent,
        to(State::Established),
        "rcv SYN,ACK / ACK",
        (560.0, 290.0),
        Start,
        &[(600.0, 244.0), (446.0, 308.0)],
    ),
    edge(State::SynRecv, to(State::Established), "rcv ACK", (200.0, 290.0), End, &[(160.0, 244.0), (314.0, 308.0)]),
    edge(
        State::SynRecv,
        to(State::FinWait1),
        "close / FIN",
        (48.0, 320.0),
        Start,
        &[(64.0, 226.0), (40.0, 226.0), (40.0, 406.0), (64.0, 406.0)],
    ),
    edge(
        State::Established,
        to(State::FinWait1),
        "close / FIN",
        (236.0, 350.0),
        End,
        &[(314.0, 326.0), (180.0, 388.0)],
    ),
    edge(
        State::Established,
        to(State::CloseWait),
        "rcv FIN / ACK",
        (522.0, 350.0),
        Start,
        &[(446.0, 326.0), (580.0, 388.0)],
    ),
    edge(State::FinWait1, to(State::FinWait2), "rcv ACK", (122.0, 460.0), End, &[(130.0, 424.0), (130.0, 488.0)]),
    edge(
        State::FinWait1,
        to(State::Closing),
        "rcv FIN / ACK",
        (252.0, 426.0),
        Start,
        &[(196.0, 416.0), (314.0, 466.0)],
    ),
    edge(
        State::FinWait2,
        to(State::TimeWait),
        "rcv FIN / ACK",
        (142.0, 588.0),
        Start,
        &[(130.0, 524.0), (130.0, 596.0), (314.0, 596.0)],
    ),
    edge(State::Closing, to(State::TimeWait), "rcv ACK", (388.0, 540.0), Start, &[(380.0, 494.0), (380.0, 578.0)]),
    edge(State::CloseWait, to(State::LastAck), "close / FIN", (638.0, 460.0), Start, &[(630.0, 424.0), (630.0, 488.0)]),
    edge(State::LastAck, ClosedAtEnd, "rcv ACK", (638.0, 556.0), Start, &[(630.0, 524.0), (630.0, 578.0)]),
    edge(State::TimeWait, ClosedAtEnd, "2MSL timeout", (530.0, 588.0), Middle, &[(446.0, 596.0), (614.0, 596.0)]),
    Edge {
        from: None,
        to: ClosedAtEnd,
        label: "RST, abort or timeout (any state)",
        label_at: (552.0, 641.0),
        anchor: End,
        path: &[(560.0, 636.0), (660.0, 636.0), (660.0, 614.0)],
    },
];

/// The edge a transition is drawn on, if the diagram has one: its own; LISTEN's edge for a
/// connection the listener made (Linux creates it in SYN_RECV); the edge from any state for
/// any other end in CLOSED.
pub fn edge_for(from: State, to: State) -> Option<&'static Edge> {
    let target = |edge: &Edge| match to {
        State::Closed => edge.to.state() == State::Closed,
        state => edge.to == Node::State(state),
    };
    let from = if (from, to) == (State::Closed, State::SynRecv) { State::Listen } else { from };
    EDGES
        .iter()
        .find(|edge| edge.from == Some(Node::State(from)) && target(edge))
        .or_else(|| (to == State::Closed).then(|| EDGES.iter().find(|edge| edge.from.is_none())).flatten())
}

/// What the diagram says about a transition it draws on another edge, or does not draw.
fn edge_note(from: State, to: State) -> Option<&'static str> {
    match edge_for(from, to) {
        None => Some("not an edge of this diagram"),
        Some(edge) if edge.from.is_none() => Some("a reset, an abort or a timeout can end a connection in any state"),
        Some(_) if (from, to) == (State::Closed, State::SynRecv) => {
            Some("the listener made this socket for the SYN: the RFC draws it as LISTEN's edge")
        }
        Some(_) => None,
    }
}

/// The socket the state diagram shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Followed {
    pub id: SocketId,
    /// Its host and addresses.
    pub describe: String,
    /// Its state; `None` once freed without reaching CLOSED (its host crashed).
    pub state: Option<State>,
    /// Whether it still exists.
    pub alive: bool,
    /// Its last transition (from, to, cause) and the event of it.
    pub change: Option<(State, State, String)>,
    pub change_event: Option<usize>,
    /// Whether the reader pinned it.
    pub pinned: bool,
}

impl Followed {
    /// The box highlighted: the state's, and for CLOSED the box the last edge ends in.
    pub fn current_node(&self) -> Option<Node> {
        let state = self.state?;
        let arrived = self.change.as_ref().and_then(|(from, to, _)| edge_for(*from, *to)).map(|edge| edge.to);
        Some(match (state, arrived) {
            (State::Closed, Some(Node::ClosedAtEnd)) => Node::ClosedAtEnd,
            (state, _) => Node::State(state),
        })
    }

    /// One sentence on which socket this is and where it is.
    pub fn caption(&self) -> String {
        let who = format!("socket #{} ({})", self.id, self.describe);
        match (self.pinned, self.alive, self.state) {
            (true, true, Some(state)) => format!("Pinned: {who} is in {}.", state.name()),
            (false, true, Some(state)) => format!("Following {who}, which this step is about: {}.", state.name()),
            (_, false, Some(_)) => {
                format!("{} ended in CLOSED and was freed.", sockscope_engine::format::capitalized(&who))
            }
            (_, _, None) => format!(
                "{} no longer exists: it vanished in {} without a transition, as sockets do when their host goes \
                 down.",
                sockscope_engine::format::capitalized(&who),
                self.change.as_ref().map_or("CLOSED", |(_, to, _)| to.name())
            ),
        }
    }
}

/// The socket the state diagram shows after `cursor` events: `pinned` if the reader pinned
/// one, else the one the step on screen is about (see [`Loaded::followed`]).
pub fn followed_socket(
    loaded: &Loaded,
    snapshot: &Snapshot,
    cursor: usize,
    pinned: Option<SocketId>,
) -> Option<Followed> {
    let id = pinned.or_else(|| loaded.followed(cursor, snapshot))?;
    let changes = &loaded.timing.changes;
    let applied = changes.partition_point(|&change| change < cursor);
    let last_change = changes[..applied]
        .iter()
        .rev()
        .find(|&&index| matches!(&loaded.trace.events[index].kind, EventKind::State { socket, .. } if *socket == id))
        .copied();
    let last = last_change.and_then(|index| match &loaded.trace.events[index].kind {
        EventKind::State { from, to, cause, host, local, peer, .. } => {
            Some((*from, *to, cause.clone(), host.clone(), *local, *peer))
        }
        _ => None,
    });
    let view = snapshot.sockets.get(&id);
    let arrow =
        |peer: Option<sockscope_engine::addr::SockAddr>| peer.map_or_else(String::new, |peer| format!(" → {peer}"));
    let describe = match (&last, view) {
        (_, Some(socket)) => format!(
            "{}, {}{}",
            socket.host,
            socket.local.map_or_else(|| "unbound".to_string(), |addr| addr.ss()),
            arrow(socket.peer)
        ),
        (Some((_, _, _, host, local, peer)), None) => format!("{host}, {}{}", local.ss(), arrow(*peer)),
        (None, None) => "never connected".to_string(),
    };
    // A freed socket is in CLOSED if it got there, or never left it; one freed in another
    // state vanished with its host.
    let state = match (view, &last) {
        (Some(socket), _) => Some(socket.state),
        (None, Some((_, State::Closed, ..)) | None) => Some(State::Closed),
        (None, Some(_)) => None,
    };
    Some(Followed {
        id,
        describe,
        state,
        alive: view.is_some(),
        change: last.map(|(from, to, cause, ..)| (from, to, cause)),
        change_event: last_change,
        pinned: pinned.is_some(),
    })
}

#[derive(Properties, PartialEq, Clone)]
pub struct MachineProps {
    pub followed: Option<Followed>,
    /// Unpins the diagram, so that it follows each step's socket again.
    pub on_unpin: Callback<MouseEvent>,
}

fn points(path: &[(f64, f64)]) -> String {
    path.iter().map(|(x, y)| format!("{},{}", f(*x), f(*y))).collect::<Vec<_>>().join(" ")
}

fn edge_view(edge: &Edge, taken: bool, key: String) -> Html {
    let (x, y) = edge.label_at;
    let class = classes!("edge", taken.then_some("taken"), edge.from.is_none().then_some("any"));
    let head = if taken { "url(#machine-head-taken)" } else { "url(#machine-head)" };
    html! {
        <g {class} {key} data-testid={if taken { "taken-edge" } else { "edge" }}>
            <polyline points={points(edge.path)} marker-end={head} />
            <text x={f(x)} y={f(y)} text-anchor={edge.anchor.svg()}>{ edge.label }</text>
        </g>
    }
}

#[function_component(StateMachine)]
pub fn state_machine(props: &MachineProps) -> Html {
    let followed = props.followed.as_ref();
    let current = followed.and_then(Followed::current_node);
    let taken = followed.and_then(|followed| followed.change.as_ref()).and_then(|(from, to, _)| edge_for(*from, *to));
    let edges: Html = EDGES
        .iter()
        .enumerate()
        .filter(|(_, edge)| Some(*edge) != taken)
        .map(|(index, edge)| edge_view(edge, false, index.to_string()))
        .collect();
    // Drawn last, over the others; keyed by its event so that its animation restarts.
    let change_event = followed.and_then(|followed| followed.change_event).unwrap_or(0);
    let taken_view = taken.map_or_else(Html::default, |edge| edge_view(edge, true, format!("taken-{change_event}")));
    let boxes: Html = Node::all()
        .map(|node| {
            let (x, y) = node.centre();
            let state = node.state();
            let is_current = current == Some(node);
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
    let caption = followed.map_or_else(
        || "No TCP socket yet: the diagram shows the states a socket can pass through.".to_string(),
        Followed::caption,
    );
    let transition = followed.and_then(|followed| followed.change.as_ref()).map(|(from, to, cause)| {
        let note = edge_note(*from, *to).map_or_else(String::new, |note| format!(" ({note})"));
        format!("Last change: {} → {}: {cause}{note}.", from.name(), to.name())
    });
    let pinned = followed.is_some_and(|followed| followed.pinned);
    let pin_status = match followed {
        Some(followed) if followed.pinned => format!("The state diagram is pinned to socket #{}.", followed.id),
        _ => "The state diagram follows the socket each step is about.".to_string(),
    };
    html! {
        <figure class="machine" data-testid="state-diagram" data-socket={followed.map(|followed| followed.id.to_string())}
            data-pinned={pinned.to_string()}>
            <svg viewBox={format!("0 0 {} {}", f(WIDTH), f(HEIGHT))} role="img" aria-label={format!("TCP state diagram. {caption}")}>
                <defs>
                    <marker id="machine-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M0,0 L10,5 L0,10 z" class="machine-arrow" />
                    </marker>
                    <marker id="machine-head-taken" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse">
                        <path d="M0,0 L10,5 L0,10 z" class="machine-arrow-taken" />
                    </marker>
                </defs>
                { edges }
                { boxes }
                { taken_view }
            </svg>
            <figcaption>
                <p class="machine-caption" data-testid="machine-caption">{ caption }</p>
                if let Some(transition) = transition {
                    <p class="machine-transition" data-testid="last-transition">{ transition }</p>
                }
                <p class="machine-pin">
                    if pinned {
                        <button class="small" onclick={props.on_unpin.clone()} data-testid="unpin">
                            { "Unpin: follow each step's socket" }
                        </button>
                    } else {
                        { "Click a socket's number (#) on its card to pin it here." }
                    }
                </p>
                <p class="sr-only" aria-live="polite" data-testid="pin-status">{ pin_status }</p>
            </figcaption>
        </figure>
    }
}

/// WCAG 2.1's contrast ratio of two sRGB colours (8 bits a channel); the tests hold the
/// diagram's colours to AA with it.
pub fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let luminance = |(r, g, b): (u8, u8, u8)| {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    };
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

fn f(value: f64) -> String {
    super::num(value)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A rectangle: left, top, right, bottom.
    type Rect = (f64, f64, f64, f64);

    /// The labels' letters are estimated at 0.66 of the font size, wider than DejaVu Sans
    /// Bold's average (about 0.63), so that the bold label of the transition taken fits too.
    const CHAR_WIDTH: f64 = 0.66 * LABEL_SIZE;

    fn label_rect(edge: &Edge) -> Rect {
        let width = edge.label.chars().count() as f64 * CHAR_WIDTH;
        let (x, y) = edge.label_at;
        let left = match edge.anchor {
            Anchor::Start => x,
            Anchor::Middle => x - width / 2.0,
            Anchor::End => x - width,
        };
        // From the ascenders (0.8 of the size above the baseline) to the descenders (0.25
        // below it).
        (left, y - 0.8 * LABEL_SIZE, left + width, y + 0.25 * LABEL_SIZE)
    }

    fn box_rect(node: Node) -> Rect {
        let (x, y) = node.centre();
        (x - HALF_W, y - HALF_H, x + HALF_W, y + HALF_H)
    }

    fn overlap(a: Rect, b: Rect) -> bool {
        a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
    }

    fn grow(rect: Rect, by: f64) -> Rect {
        (rect.0 - by, rect.1 - by, rect.2 + by, rect.3 + by)
    }

    /// Whether the segment from `a` to `b` passes through the inside of `rect`.
    fn crosses(a: (f64, f64), b: (f64, f64), rect: Rect) -> bool {
        (0..=200).any(|step| {
            let t = f64::from(step) / 200.0;
            let (x, y) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            x > rect.0 && x < rect.2 && y > rect.1 && y < rect.3
        })
    }

    fn segments(edge: &Edge) -> impl Iterator<Item = ((f64, f64), (f64, f64))> + '_ {
        edge.path.windows(2).map(|pair| (pair[0], pair[1]))
    }

    #[test]
    fn no_label_overlaps_another_label_a_box_or_a_line() {
        let mut problems = Vec::new();
        for (index, edge) in EDGES.iter().enumerate() {
            let label = label_rect(edge);
            if label.0 < 2.0 || label.1 < 2.0 || label.2 > WIDTH - 2.0 || label.3 > HEIGHT - 2.0 {
                problems.push(format!("“{}” leaves the figure: {label:?}", edge.label));
            }
            for other in &EDGES[index + 1..] {
                if overlap(grow(label, 2.0), label_rect(other)) {
                    problems.push(format!("“{}” overlaps “{}”", edge.label, other.label));
                }
            }
            for node in Node::all() {
                if overlap(grow(label, 2.0), box_rect(node)) {
                    problems.push(format!("“{}” overlaps the box {node:?}", edge.label));
                }
            }
            for (other_index, other) in EDGES.iter().enumerate() {
                for (a, b) in segments(other) {
                    if crosses(a, b, grow(label, 3.0)) {
                        problems.push(format!(
                            "“{}” (edge {index}) lies on the line of “{}” (edge {other_index}), {a:?} to {b:?}: {label:?}",
                            edge.label, other.label
                        ));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn edges_run_between_their_own_boxes_and_cross_no_other() {
        let mut problems = Vec::new();
        for edge in EDGES {
            let (first, last) = (edge.path[0], edge.path[edge.path.len() - 1]);
            let on_border = |node: Node, (x, y): (f64, f64)| {
                let (left, top, right, bottom) = box_rect(node);
                let inside = (left - 0.5..=right + 0.5).contains(&x) && (top - 0.5..=bottom + 0.5).contains(&y);
                inside
                    && ((x - left).abs() < 0.5
                        || (x - right).abs() < 0.5
                        || (y - top).abs() < 0.5
                        || (y - bottom).abs() < 0.5)
            };
            if let Some(from) = edge.from {
                if !on_border(from, first) {
                    problems.push(format!("“{}” does not start on {from:?}'s border", edge.label));
                }
            }
            if !on_border(edge.to, last) {
                problems.push(format!("“{}” does not end on {:?}'s border", edge.label, edge.to));
            }
            for node in Node::all() {
                for (a, b) in segments(edge) {
                    if crosses(a, b, grow(box_rect(node), -1.0)) {
                        problems.push(format!("“{}” crosses the box {node:?}", edge.label));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// Whether two segments cross at a point inside both (touching ends do not count).
    fn segments_cross(a: ((f64, f64), (f64, f64)), b: ((f64, f64), (f64, f64))) -> bool {
        let side = |p: (f64, f64), q: (f64, f64), r: (f64, f64)| (q.0 - p.0) * (r.1 - p.1) - (q.1 - p.1) * (r.0 - p.0);
        let (d1, d2) = (side(b.0, b.1, a.0), side(b.0, b.1, a.1));
        let (d3, d4) = (side(a.0, a.1, b.0), side(a.0, a.1, b.1));
        d1 * d2 < 0.0 && d3 * d4 < 0.0
    }

    #[test]
    fn no_two_edges_cross() {
        let mut problems = Vec::new();
        for (index, edge) in EDGES.iter().enumerate() {
            for other in &EDGES[index + 1..] {
                if segments(edge).any(|a| segments(other).any(|b| segments_cross(a, b))) {
                    problems.push(format!("“{}” crosses “{}”", edge.label, other.label));
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn boxes_leave_room_between_them_and_stay_inside() {
        let nodes: Vec<Node> = Node::all().collect();
        for (index, node) in nodes.iter().enumerate() {
            let rect = box_rect(*node);
            assert!(rect.0 >= 0.0 && rect.1 >= 0.0 && rect.2 <= WIDTH && rect.3 <= HEIGHT, "{node:?}");
            for other in &nodes[index + 1..] {
                assert!(!overlap(grow(rect, 10.0), box_rect(*other)), "{node:?} and {other:?}");
            }
        }
    }

    #[test]
    fn transitions_map_to_the_edges_they_are_drawn_on() {
        let cases = [
            (State::Closed, State::SynRecv, Some((Some(Node::State(State::Listen)), Node::State(State::SynRecv)))),
            (
                State::SynSent,
                State::Established,
                Some((Some(Node::State(State::SynSent)), Node::State(State::Established))),
            ),
            (State::Listen, State::Closed, Some((Some(Node::State(State::Listen)), Node::State(State::Closed)))),
            (State::LastAck, State::Closed, Some((Some(Node::State(State::LastAck)), Node::ClosedAtEnd))),
            (State::Established, State::Closed, Some((None, Node::ClosedAtEnd))),
            (State::FinWait2, State::Closed, Some((None, Node::ClosedAtEnd))),
            (State::FinWait1, State::TimeWait, None),
        ];
        for (from, to, expected) in cases {
            assert_eq!(edge_for(from, to).map(|edge| (edge.from, edge.to)), expected, "{from:?} → {to:?}");
        }
    }

    // ===== Colours: WCAG AA contrast against the panel, in both themes =====

    /// The page's stylesheet, as the build ships it.
    const STYLE: &str = include_str!("../../../static/style.css");

    /// The custom properties the stylesheet sets for the light theme, and for the dark theme
    /// (the light ones, overridden inside `@media (prefers-color-scheme: dark)`).
    fn themes() -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let mut css = STYLE.to_string();
        while let Some(start) = css.find("/*") {
            let end = css[start..].find("*/").map_or(css.len(), |end| start + end + 2);
            css.replace_range(start..end, "");
        }
        let (mut light, mut dark) = (BTreeMap::new(), BTreeMap::new());
        let (mut depth, mut dark_from) = (0usize, None);
        let mut text = String::new();
        for ch in css.chars() {
            match ch {
                '{' => {
                    if text.contains("prefers-color-scheme: dark") {
                        dark_from = Some(depth);
                    }
                    depth += 1;
                    text.clear();
                }
                ';' | '}' => {
                    if let Some((name, value)) = text.trim().split_once(':') {
                        if name.starts_with("--") {
                            let theme = if dark_from.is_some() { &mut dark } else { &mut light };
                            theme.insert(name.trim().to_string(), value.trim().to_string());
                        }
                    }
                    text.clear();
                    if ch == '}' {
                        depth = depth.saturating_sub(1);
                        if dark_from == Some(depth) {
                            dark_from = None;
                        }
                    }
                }
                _ => text.push(ch),
            }
        }
        let dark = light.clone().into_iter().chain(dark).collect();
        (light, dark)
    }

    /// A colour's value, through `var(--other)` references, as (r, g, b).
    fn colour(theme: &BTreeMap<String, String>, name: &str) -> (u8, u8, u8) {
        let mut value = theme.get(name).unwrap_or_else(|| panic!("style.css does not set {name}")).clone();
        while let Some(inner) = value.strip_prefix("var(").and_then(|rest| rest.strip_suffix(')')) {
            value = theme.get(inner.trim()).unwrap_or_else(|| panic!("style.css does not set {inner}")).clone();
        }
        let hex = value.strip_prefix('#').unwrap_or_else(|| panic!("{name} is `{value}`, not #rrggbb"));
        let channel = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).expect("hex digits");
        assert_eq!(hex.len(), 6, "{name} is `{value}`, not #rrggbb");
        (channel(0), channel(2), channel(4))
    }

    /// The declarations of the rule whose selector is exactly `selector`.
    fn rule(selector: &str) -> &'static str {
        let start =
            STYLE.find(&format!("\n{selector} {{")).unwrap_or_else(|| panic!("style.css has no rule `{selector}`"));
        let body = &STYLE[start..];
        &body[body.find('{').expect("a rule")..body.find('}').expect("a rule")]
    }

    #[test]
    fn the_diagram_s_colours_have_aa_contrast_in_both_themes() {
        // Text needs 4.5:1 and lines and shapes 3:1 (WCAG 2.1, 1.4.3 and 1.4.11).
        let text = ["--machine-label", "--machine-taken", "--fg"];
        let lines = [
            "--machine-edge",
            "--machine-taken",
            "--st-closed",
            "--st-listen",
            "--st-opening",
            "--st-established",
            "--st-active",
            "--st-passive",
            "--st-timewait",
        ];
        let (light, dark) = themes();
        let mut problems = Vec::new();
        for (theme_name, theme) in [("light", &light), ("dark", &dark)] {
            let panel = colour(theme, "--panel");
            for (names, least) in [(&text[..], 4.5), (&lines[..], 3.0)] {
                for name in names {
                    let ratio = contrast(colour(theme, name), panel);
                    if ratio < least {
                        problems.push(format!("{theme_name}: {name} on --panel is {ratio:.2}:1, under {least}:1"));
                    }
                }
            }
            // The current state's name is written on --track.
            let ratio = contrast(colour(theme, "--fg"), colour(theme, "--track"));
            if ratio < 4.5 {
                problems.push(format!("{theme_name}: --fg on --track is {ratio:.2}:1"));
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
        // And the diagram draws with those colours, at the label size the layout assumes.
        assert!(rule(".machine .edge polyline").contains("stroke: var(--machine-edge)"));
        assert!(rule(".machine .machine-arrow").contains("fill: var(--machine-edge)"));
        assert!(rule(".machine .box rect").contains("stroke: var(--machine-edge)"));
        assert!(rule(".machine .edge text").contains("fill: var(--machine-label)"));
        assert!(rule(".machine .edge text").contains(&format!("font-size: {}px", LABEL_SIZE)));
        assert!(rule(".machine .edge.taken polyline").contains("stroke: var(--machine-taken)"));
        assert!(rule(".machine .edge.taken text").contains("fill: var(--machine-taken)"));
    }

    #[test]
    fn the_contrast_ratio_matches_wcag_s_examples() {
        assert!((contrast((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 1e-9);
        assert!((contrast((0xd5, 0xd8, 0xdc), (255, 255, 255)) - 1.43).abs() < 0.01, "the issue's edge colour");
        assert!((contrast((0x76, 0x76, 0x76), (255, 255, 255)) - 4.54).abs() < 0.01);
    }
}
