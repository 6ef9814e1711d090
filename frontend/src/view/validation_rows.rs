//! The side-by-side rows of a scenario's comparison with the kernel, fetched when a reader
//! opens them: they are most of the validator's report, and only some visitors look, so the
//! page every visitor downloads carries only each scenario's verdict (`validation.rs`). The
//! report's text is fetched once per page and read with the engine's own JSON reader
//! (`validation::rows_in`).

use std::cell::RefCell;
use std::rc::Rc;

use sockscope_engine::validation::{rows_in, DiffRow};
use yew::prelude::*;

use crate::promise;

/// Where the report is served, beside the page.
const REPORT_FILE: &str = "validation-report.json";

thread_local! {
    /// The report's text, once fetched.
    static REPORT_TEXT: RefCell<Option<Rc<str>>> = const { RefCell::new(None) };
}

#[derive(Clone, PartialEq)]
enum Rows {
    Waiting,
    Shown(Rc<Vec<DiffRow>>),
    Failed(String),
}

#[derive(Properties, PartialEq)]
pub struct ComparisonRowsProps {
    pub name: &'static str,
    pub kernel: &'static str,
}

#[function_component(ComparisonRows)]
pub fn comparison_rows(props: &ComparisonRowsProps) -> Html {
    let rows = use_state(|| Rows::Waiting);
    {
        let (rows, name) = (rows.clone(), props.name);
        use_effect_with(name, move |_| {
            let show = move |text: Result<Rc<str>, String>| {
                rows.set(match text.and_then(|text| rows_in(&text, name)) {
                    Ok(found) => Rows::Shown(Rc::new(found)),
                    Err(why) => Rows::Failed(why),
                })
            };
            match REPORT_TEXT.with(|text| text.borrow().clone()) {
                Some(text) => show(Ok(text)),
                None => promise::text(REPORT_FILE, move |text| {
                    let text = text.map(|text| Rc::<str>::from(text.as_str()));
                    if let Ok(text) = &text {
                        REPORT_TEXT.with(|cached| *cached.borrow_mut() = Some(text.clone()));
                    }
                    show(text)
                }),
            }
        });
    }
    match &*rows {
        Rows::Waiting => html! { <p class="muted" role="status">{ "Loading the comparison…" }</p> },
        Rows::Failed(why) => html! { <p role="alert">{ format!("The comparison could not be loaded: {why}.") }</p> },
        Rows::Shown(found) => html! {
            <table class="diff">
                <thead><tr><th scope="col">{ "aspect" }</th><th scope="col">{ "sockscope" }</th><th scope="col">{ props.kernel }</th></tr></thead>
                <tbody>
                    { for found.iter().map(|row| html! {
                        <tr class={classes!((!row.same).then_some("differs"))}>
                            <td>{ if row.same { "" } else { "≠ " } }{ row.aspect.clone() }</td>
                            <td><code>{ row.engine.clone() }</code></td>
                            <td><code>{ row.kernel.clone() }</code></td>
                        </tr>
                    }) }
                </tbody>
            </table>
        },
    }
}
