//! The series under the time–sequence graph (`series.rs`), drawn as three panels of one SVG
//! on the graph's time axis (`plot_view.rs`'s frame), so that the two cursors line up. As on
//! the graph, a click seeks to the point nearest in time, and with the panels focused ← and →
//! go from point to point.

use std::rc::Rc;

use web_sys::KeyboardEvent;
use yew::prelude::*;

use super::plot_view::{arrow_key, clicked_time, seek_to, step_points, LEFT, RIGHT, WIDTH};
use super::series::{amount, points, summary, Chart};
use super::Ctx;

/// Each panel's height, and the room for its title above it.
const PANEL: f64 = 96.0;
const TITLE: f64 = 34.0;
const BOTTOM: f64 = 24.0;

/// The charts of one direction, with what the panels' handlers and label need, made once:
/// the panel is drawn at every frame while the page plays.
pub struct Charts {
    charts: Vec<Chart>,
    /// (time, event) of every point, in event order.
    points: Vec<(u64, usize)>,
    /// The points' events, for the arrow keys.
    events: Vec<usize>,
    summary: String,
}

impl Charts {
    pub fn new(charts: Vec<Chart>) -> Charts {
        let points = points(&charts);
        let events = points.iter().map(|&(_, event)| event).collect();
        Charts { summary: summary(&charts), points, events, charts }
    }
}

pub fn series_view(ctx: &Ctx, series: &Rc<Charts>, end_us: u64) -> Html {
    let height = series.charts.len() as f64 * (PANEL + TITLE) + BOTTOM;
    let f = |value: f64| format!("{value:.1}");
    let x = |t_us: u64| LEFT + (t_us.min(end_us) as f64 / end_us as f64) * (WIDTH - LEFT - RIGHT);
    let now_x = f(x(ctx.page.playback.sim_time().max(0.0) as u64));
    let on_click = {
        let (ctx, series) = (ctx.clone(), series.clone());
        Callback::from(move |event: MouseEvent| {
            let Some(t_us) = clicked_time(&event, "svg.series", end_us) else { return };
            let nearest = series.points.iter().min_by_key(|(t, event)| (t.abs_diff(t_us), *event));
            if let Some(&(_, event)) = nearest {
                seek_to(&ctx, event);
            }
        })
    };
    let on_key = {
        let (ctx, series) = (ctx.clone(), series.clone());
        Callback::from(move |event: KeyboardEvent| arrow_key(&ctx, &event, &series.events))
    };
    html! {
        <svg class="series" data-testid="series" viewBox={format!("0 0 {WIDTH} {}", f(height))} role="img" tabindex="0"
            aria-label={series.summary.clone()} onclick={on_click} onkeydown={on_key}>
            <title>{ "The sender's windows, both ends' queues and the sender's timers over time" }</title>
            <Panels series={series.clone()} end_us={end_us} />
            <text class="tsg-label" x={f(LEFT)} y={f(height - 6.0)}>{ "0 s" }</text>
            <text class="tsg-label" x={f(WIDTH - RIGHT)} y={f(height - 6.0)} text-anchor="end">{ crate::view::sequence::clock(end_us as f64) }</text>
            <line class="tsg-now" data-testid="series-now" x1={now_x.clone()} x2={now_x} y1="0" y2={f(height - BOTTOM)} />
        </svg>
    }
}

#[derive(Properties)]
struct PanelsProps {
    series: Rc<Charts>,
    end_us: u64,
}

/// The same charts are the same panels: Yew skips drawing them again while only the cursor
/// moves.
impl PartialEq for PanelsProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.series, &other.series) && self.end_us == other.end_us
    }
}

/// The panels without the cursor: titles, axes, legends and lines.
#[function_component(Panels)]
fn panels(props: &PanelsProps) -> Html {
    let end_us = props.end_us;
    let f = |value: f64| format!("{value:.1}");
    let x = move |t_us: u64| LEFT + (t_us.min(end_us) as f64 / end_us as f64) * (WIDTH - LEFT - RIGHT);
    let panels = props.series.charts.iter().enumerate().map(|(index, chart)| {
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
    html! { <>{ for panels }</> }
}
