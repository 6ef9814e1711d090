//! The parts of the page that a seek does not change: the scenario picker, the introduction
//! with its validation verdict, the editor and the footer.
//!
//! Each is a component whose props stay equal while the cursor moves (the loaded scenario is
//! compared by identity, callbacks are made once in the app), so Yew skips them on a seek and
//! only the views that follow the cursor are rebuilt and compared.

use gloo::events::EventListener;
use sockscope_engine::builtin;
use yew::prelude::*;

use crate::catalogue::CATALOGUE;

use super::panes::ValidationPanel;
use crate::model::Shared;
use crate::page_state::EditorNote;
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
///
/// The description shows its first two lines until the reader asks for the rest: whole, the
/// longer ones pushed the diagram and the controls below a laptop's first screen. The clamp
/// is visual only (screen readers read the whole text), so the button that lifts it says
/// with `aria-expanded` what a sighted reader sees; it is there only when the clamp hides
/// something, which depends on the width and is measured.
#[function_component(Intro)]
pub fn intro(props: &IntroProps) -> Html {
    let loaded = &props.loaded;
    let paragraph = use_node_ref();
    let expanded = use_state_eq(|| false);
    let clipped = use_state_eq(|| false);
    {
        let expanded = expanded.clone();
        use_effect_with(loaded.clone(), move |_| expanded.set(false));
    }
    {
        let (paragraph, clipped, expanded) = (paragraph.clone(), clipped.clone(), *expanded);
        use_effect(move || {
            let measure = move || {
                if let Some(element) = paragraph.cast::<web_sys::Element>() {
                    clipped.set(element.scroll_height() > element.client_height() + 1);
                }
            };
            // Once lifted, the clamp hides nothing; the button stays, to put it back.
            let listener = (!expanded).then(|| {
                measure();
                EventListener::new(&gloo::utils::window(), "resize", move |_| measure())
            });
            move || drop(listener)
        });
    }
    let toggle = {
        let expanded = expanded.clone();
        Callback::from(move |_: MouseEvent| expanded.set(!*expanded))
    };
    let validation_view = loaded
        .builtin
        .as_deref()
        .and_then(|name| validation::report().and_then(|report| Some((report.kernel, report.scenario(name)?))))
        .map(|(kernel, report)| html! { <ValidationPanel kernel={kernel} report={report} /> })
        .unwrap_or_default();
    html! {
        <section class="intro">
            <div class="intro-head">
                <h1 data-testid="title">{ loaded.title.clone() }</h1>
                if !loaded.source.is_empty() { <p class="source">{ format!("Source: {}", loaded.source) }</p> }
                { validation_view }
            </div>
            if !loaded.description.is_empty() {
                <div class="intro-about">
                    <p ref={paragraph} id="scenario-description" data-testid="description"
                        class={classes!("description", (!*expanded).then_some("clamped"))}>{ loaded.description.clone() }</p>
                    if *clipped || *expanded {
                        <button class="small more" onclick={toggle} aria-expanded={expanded.to_string()}
                            aria-controls="scenario-description" data-testid="description-toggle">
                            { if *expanded { "Less" } else { "More about this scenario" } }
                        </button>
                    }
                </div>
            }
            { for loaded.warnings.iter().map(|warning| html! { <p class="warning" role="status">{ warning.clone() }</p> }) }
        </section>
    }
}

#[derive(Properties, PartialEq, Clone)]
pub struct EditorProps {
    /// The text area; the app fills it when a scenario loads.
    pub editor: NodeRef,
    pub on_run: Callback<MouseEvent>,
    /// What the last Run came to.
    pub note: Option<EditorNote>,
}

/// The scenario editor: the loaded JSON, editable, a button to run it, and beside the button
/// what the last run came to.
///
/// The note's box is always in the page, so that screen readers, which watch a live region
/// only once it exists, read each new note; a rejected text is an alert.
#[function_component(Editor)]
pub fn editor(props: &EditorProps) -> Html {
    let note = props.note.as_ref().map(|note| {
        let (class, testid, role) = match note {
            EditorNote::Ran(_) => ("ok", "editor-ran", None),
            EditorNote::RanWithWarnings(_) => ("warning", "editor-warning", None),
            EditorNote::Rejected(_) => ("error", "editor-error", Some("alert")),
        };
        html! { <p class={class} role={role} data-testid={testid}>{ note.text().to_string() }</p> }
    });
    html! {
        <details class="editor">
            <summary>{ "Edit this scenario or paste your own (JSON, or a packetdrill script)" }</summary>
            <p class="muted">{ "Runs in your browser. The link then carries the scenario in its # fragment, compressed, so you can share it without a server. A packetdrill script (.pkt) runs in the studio, which shows each step's line of the script." }</p>
            <textarea ref={props.editor.clone()} rows="14" spellcheck="false" aria-label="Scenario JSON or packetdrill script" data-testid="editor" />
            <div class="editor-run">
                <button onclick={props.on_run.clone()} data-testid="run-custom">{ "Run this scenario" }</button>
                <div class="editor-note" aria-live="polite" aria-atomic="true" data-testid="editor-note">{ for note }</div>
            </div>
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
