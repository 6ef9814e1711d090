//! The time–sequence graph's panel: which direction of which connection, and the graph, whose
//! cursor is the page's. A click seeks to the segment or ACK nearest in time; with the graph
//! focused, ← and → go to the previous and next one.

use web_sys::KeyboardEvent;
use yew::prelude::*;

use std::rc::Rc;

use super::series::charts;
use super::series_view::{series_view, Charts};
use super::time_sequence::{graph, survey, Direction, Graph, Step, Survey};
use super::widgets::select;
use super::Ctx;
use crate::model::Shared;
use crate::page_state::Action;
use crate::playback;
use crate::view::sequence::clock;

/// The graph's drawing size, in the SVG's own units (it scales to the panel's width).
pub(super) const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
/// Room for the axes' labels.
pub(super) const LEFT: f64 = 64.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 10.0;
pub(super) const RIGHT: f64 = 10.0;

/// What the graph of one run needs, made once per run and direction: the panel is drawn at
/// every frame while the page plays.
pub struct PlotCache {
    run: Shared,
    survey: Rc<Survey>,
    graph: Option<Plotted>,
}

/// A direction's time–sequence graph and the series under it, with what their handlers and
/// labels need.
#[derive(Clone)]
pub struct Plotted {
    direction: Direction,
    graph: Rc<Graph>,
    series: Rc<Charts>,
}

/// The survey of the run on screen, and the graph of the direction chosen (or the busiest).
fn plotted(ctx: &Ctx) -> (Rc<Survey>, Option<Plotted>) {
    let loaded = ctx.page.loaded.clone();
    let mut bench = ctx.bench.borrow_mut();
    let chosen = bench.plotted;
    let cache = match bench.plot_cache.take() {
        Some(cache) if cache.run == loaded => cache,
        _ => PlotCache { survey: Rc::new(survey(&loaded.trace)), run: loaded.clone(), graph: None },
    };
    let direction = cache.survey.directions.iter().copied().find(|direction| Some(*direction) == chosen);
    let direction = direction.or(cache.survey.busiest);
    let graph = match (cache.graph, direction) {
        (Some(drawn), Some(direction)) if drawn.direction == direction => Some(drawn),
        (_, Some(direction)) => Some(Plotted {
            direction,
            graph: Rc::new(graph(&loaded.trace, direction)),
            series: Rc::new(Charts::new(charts(&loaded.trace, direction))),
        }),
        (_, None) => None,
    };
    let survey = cache.survey.clone();
    bench.plot_cache = Some(PlotCache { run: loaded, survey: survey.clone(), graph: graph.clone() });
    (survey, graph)
}

pub fn plot_view(ctx: &Ctx) -> Html {
    let (survey, plotted) = plotted(ctx);
    let all = survey.directions.clone();
    let Some(Plotted { direction, graph, series }) = plotted else {
        return html! {
            <div class="bench-body" data-testid="plot">
                <p class="bench-hint">{ "This run has no TCP segment to plot." }</p>
            </div>
        };
    };
    let name = |direction: &Direction| format!("{} → {}", direction.from, direction.to);
    let options = all.iter().map(|direction| (name(direction), name(direction))).collect();
    let pick = {
        let ctx = ctx.clone();
        let all = all.clone();
        Callback::from(move |value: String| {
            ctx.bench.borrow_mut().plotted = all.iter().copied().find(|direction| name(direction) == value);
            ctx.redraw();
        })
    };
    // The graph spans the transfer, not the run: a run often ends a minute later, when
    // TIME_WAIT does. Its height is the data's, with room above; a window edge beyond it (a
    // scaled window is megabytes) runs along the top.
    let last_us =
        graph.bars.iter().map(|bar| bar.t_us).chain(graph.acked.iter().map(|step| step.t_us)).max().unwrap_or(0);
    let end_us = (last_us + last_us / 20).max(1);
    let data_top = graph.bars.iter().map(|bar| bar.end).chain(graph.acked.iter().map(|s| s.value)).max().unwrap_or(0);
    let top = (data_top + data_top / 5).max(2);
    let x = |t_us: u64| LEFT + (t_us.min(end_us) as f64 / end_us as f64) * (WIDTH - LEFT - RIGHT);
    let y = |seq: u64| HEIGHT - BOTTOM - (seq.min(top) as f64 / top as f64) * (HEIGHT - BOTTOM - TOP);
    let f = |value: f64| format!("{value:.1}");
    let bars = graph.bars.iter().map(|bar| {
        let class = classes!("tsg-bar", bar.retransmission.then_some("rexmit"), bar.dropped.then_some("lost"));
        html! {
            <line class={class} data-testid="tsg-bar" data-event={bar.event.to_string()}
                x1={f(x(bar.t_us))} x2={f(x(bar.t_us))} y1={f(y(bar.first))} y2={f(y(bar.end))} />
        }
    });
    let steps = |line: &[Step]| step_points(line, &x, &y, end_us);
    let now_x = f(x(ctx.page.playback.sim_time().max(0.0) as u64));
    let on_click = {
        let (ctx, graph) = (ctx.clone(), graph.clone());
        Callback::from(move |event: MouseEvent| {
            if let Some(event) = clicked_time(&event, "svg.tsg", end_us).and_then(|t_us| nearest(&graph, t_us)) {
                seek_to(&ctx, event);
            }
        })
    };
    let on_key = {
        let (ctx, graph) = (ctx.clone(), graph.clone());
        Callback::from(move |event: KeyboardEvent| arrow_key(&ctx, &event, &plotted_events(&graph)))
    };
    let proto_note = survey.has_udp.then(|| html! { <p class="bench-hint">{ "UDP datagrams are not plotted." }</p> });
    html! {
        <div class="bench-body" data-testid="plot">
            <p class="bench-hint">{ "Each segment the sender sends is a bar from its first to its last sequence number; the lower line is what the receiver has acknowledged, the upper one the edge of the window it offers. Click the graph, or focus it and press ← →, to go there." }</p>
            <div class="bench-row">{ select("Direction (sender → receiver)", "tsg-direction", options, &name(&direction), pick) }</div>
            { proto_note.unwrap_or_default() }
            <svg class="tsg" data-testid="tsg" viewBox={format!("0 0 {WIDTH} {HEIGHT}")} role="img" tabindex="0"
                aria-label={format!("Time–sequence graph of {}: {} segments, acknowledged up to {}", name(&direction), graph.bars.len(), graph.acked.last().map_or(0, |step| step.value))}
                onclick={on_click} onkeydown={on_key}>
                <line class="tsg-axis" x1={f(LEFT)} y1={f(TOP)} x2={f(LEFT)} y2={f(HEIGHT - BOTTOM)} />
                <line class="tsg-axis" x1={f(LEFT)} y1={f(HEIGHT - BOTTOM)} x2={f(WIDTH - RIGHT)} y2={f(HEIGHT - BOTTOM)} />
                <text class="tsg-label" x={f(LEFT - 4.0)} y={f(TOP + 8.0)} text-anchor="end">{ top.to_string() }</text>
                <title>{ "Sequence numbers over time: bars are segments sent, the solid line what was acknowledged, the dashed line the window's edge" }</title>
                <text class="tsg-label" x={f(LEFT - 4.0)} y={f(HEIGHT - BOTTOM)} text-anchor="end">{ "0" }</text>
                <text class="tsg-label" x={f(LEFT)} y={f(HEIGHT - 8.0)}>{ "0 s" }</text>
                <text class="tsg-label" x={f(WIDTH - RIGHT)} y={f(HEIGHT - 8.0)} text-anchor="end">{ clock(end_us as f64) }</text>
                <text class="tsg-label" x={f((LEFT + WIDTH) / 2.0)} y={f(HEIGHT - 8.0)} text-anchor="middle">{ "time" }</text>
                <text class="tsg-label" x="12" y={f((HEIGHT - BOTTOM) / 2.0)} transform={format!("rotate(-90 12 {})", f((HEIGHT - BOTTOM) / 2.0))} text-anchor="middle">{ "sequence number" }</text>
                <polyline class="tsg-window" data-testid="tsg-window" points={steps(&graph.window)} />
                <polyline class="tsg-ack" data-testid="tsg-ack" points={steps(&graph.acked)} />
                { for bars }
                <line class="tsg-now" data-testid="tsg-now" x1={now_x.clone()} x2={now_x} y1={f(TOP)} y2={f(HEIGHT - BOTTOM)} />
            </svg>
            { series_view(ctx, &series, end_us) }
        </div>
    }
}

/// A step line's points for an SVG polyline: each value holds until the next, and the last
/// until `end_us`.
pub(super) fn step_points(line: &[Step], x: &impl Fn(u64) -> f64, y: &impl Fn(u64) -> f64, end_us: u64) -> String {
    let f = |value: f64| format!("{value:.1}");
    let mut points = String::new();
    for (index, step) in line.iter().enumerate() {
        if index > 0 {
            points.push_str(&format!("{},{} ", f(x(step.t_us)), f(y(line[index - 1].value))));
        }
        points.push_str(&format!("{},{} ", f(x(step.t_us)), f(y(step.value))));
    }
    if let Some(last) = line.last() {
        points.push_str(&format!("{},{}", f(x(end_us)), f(y(last.value))));
    }
    points
}

/// The events the graph draws (bars and the ACKs that move a line), in order.
fn plotted_events(graph: &Graph) -> Vec<usize> {
    let mut events: Vec<usize> = graph
        .bars
        .iter()
        .map(|bar| bar.event)
        .chain(graph.acked.iter().map(|step| step.event))
        .chain(graph.window.iter().map(|step| step.event))
        .collect();
    events.sort_unstable();
    events.dedup();
    events
}

/// The plotted event nearest to `t_us`; a segment before an ACK of the same moment.
fn nearest(graph: &Graph, t_us: u64) -> Option<usize> {
    let bars = graph.bars.iter().map(|bar| (bar.t_us, bar.event));
    let steps = graph.acked.iter().chain(&graph.window).map(|step| (step.t_us, step.event));
    let mut best: Option<(u64, usize)> = None;
    for (t, event) in bars.chain(steps) {
        let distance = t.abs_diff(t_us);
        if best.is_none_or(|(closest, _)| distance < closest) {
            best = Some((distance, event));
        }
    }
    best.map(|(_, event)| event)
}

/// The moment under a click on the figure `selector`, drawn on the frame above (its time axis
/// from 0 to `end_us`). Yew listens at the app's root, so the figure is found from what was
/// clicked.
pub(super) fn clicked_time(event: &MouseEvent, selector: &str, end_us: u64) -> Option<u64> {
    let clicked = event.target().and_then(|target| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(target).ok());
    let svg = clicked?.closest(selector).ok()??;
    let rect = svg.get_bounding_client_rect();
    if rect.width() <= 0.0 {
        return None;
    }
    let at = (f64::from(event.client_x()) - rect.left()) * WIDTH / rect.width();
    Some((((at - LEFT) / (WIDTH - LEFT - RIGHT)).clamp(0.0, 1.0) * end_us as f64) as u64)
}

/// ← and → on a focused figure: the page goes to the previous or next of `events` (sorted),
/// and the keys are the figure's, not the player's.
pub(super) fn arrow_key(ctx: &Ctx, event: &KeyboardEvent, events: &[usize]) {
    let cursor = ctx.page.playback.cursor;
    let target = match event.key().as_str() {
        "ArrowRight" => events.iter().copied().find(|&index| index + 1 > cursor),
        "ArrowLeft" => events.iter().rev().copied().find(|&index| index + 1 < cursor),
        _ => return,
    };
    event.prevent_default();
    event.stop_propagation();
    if let Some(index) = target {
        seek_to(ctx, index);
    }
}

/// Shows the step that holds `event`.
pub(super) fn seek_to(ctx: &Ctx, event: usize) {
    ctx.page.dispatch(Action::Playback(playback::Action::Seek(event + 1)));
}
