//! A packetdrill script's pane: the script as written, its verdict above it, the line of the
//! step on screen highlighted (and kept in view as the run plays), and the line the run
//! stopped at marked. A quoted line's number is a button that moves the page to that line's
//! step, so the script can be read and stepped through together.

use std::collections::BTreeMap;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::model::ScriptLines;
use crate::page_state::{Action, PageState};
use crate::playback;

#[derive(Properties, PartialEq)]
pub struct ScriptPaneProps {
    pub script: Rc<ScriptLines>,
    /// The line of the step on screen, if the run has reached one.
    pub current: Option<u32>,
    pub dispatcher: UseReducerDispatcher<PageState>,
}

/// The pane for the script of the run on screen, if it is a script's run.
pub fn script_pane(page: &crate::hooks::Page) -> Html {
    let Some(script) = page.loaded.script.clone() else { return html! {} };
    let cursor = page.playback.cursor;
    // `quoted` is in event order: the last note before the cursor, found by halving, as this
    // runs at every frame while the run plays.
    let before = script.quoted.partition_point(|(event, _)| *event < cursor);
    let current = before.checked_sub(1).map(|index| script.quoted[index].1);
    html! { <ScriptPane script={script} current={current} dispatcher={page.dispatcher()} /> }
}

#[function_component(ScriptPane)]
fn script_pane_view(props: &ScriptPaneProps) -> Html {
    let list = use_node_ref();
    {
        let list = list.clone();
        use_effect_with(props.current, move |_| keep_current_in_view(&list));
    }
    let script = &props.script;
    // The first note that quotes each line: where its button goes.
    let mut first: BTreeMap<u32, usize> = BTreeMap::new();
    for (event, line) in &script.quoted {
        first.entry(*line).or_insert(*event);
    }
    let verdict_class = match script.stopped_at {
        None => "verdict pass",
        Some(_) => "verdict stopped",
    };
    let lines = script.lines.iter().enumerate().map(|(index, text)| {
        let number = index as u32 + 1;
        let is_current = props.current == Some(number);
        let stopped = script.stopped_at == Some(number);
        let label = match first.get(&number) {
            Some(&event) => {
                let dispatcher = props.dispatcher.clone();
                html! {
                    <button type="button" class="line-no" aria-label={format!("Go to line {number}'s step")}
                        onclick={move |_| dispatcher.dispatch(Action::Playback(playback::Action::Seek(event + 1)))}>
                        { number }
                    </button>
                }
            }
            None => html! { <span class="line-no" aria-hidden="true">{ number }</span> },
        };
        html! {
            <li class={classes!(is_current.then_some("current"), stopped.then_some("stopped"))}
                aria-current={is_current.then_some("step")} data-line={number.to_string()}>
                { label }
                <code>{ text.clone() }</code>
                if stopped { <span class="stopped-mark" title="the run stopped here">{ " ✗" }</span> }
            </li>
        }
    });
    html! {
        <section class="script-pane" aria-label="packetdrill script" data-testid="script">
            <p class={verdict_class} data-testid="script-verdict">{ script.verdict.clone() }</p>
            <ol class="script-lines" ref={list}>{ for lines }</ol>
        </section>
    }
}

/// Scrolls the list, not the page, so that the current line sits in its middle.
fn keep_current_in_view(list: &NodeRef) {
    let Some(list) = list.cast::<web_sys::HtmlElement>() else { return };
    let Ok(Some(line)) = list.query_selector("[aria-current]") else { return };
    let Ok(line) = line.dyn_into::<web_sys::HtmlElement>() else { return };
    list.set_scroll_top(line.offset_top() - list.client_height() / 2);
}
