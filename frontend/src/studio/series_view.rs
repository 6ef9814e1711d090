//! The series under the time–sequence graph (`series.rs`), drawn as three panels of one SVG
//! on the graph's time axis, so that the two cursors line up. As on the graph, a click seeks
//! to the point nearest in time, and with the panels focused ← and → go from point to point.

use web_sys::KeyboardEvent;
use yew::prelude::*;

use super::plot_view::{seek_to, step_points};
use super::series::{Chart, Unit};
use super::Ctx;

/// The same horizontal frame as the graph's (`plot_view.rs`), so the time axes match.
const WIDTH: f64 = 640.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 10.0;
/// Each panel's height, and the room for its title above it.
const PANEL: f64 = 96.0;
const TITLE: f64 = 34.0;
const BOTTOM: f64 = 24.0;

pub fn series_view(ctx: &Ctx, charts: &[Chart], end_us: u64) -> Html {
    let height = charts.len() as f64 * (PANEL + TITLE) + BOTTOM;
    let f = |value: f64| format!("{value:.1}");
    let x = move |t_us: u64| LEFT + (t_us.min(end_us) as f64 / end_us as f64) * (WIDTH - LEFT - RIGHT);
    let panels = charts.iter().enumerate().map(|(index, chart)| {
        let top_y = index as f64 * (PANEL + TITLE) + TITLE;
        let most = chart.series.iter().flat_map(|series| &series.points).map(|step| step.value).max().unwrap_or(0);
        let top = (most + most / 6).max(1);
        let y = move |value: u64| top_y + PANEL - (value.min(top) as f64 / top as f64) * PANEL;
        let legend = chart.series.iter().enumerate().map(|(number, series)| {
            let at = LEFT + 4.0 + number as f64 * 185.0;
            let name =
                if series.points.is_empty() { format!("{} (none)", series.name) } else { series.name.to_string() };
            html! {
                <>
                    <line class={classes!("series-line", series.class)} x1={f(at)} x2={f(at + 16.0)}
                        y1={f(top_y - 8.0)} y2={f(top_y - 8.0)} />
                    <text class="tsg-label" x={f(at + 20.0)} y={f(top_y - 5.0)}>{ name }</text>
                </>
            }
        });
        let lines = chart.series.iter().map(|series| {
            html! {
                <polyline class={classes!("series-line", series.class)} data-series={series.class}
                    points={step_points(&series.points, &x, &y, end_us)} />
            }
        });
        html! {
            <g class="series-panel">
                <text class="tsg-label series-title" x={f(LEFT)} y={f(top_y - 20.0)}>{ chart.title }</text>
                <line class="tsg-axis" x1={f(LEFT)} y1={f(top_y)} x2={f(LEFT)} y2={f(top_y + PANEL)} />
                <line class="tsg-axis" x1={f(LEFT)} y1={f(top_y + PANEL)} x2={f(WIDTH - RIGHT)} y2={f(top_y + PANEL)} />
                <text class="tsg-label" x={f(LEFT - 4.0)} y={f(top_y + 8.0)} text-anchor="end">{ amount(top, chart.unit) }</text>
                <text class="tsg-label" x={f(LEFT - 4.0)} y={f(top_y + PANEL)} text-anchor="end">{ "0" }</text>
                { for legend }
                { for lines }
            </g>
        }
    });
    let now_x = f(x(ctx.page.playback.sim_time().max(0.0) as u64));
    let points: Vec<(u64, usize)> = {
        let mut points: Vec<(u64, usize)> = charts
            .iter()
            .flat_map(|chart| &chart.series)
            .flat_map(|series| &series.points)
            .map(|step| (step.t_us, step.event))
            .collect();
        points.sort_unstable_by_key(|&(_, event)| event);
        points.dedup_by_key(|point| point.1);
        points
    };
    let on_click = {
        let (ctx, points) = (ctx.clone(), points.clone());
        Callback::from(move |event: MouseEvent| {
            let clicked =
                event.target().and_then(|target| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(target).ok());
            let Some(svg) = clicked.and_then(|element| element.closest("svg.series").ok().flatten()) else { return };
            let rect = svg.get_bounding_client_rect();
            if rect.width() <= 0.0 {
                return;
            }
            let at = (f64::from(event.client_x()) - rect.left()) * WIDTH / rect.width();
            let t_us = (((at - LEFT) / (WIDTH - LEFT - RIGHT)).clamp(0.0, 1.0) * end_us as f64) as u64;
            let nearest = points.iter().min_by_key(|(t, event)| (t.abs_diff(t_us), *event));
            if let Some(&(_, event)) = nearest {
                seek_to(&ctx, event);
            }
        })
    };
    let on_key = {
        let ctx = ctx.clone();
        Callback::from(move |event: KeyboardEvent| {
            let cursor = ctx.page.playback.cursor;
            let target = match event.key().as_str() {
                "ArrowRight" => points.iter().map(|point| point.1).find(|&index| index + 1 > cursor),
                "ArrowLeft" => points.iter().rev().map(|point| point.1).find(|&index| index + 1 < cursor),
                _ => return,
            };
            event.prevent_default();
            event.stop_propagation();
            if let Some(index) = target {
                seek_to(&ctx, index);
            }
        })
    };
    html! {
        <svg class="series" data-testid="series" viewBox={format!("0 0 {WIDTH} {}", f(height))} role="img" tabindex="0"
            aria-label={summary(charts)} onclick={on_click} onkeydown={on_key}>
            <title>{ "The sender's windows, both ends' queues and the sender's timers over time" }</title>
            { for panels }
            <text class="tsg-label" x={f(LEFT)} y={f(height - 6.0)}>{ "0 s" }</text>
            <text class="tsg-label" x={f(WIDTH - RIGHT)} y={f(height - 6.0)} text-anchor="end">{ crate::view::sequence::clock(end_us as f64) }</text>
            <line class="tsg-now" data-testid="series-now" x1={now_x.clone()} x2={now_x} y1="0" y2={f(height - BOTTOM)} />
        </svg>
    }
}

/// `value` as the axis writes it: bytes in B, kB or MB; times in ms.
fn amount(value: u64, unit: Unit) -> String {
    match unit {
        Unit::Bytes if value >= 1_000_000 => format!("{:.1} MB", value as f64 / 1e6),
        Unit::Bytes if value >= 10_000 => format!("{:.0} kB", value as f64 / 1e3),
        Unit::Bytes => format!("{value} B"),
        Unit::Micros => format!("{:.0} ms", value as f64 / 1e3),
    }
}

/// What a screen reader hears for the panels: each series' range.
fn summary(charts: &[Chart]) -> String {
    let mut parts = Vec::new();
    for chart in charts {
        for series in &chart.series {
            let values = series.points.iter().map(|step| step.value);
            match (values.clone().min(), values.max()) {
                (Some(low), Some(high)) => parts.push(format!(
                    "{} from {} to {}",
                    series.name,
                    amount(low, chart.unit),
                    amount(high, chart.unit)
                )),
                _ => parts.push(format!("{}: none", series.name)),
            }
        }
    }
    format!("Series over time: {}", parts.join("; "))
}
