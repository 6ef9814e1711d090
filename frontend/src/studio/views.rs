//! The workbench's panel: the buttons that choose its mode, the mode's own panel
//! (`playground_view.rs`, `what_if_view.rs`, `predict_view.rs`), and the status line that
//! says what each action did. Every control is a native button, select or input
//! with a label, so it works by keyboard; the status line is announced by screen readers.

use yew::prelude::*;

use super::playground_view::playground;
use super::plot_view::plot_view;
use super::predict_view::predict_view;
use super::what_if_view::what_if;
use super::{Ctx, Mode};

pub fn view(ctx: &Ctx, on_copy_link: &Callback<MouseEvent>) -> Html {
    let mode = ctx.bench.borrow().mode;
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
            <div class="bench-modes" role="group" aria-label="Studio mode">
                { tab(Mode::WhatIf, "What if…", "mode-what-if") }
                { tab(Mode::Playground, "Playground", "mode-playground") }
                { tab(Mode::Predict, "Predict", "mode-predict") }
                { tab(Mode::Plot, "Time–sequence graph", "mode-plot") }
            </div>
            { body }
            <p class="bench-status" role="status" aria-live="polite" data-testid="bench-status">{ said }</p>
        </section>
    }
}
