//! The sequence diagram between the hosts, time running downwards as in the books' figures
//! (TLPI Fig. 61-5, UNP Fig. 2.5).
//!
//! The vertical axis is the display clock of [`crate::pace`], so a segment's arrow goes from
//! its send to its arrival with the slope that the moving segment follows while playing. Only
//! the items near the cursor are drawn, which keeps a 100,000-event trace as cheap to show as
//! a handshake.

use sockscope_engine::format::Numbering;
use yew::prelude::*;

use super::num;
use crate::model::{ArrowKind, Shared};

/// Pixels per second of display time.
const PX_PER_SEC: f64 = 30.0;
/// The band at the top that stays in place: the lanes' names, and under them the time of the
/// dashed "now" line. The time sits there rather than on the line, where the moving segments
/// and the newest state marks are.
const BAND: f64 = 40.0;
/// Where display time 0 is drawn.
const TOP: f64 = BAND + 8.0;
/// An arrow's label is kept this far below the band and above the bottom edge.
const LABEL_MARGIN: f64 = 14.0;

#[derive(Properties, PartialEq, Clone)]
pub struct SequenceProps {
    pub loaded: Shared,
    pub cursor: usize,
    /// The display clock; equal to the cursor's position when paused.
    pub position: f64,
    /// Simulated time at the display clock, µs.
    pub sim_us: f64,
    pub narrow: bool,
    pub height: f64,
    /// How the arrows' labels number segments, as the tcpdump pane does.
    pub numbering: Numbering,
    /// The `sent` events of arrows to mark as differing from another run (the studio's
    /// what-if forks), sorted.
    #[prop_or_default]
    pub differs: Option<std::rc::Rc<Vec<usize>>>,
}

#[function_component(SequenceDiagram)]
pub fn sequence_diagram(props: &SequenceProps) -> Html {
    let loaded = &props.loaded;
    let pace = &loaded.timing.pace;
    let width = if props.narrow { 380.0 } else { 640.0 };
    let height = props.height;
    let lanes = loaded.hosts.len().max(1);
    let margin = if props.narrow { 70.0 } else { 120.0 };
    let lane_x = |lane: usize| {
        if lanes == 1 {
            width / 2.0
        } else {
            margin + lane as f64 * (width - 2.0 * margin) / (lanes - 1) as f64
        }
    };
    let y_of = |display: f64| TOP + display * PX_PER_SEC;
    let total_height = y_of(pace.total) + 20.0;
    let cursor_y = y_of(props.position);
    // Follow the cursor when the whole diagram does not fit: it stays at 70% of the height.
    let offset = if total_height <= height { 0.0 } else { (height * 0.7 - cursor_y).min(0.0) };
    let visible_from = ((-offset - 40.0) / PX_PER_SEC - 1.0).max(0.0);
    let visible_to = (height - offset) / PX_PER_SEC;
    // The part of the diagram's own coordinates that shows below the band.
    let (shown_top, shown_bottom) = (BAND - offset, height - offset);
    let labels = &loaded.numbered(props.numbering).labels;
    let position = props.position;
    let cursor = props.cursor;
    let at = |event: usize| pace.at.get(event).copied().unwrap_or(pace.total);

    let mut items: Vec<Html> = Vec::new();

    // Idle stretches that the display clock compresses.
    for gap in &pace.idle {
        if gap.display_end < visible_from || gap.display_start > visible_to || gap.display_start > position {
            continue;
        }
        let (y0, y1) = (y_of(gap.display_start), y_of(gap.display_end));
        let middle = (y0 + y1) / 2.0;
        items.push(html! {
            <g class="idle" data-testid="idle-marker">
                <rect x="0" y={fmt(y0)} width={fmt(width)} height={fmt(y1 - y0)} />
                <text x={fmt(width - 6.0)} y={fmt(middle + 4.0)} text-anchor="end">
                    { format!("⋯ {} idle, shown compressed ⋯", seconds(gap.sim_us)) }
                </text>
            </g>
        });
    }

    // Lifelines.
    for (lane, host) in loaded.hosts.iter().enumerate() {
        let x = lane_x(lane);
        items.push(html! {
            <line class="lifeline" x1={fmt(x)} x2={fmt(x)} y1={fmt(TOP - 6.0)} y2={fmt(y_of(pace.total).max(-offset + height))}
                data-host={host.clone()} />
        });
    }

    // State changes beside their host's lifeline.
    let marks = &loaded.diagram.marks;
    let first_mark = marks.partition_point(|mark| at(mark.event) < visible_from);
    for mark in marks[first_mark..].iter().take_while(|mark| mark.event < cursor && at(mark.event) <= visible_to) {
        let x = lane_x(mark.lane);
        let y = y_of(at(mark.event));
        let right_side = mark.lane + 1 == lanes && lanes > 1;
        let (text_x, anchor) = if right_side { (x + 8.0, "start") } else { (x - 8.0, "end") };
        items.push(html! {
            <g class={classes!("state-mark", mark.text.starts_with('✗').then_some("failed"))} data-testid="state-mark">
                <rect x={fmt(x - 4.0)} y={fmt(y - 4.0)} width="8" height="8" />
                <text x={fmt(text_x)} y={fmt(y + 4.0)} text-anchor={anchor}>{ mark.text.clone() }</text>
            </g>
        });
    }

    // Segments.
    let arrows = &loaded.diagram.arrows;
    let longest = 6.0; // display seconds; arrows starting earlier than this are long gone
    let first_arrow = arrows.partition_point(|arrow| at(arrow.sent) < visible_from - longest);
    for (index, arrow) in arrows
        .iter()
        .enumerate()
        .skip(first_arrow)
        .take_while(|(_, arrow)| arrow.sent < cursor && at(arrow.sent) <= visible_to)
    {
        let label = labels.get(index).cloned().unwrap_or_default();
        let (x0, y0) = (lane_x(arrow.from_lane), y_of(at(arrow.sent)));
        let end_display = arrow.end.map_or(pace.total, at);
        let x_end_full = if arrow.dropped { x0 + (lane_x(arrow.to_lane) - x0) * 0.55 } else { lane_x(arrow.to_lane) };
        let (x1, y1) = (x_end_full, y_of(end_display));
        if y1 < -offset - 40.0 {
            continue;
        }
        let arrived = arrow.end.is_some_and(|end| end < cursor);
        let fraction = if arrived {
            1.0
        } else if end_display > at(arrow.sent) {
            ((position - at(arrow.sent)) / (end_display - at(arrow.sent))).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let (xh, yh) = (x0 + (x1 - x0) * fraction, y0 + (y1 - y0) * fraction);
        let kind = match arrow.kind {
            ArrowKind::Syn => "syn",
            ArrowKind::Data => "data",
            ArrowKind::Fin => "fin",
            ArrowKind::Rst => "rst",
            ArrowKind::Ack => "ack",
            ArrowKind::Udp => "udp",
        };
        let differs = props.differs.as_ref().is_some_and(|differs| differs.binary_search(&arrow.sent).is_ok());
        let class = classes!(
            "seg",
            kind,
            arrow.retransmission.then_some("rexmit"),
            (!arrived).then_some("flying"),
            differs.then_some("differs")
        );
        let angle = (y1 - y0).atan2(x1 - x0).to_degrees();
        let upright = if angle.abs() > 90.0 { angle - 180.0 } else { angle };
        // The label sits at the middle of the part of the arrow that shows, so that an arrow
        // that starts above the window, or ends below it, keeps its label in view.
        let label_view = match shown_middle(y0, y1, shown_top + LABEL_MARGIN, shown_bottom - LABEL_MARGIN) {
            Some(middle) => {
                let (lx, ly) = (x0 + (x1 - x0) * middle, y0 + (y1 - y0) * middle - 5.0);
                html! {
                    <text x={fmt(lx)} y={fmt(ly)} text-anchor="middle"
                        transform={format!("rotate({} {} {})", num(upright), num(lx), num(ly + 5.0))}>{ label.clone() }</text>
                }
            }
            None => html! {},
        };
        let head = if arrived && arrow.dropped {
            html! {
                <g class="lost" data-testid="lost">
                    <line x1={fmt(x1 - 6.0)} y1={fmt(y1 - 6.0)} x2={fmt(x1 + 6.0)} y2={fmt(y1 + 6.0)} />
                    <line x1={fmt(x1 - 6.0)} y1={fmt(y1 + 6.0)} x2={fmt(x1 + 6.0)} y2={fmt(y1 - 6.0)} />
                </g>
            }
        } else if arrived {
            html! {}
        } else {
            html! { <circle class="packet" cx={fmt(xh)} cy={fmt(yh)} r="5" /> }
        };
        let marker = if arrived && !arrow.dropped { "url(#arrowhead)" } else { "" };
        items.push(html! {
            <g class={class} data-testid="segment" data-label={label.clone()} data-sent={arrow.sent.to_string()}>
                if differs { <title>{ "differs from the original run" }</title> }
                <line x1={fmt(x0)} y1={fmt(y0)} x2={fmt(xh)} y2={fmt(yh)} marker-end={marker} />
                { head }
                { label_view }
            </g>
        });
    }

    let header: Html = loaded
        .hosts
        .iter()
        .enumerate()
        .map(|(lane, host)| {
            html! { <text class="lane-name" x={fmt(lane_x(lane))} y="18" text-anchor="middle">{ host.clone() }</text> }
        })
        .collect();

    html! {
        <figure class="sequence" data-testid="diagram">
            <svg viewBox={format!("0 0 {} {}", num(width), num(height))} role="img"
                aria-label="Sequence diagram: segments between the hosts, time running downwards">
                <defs>
                    <marker id="arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
                    </marker>
                </defs>
                <g transform={format!("translate(0 {})", num(offset))}>
                    { for items }
                    <g class="now" data-testid="now-line">
                        <line x1="0" x2={fmt(width)} y1={fmt(cursor_y)} y2={fmt(cursor_y)} />
                    </g>
                </g>
                <rect class="lane-band" x="0" y="0" width={fmt(width)} height={fmt(BAND)} />
                { header }
                <g class="now" data-testid="now-time">
                    <line x1={fmt(width / 2.0 - 70.0)} x2={fmt(width / 2.0 - 50.0)} y1={fmt(BAND - 9.0)} y2={fmt(BAND - 9.0)} />
                    <text x={fmt(width / 2.0 - 44.0)} y={fmt(BAND - 5.0)}>{ format!("now: t = {}", clock(props.sim_us)) }</text>
                </g>
            </svg>
        </figure>
    }
}

fn fmt(value: f64) -> String {
    num(value)
}

/// Where along an arrow from `y0` to `y1` (0 at its start, 1 at its end) the middle of its
/// part between `top` and `bottom` lies, or `None` when no part of it is there.
fn shown_middle(y0: f64, y1: f64, top: f64, bottom: f64) -> Option<f64> {
    if (y1 - y0).abs() < f64::EPSILON {
        return (top..=bottom).contains(&y0).then_some(0.5);
    }
    let along = |y: f64| ((y - y0) / (y1 - y0)).clamp(0.0, 1.0);
    let (first, last) = if y1 > y0 { (along(top), along(bottom)) } else { (along(bottom), along(top)) };
    (first < last).then_some((first + last) / 2.0)
}

/// Seconds with three decimals, for idle stretches.
fn seconds(us: u64) -> String {
    format!("{}.{:03} s", us / 1_000_000, us / 1000 % 1000)
}

/// Simulated time with microseconds, e.g. `1.000200 s`.
pub fn clock(us: f64) -> String {
    let us = us.max(0.0) as u64;
    format!("{}.{:06} s", us / 1_000_000, us % 1_000_000)
}
