//! The parts of the page that a seek does not change: the scenario picker, the introduction
//! with its validation verdict, the editor and the footer.
//!
//! Each is a component whose props stay equal while the cursor moves (the loaded scenario is
//! compared by identity, callbacks are made once in the app), so Yew skips them on a seek and
//! only the views that follow the cursor are rebuilt and compared.

use sockscope_engine::builtin;
use yew::prelude::*;

use crate::catalogue::CATALOGUE;

use super::panes::ValidationPanel;
use crate::model::Shared;
use crate::validation;

#[derive(Properties, PartialEq, Clone)]
pub struct PickerProps {
    /// The built-in scenario shown, or `None` for a custom one.
    pub selected: Option<String>,
    pub on_pick: Callback<Event>,
}

/// The list of built-in scenarios, grouped as in the catalogue.
#[function_component(Picker)]
pub fn picker(props: &PickerProps) -> Html {
    let selected = props.selected.as_deref().unwrap_or_default();
    html! {
        <label class="picker">
            <span>{ "Scenario" }</span>
            <select onchange={props.on_pick.clone()} data-testid="picker" aria-label="Built-in scenario">
                if props.selected.is_none() { <option value="" selected=true>{ "Custom scenario (from the link or the editor)" }</option> }
                { for builtin::GROUPS.iter().map(|group| html! {
                    <optgroup label={*group}>
                        { for CATALOGUE.iter().filter(|entry| entry.group == *group).map(|entry| html! {
                            <option value={entry.name} selected={entry.name == selected}>
                                { format!("{} — {}", entry.title, entry.source) }
                            </option>
                        }) }
                    </optgroup>
                }) }
            </select>
        </label>
    }
}

#[derive(Properties, PartialEq, Clone)]
pub struct IntroProps {
    pub loaded: Shared,
}

/// The scenario's title, source and description, what the validator found, and the run's
/// warnings.
#[function_component(Intro)]
pub fn intro(props: &IntroProps) -> Html {
    let loaded = &props.loaded;
    let validation_view = loaded
        .builtin
        .as_deref()
        .and_then(|name| validation::report().and_then(|report| Some((report.kernel, report.scenario(name)?))))
        .map(|(kernel, report)| html! { <ValidationPanel kernel={kernel} report={report} /> })
        .unwrap_or_default();
    html! {
        <section class="intro">
            <h1 data-testid="title">{ loaded.title.clone() }</h1>
            if !loaded.source.is_empty() { <p class="source">{ format!("Source: {}", loaded.source) }</p> }
            if !loaded.description.is_empty() { <p class="description">{ loaded.description.clone() }</p> }
            { validation_view }
            { for loaded.warnings.iter().map(|warning| html! { <p class="warning" role="status">{ warning.clone() }</p> }) }
        </section>
    }
}

#[derive(Properties, PartialEq, Clone)]
pub struct EditorProps {
    /// The text area; the app fills it when a scenario loads.
    pub editor: NodeRef,
    pub on_run: Callback<MouseEvent>,
    /// Why the last text could not be run.
    pub error: Option<String>,
}

/// The scenario editor: the loaded JSON, editable, and a button to run it.
#[function_component(Editor)]
pub fn editor(props: &EditorProps) -> Html {
    html! {
        <details class="editor">
            <summary>{ "Edit this scenario or paste your own (JSON)" }</summary>
            <p class="muted">{ "Runs in your browser. The link then carries the scenario in its # fragment, compressed, so you can share it without a server." }</p>
            <textarea ref={props.editor.clone()} rows="14" spellcheck="false" aria-label="Scenario JSON" data-testid="editor" />
            <button onclick={props.on_run.clone()} data-testid="run-custom">{ "Run this scenario" }</button>
            if let Some(err) = &props.error { <p class="error" role="alert" data-testid="editor-error">{ err.clone() }</p> }
        </details>
    }
}

/// What the page does and does not do, in two sentences.
#[function_component(Footer)]
pub fn footer() -> Html {
    html! {
        <footer class="muted">
            { "sockscope runs entirely in this page: no server, no tracking, nothing fetched but its own files. " }
            { "Segments, states and timers follow Linux's TCP; see the sources cited with each step." }
        </footer>
    }
}
