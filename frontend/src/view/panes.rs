//! The narration line and the text panes kept at the cursor: tcpdump, `ss -tan`, validation.

use std::rc::Rc;

use sockscope_engine::format::{self, Numbering};
use sockscope_engine::replay::Snapshot;
use sockscope_engine::state::State;
use sockscope_engine::validation::Verdict;
use yew::prelude::*;

use crate::model::Shared;
use crate::validation::Comparison;
use crate::view::validation_rows::ComparisonRows;

/// Where the books and the RFC describe a transition.
pub fn citation(from: State, to: State) -> &'static str {
    match (from, to) {
        (_, State::Closed) if from != State::TimeWait && from != State::LastAck => "RFC 793 §3.4 (resets), §3.5",
        (State::Closed, _) | (State::Listen, _) | (State::SynSent, _) | (State::SynRecv, State::Established) => {
            "RFC 793 §3.4; TLPI Fig. 61-5; UNP Fig. 2.2"
        }
        (_, State::TimeWait) | (State::TimeWait, _) => "RFC 793 §3.5; TLPI 61.6.7; UNP 2.7",
        _ => "RFC 793 §3.5; TLPI Fig. 61-6; UNP Fig. 2.3",
    }
}

#[derive(Properties, PartialEq, Clone)]
pub struct NarrationProps {
    pub loaded: Shared,
    pub cursor: usize,
    pub numbering: Numbering,
}

/// What the step on screen did, in one sentence, with its source and the step's number. An
/// `aria-live` region, so a screen reader reads each new step; the number makes two steps
/// that happen to have the same sentence (two equal segments in a row) differ, so each is
/// announced.
#[function_component(Narration)]
pub fn narration(props: &NarrationProps) -> Html {
    let loaded = &props.loaded;
    let (text, event) = match loaded.narration(props.cursor, props.numbering) {
        Some((event, text)) => (text.to_string(), Some(event)),
        None => ("Press Play (Space) or step with → to watch the story unfold.".to_string(), None),
    };
    let steps = &loaded.timing.steps;
    let step = steps.completed(props.cursor);
    let mut sources = Vec::new();
    if !loaded.source.is_empty() {
        sources.push(loaded.source.clone());
    }
    if let Some(event) = event {
        if let sockscope_engine::trace::EventKind::State { from, to, .. } = &loaded.trace.events[event].kind {
            sources.push(citation(*from, *to).to_string());
        }
    }
    html! {
        <div class="narration">
            <p aria-live="polite" aria-atomic="true" data-testid="narration">
                if step > 0 {
                    <span class="step-count" data-testid="step-count">{ format!("Step {step} of {}: ", steps.count()) }</span>
                }
                <span data-testid="narration-text">{ text }</span>
            </p>
            if !sources.is_empty() {
                <p class="source muted" data-testid="narration-source">{ format!("Source: {}", sources.join(" · ")) }</p>
            }
        </div>
    }
}

#[derive(Properties, PartialEq, Clone)]
pub struct TcpdumpProps {
    pub loaded: Shared,
    pub cursor: usize,
    pub numbering: Numbering,
    /// The reader switches between relative and absolute numbers (tcpdump's `-S`).
    pub on_numbering: Callback<Numbering>,
}

/// The most recent tcpdump lines are drawn; older ones are counted.
const TCPDUMP_SHOWN: usize = 60;

#[function_component(TcpdumpPane)]
pub fn tcpdump_pane(props: &TcpdumpProps) -> Html {
    let printed = props.loaded.tcpdump_printed(props.cursor);
    let first = printed.saturating_sub(TCPDUMP_SHOWN);
    let lines = &props.loaded.numbered(props.numbering).tcpdump;
    // The earlier lines are one text node and only the current line is an element of its
    // own: a seek then changes two nodes rather than sixty, and the browser lays out one run
    // of text instead of sixty inline boxes, which was the largest part of a seek's layout.
    let (earlier, current) = match lines[first..printed].split_last() {
        Some(((_, current), earlier)) => {
            let mut text = String::with_capacity(earlier.iter().map(|(_, line)| line.len() + 1).sum());
            for (_, line) in earlier {
                text.push_str(line);
                text.push('\n');
            }
            (text, Some(format!("{current}\n")))
        }
        None => (String::new(), None),
    };
    // The pane keeps its newest line in view without script: it is a column-reverse flex
    // box, whose scroll origin is its bottom edge (see `.pane pre.tail` in style.css). A
    // script that read `scrollHeight` after every change would force a layout of the whole
    // page on every seek.
    let absolute = props.numbering == Numbering::Absolute;
    let toggle = {
        let on_numbering = props.on_numbering.clone();
        let other = if absolute { Numbering::Relative } else { Numbering::Absolute };
        Callback::from(move |_: MouseEvent| on_numbering.emit(other))
    };
    html! {
        <section class="pane" aria-label="tcpdump">
            <div class="pane-head">
                <h3><span class="prompt" aria-hidden="true">{ "$ " }</span>
                    <span data-testid="tcpdump-command">{ props.numbering.tcpdump_command() }</span></h3>
                <button class="small" data-testid="numbering" aria-pressed={absolute.to_string()} onclick={toggle}
                    title="With -S, tcpdump, the diagram and the narration print the sequence numbers the headers carry; without it, numbers after the handshake count from each side's initial sequence number">
                    { "absolute numbers (-S)" }
                </button>
            </div>
            <pre class="tail" data-testid="tcpdump" tabindex="0" aria-label="tcpdump lines so far"><span class="tail-lines">
                if first > 0 { <span class="muted">{ format!("… {first} earlier lines\n") }</span> }
                if printed == 0 { <span class="muted">{ "(no segments yet)" }</span> }
                { earlier }
                if let Some(current) = current {
                    <span class="line current" aria-current="true">{ current }</span>
                }
            </span></pre>
        </section>
    }
}

#[derive(Properties, Clone)]
pub struct SsProps {
    pub host: String,
    pub snapshot: Rc<Snapshot>,
}

impl PartialEq for SsProps {
    fn eq(&self, other: &Self) -> bool {
        self.host == other.host && Rc::ptr_eq(&self.snapshot, &other.snapshot)
    }
}

#[function_component(SsPane)]
pub fn ss_pane(props: &SsProps) -> Html {
    let text = format::ss(&props.snapshot, &props.host);
    html! {
        <section class="pane" aria-label={format!("ss on {}", props.host)}>
            <h3><span class="prompt" aria-hidden="true">{ format!("{}$ ", props.host) }</span>{ "ss -tan" }</h3>
            <pre data-testid={format!("ss-{}", props.host)} tabindex="0">{ text }</pre>
        </section>
    }
}

#[derive(Properties, Clone)]
pub struct ValidationProps {
    pub kernel: &'static str,
    pub report: &'static Comparison,
}

impl PartialEq for ValidationProps {
    fn eq(&self, other: &Self) -> bool {
        // Both point into the report the build embedded: the same entry is the same report.
        self.kernel == other.kernel && std::ptr::eq(self.report, other.report)
    }
}

/// What the loopback validator found when it ran this scenario on a real kernel. The rows
/// are fetched the first time the comparison is opened (`validation_rows.rs`).
#[function_component(ValidationPanel)]
pub fn validation_panel(props: &ValidationProps) -> Html {
    let report = props.report;
    let opened = use_state(|| report.verdict == Verdict::Differs);
    let ontoggle = {
        let opened = opened.clone();
        Callback::from(move |event: Event| {
            if event.target_unchecked_into::<web_sys::Element>().has_attribute("open") {
                opened.set(true);
            }
        })
    };
    let rows = if *opened {
        html! { <ComparisonRows name={report.name} kernel={props.kernel} /> }
    } else {
        html! {}
    };
    match report.verdict {
        Verdict::Agrees => html! {
            <details class="validation agrees" data-testid="validation" {ontoggle}>
                // A scenario checked in a shortened form says how, on the verdict's own line.
                <summary>{ format!("✓ matches {}", props.kernel) }
                    if let Some(reason) = report.reason { { format!(" ({reason})") } }
                </summary>
                { rows }
            </details>
        },
        Verdict::Differs => html! {
            <details class="validation differs" data-testid="validation" open=true {ontoggle}>
                <summary>{ format!("≠ differs from {}", props.kernel) }
                    if let Some(reason) = report.reason { { format!(": {reason}") } }
                </summary>
                { rows }
            </details>
        },
        // The reason can take two lines; folded like the other verdicts, it leaves the first
        // screen to the diagram.
        Verdict::EngineOnly => html! {
            <details class="validation engine-only" data-testid="validation">
                <summary>{ "engine only: not checked on a real kernel" }</summary>
                <p>{ report.reason.unwrap_or("not reproducible on loopback") }</p>
            </details>
        },
    }
}
