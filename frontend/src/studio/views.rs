//! The workbench's panel: the buttons that choose its mode, the mode's own panel
//! (`playground_view.rs`, `what_if_view.rs`, `predict_view.rs`), and the status line that
//! says what each action did. Every control is a native button, select or input
//! with a label, so it works by keyboard; the status line is announced by screen readers.

use yew::prelude::*;

use super::export;
use super::playground_view::playground;
use super::plot_view::plot_view;
use super::predict_view::predict_view;
use super::script_view::script_pane;
use super::what_if_view::what_if;
use super::widgets::{button, Offer};
use super::{Ctx, Mode, Panel};
use crate::view::sequence::clock;

pub fn view(ctx: &Ctx, on_copy_link: &Callback<MouseEvent>) -> Html {
    let (mode, panel) = {
        let bench = ctx.bench.borrow();
        (bench.mode, bench.panel)
    };
    let refused = ctx.bench.borrow().refused_origins.clone();
    let refused = (!refused.is_empty()).then(|| {
        html! {
            <div class="message" role="alert" data-testid="api-refused">
                { for refused.into_iter().map(|sentence| html! { <p>{ sentence }</p> }) }
            </div>
        }
    });
    if panel == Panel::Closed {
        return refused.unwrap_or_default();
    }
    let tab = |target: Mode, text: &str, testid: &str| {
        let ctx = ctx.clone();
        html! {
            <button type="button" aria-pressed={(mode == target).to_string()} data-testid={testid.to_string()}
                onclick={move |_| ctx.set_mode(target)}>{ text.to_string() }</button>
        }
    };
    let body = match mode {
        Mode::Playground => playground(ctx, on_copy_link),
        Mode::WhatIf => what_if(ctx),
        Mode::Predict => predict_view(ctx),
        Mode::Plot => plot_view(ctx),
    };
    let said = ctx.bench.borrow().said.clone();
    html! {
        <section class="bench" aria-label="Studio" data-testid="bench">
            { refused.unwrap_or_default() }
            { script_pane(&ctx.page) }
            <div class="bench-modes" role="group" aria-label="Studio mode">
                { tab(Mode::WhatIf, "What if…", "mode-what-if") }
                { tab(Mode::Playground, "Playground", "mode-playground") }
                { tab(Mode::Predict, "Predict", "mode-predict") }
                { tab(Mode::Plot, "Time–sequence graph", "mode-plot") }
            </div>
            { body }
            { export_row(ctx, mode) }
            <p class="bench-status" role="status" aria-live="polite" data-testid="bench-status">{ said }</p>
        </section>
    }
}

/// Downloads of the figures on screen, for slides: the sequence diagram always, the graph in
/// its mode.
fn export_row(ctx: &Ctx, mode: Mode) -> Html {
    let loaded = ctx.page.loaded.clone();
    let steps = &loaded.timing.steps;
    let cursor = ctx.page.playback.cursor;
    let caption = format!(
        "{} · t = {} · step {} of {} · sockscope",
        loaded.title,
        clock(ctx.page.playback.sim_time()),
        steps.completed(cursor),
        steps.count()
    );
    let name =
        if loaded.builtin.is_some() { loaded.builtin.clone().unwrap_or_default() } else { "sockscope".to_string() };
    let figure = |selector: &'static str, what: &'static str, file: String, testid: &'static str| {
        let svg = {
            let (ctx, caption, file) = (ctx.clone(), caption.clone(), file.clone());
            move || match export::standalone_svg(selector, &caption) {
                Some(svg) if export::download_svg(&file, &svg).is_ok() => {
                    ctx.say(format!("The {what} as {file}.svg, at the moment shown."))
                }
                _ => ctx.say(format!("The {what} could not be saved.")),
            }
        };
        let png = {
            let (ctx, caption) = (ctx.clone(), caption.clone());
            move || {
                let failed = {
                    let ctx = ctx.clone();
                    move || ctx.say(format!("The browser could not draw the {what} as a PNG."))
                };
                match export::standalone_svg(selector, &caption) {
                    Some(svg) if export::download_png(&file, &svg, failed).is_ok() => {
                        ctx.say(format!("The {what} as {file}.png, at twice its size."))
                    }
                    _ => ctx.say(format!("The {what} could not be saved.")),
                }
            }
        };
        html! {
            <>
                { button(&format!("{what} as SVG"), &format!("export-{testid}-svg"), Offer::Enabled, svg) }
                { button(&format!("{what} as PNG"), &format!("export-{testid}-png"), Offer::Enabled, png) }
            </>
        }
    };
    html! {
        <div class="bench-row" role="group" aria-label="Download for slides">
            { figure("[data-testid=diagram] svg", "Diagram", format!("{name}-diagram"), "diagram") }
            if mode == Mode::Plot {
                { figure("[data-testid=tsg]", "Graph", format!("{name}-time-sequence"), "graph") }
                { figure("[data-testid=series]", "Series", format!("{name}-series"), "series") }
            }
        </div>
    }
}
