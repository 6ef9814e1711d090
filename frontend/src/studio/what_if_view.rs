//! The what-if panel: the segment to change and what to do to it, the host to crash, the runs
//! kept, and the fork compared with the original, side by side.

use sockscope_engine::trace::Fate;
use sockscope_engine::{EventKind, Trace};
use yew::prelude::*;

use super::compare::Change;
use super::fork::{self, WhatIf};
use super::widgets::{button, number, select, setter, shown, Offer};
use super::{Bench, Ctx};
use crate::view::sequence::clock;

/// How many of the segments sent last before the moment shown the Segment list offers.
const SEGMENT_CHOICES: usize = 40;

pub fn what_if(ctx: &Ctx) -> Html {
    let bench = ctx.bench.borrow();
    let loaded = ctx.page.loaded.clone();
    if loaded.script.is_some() {
        // A fork changes the world and replays its programs; a script's peer is not a program
        // but a list of segments written for the original run, which a changed run would
        // meet no more.
        return html! {
            <p class="bench-hint" data-testid="what-if">
                { "A packetdrill script's run cannot be forked: its peer sends the segments the script lists, written for this run, not for a changed one. Predict mode and the time–sequence graph work on it as on any run." }
            </p>
        };
    }
    let trace = &loaded.trace;
    let hosts: Vec<String> = loaded.hosts.clone();
    let names = super::hosts_of(trace);
    let sent = |index: usize| match trace.events.get(index).map(|event| &event.kind) {
        Some(EventKind::Segment(segment)) if segment.fate == Fate::Sent => Some(segment),
        _ => None,
    };
    let describe = |index: usize| {
        let segment = sent(index)?;
        let t_us = trace.events[index].t_us;
        let bytes = if segment.len > 0 { format!(" {} bytes", segment.len) } else { String::new() };
        let (from, to) = (super::host_name(&names, segment.from), super::host_name(&names, segment.to));
        Some((index.to_string(), format!("{} {} {from}→{to}{bytes}", clock(t_us as f64), segment.flags.letters())))
    };
    // The segments sent last before the moment shown (those the diagram shows), and the one
    // picked: a list of every segment of a long run would be slow to draw at every step.
    let cursor = ctx.page.playback.cursor.min(trace.events.len());
    let mut recent: Vec<usize> =
        (0..cursor).rev().filter(|&index| sent(index).is_some()).take(SEGMENT_CHOICES).collect();
    if let Some(sent) = bench.segment.filter(|sent| !recent.contains(sent)) {
        recent.push(sent);
    }
    recent.sort_unstable();
    let chosen = bench.segment.map(|sent| sent.to_string()).unwrap_or_default();
    let mut segment_options = vec![(String::new(), "(pick a segment)".to_string())];
    segment_options.extend(recent.into_iter().filter_map(describe));
    let pick = {
        let ctx = ctx.clone();
        Callback::from(move |value: String| match value.parse() {
            Ok(sent) => ctx.pick_segment(sent),
            Err(_) => {
                ctx.bench.borrow_mut().segment = None;
                ctx.redraw();
            }
        })
    };
    let act = |what_if: fn(&Ctx) -> WhatIf, text: &str, testid: &str| {
        let ctx = ctx.clone();
        button(text, testid, Offer::unless(bench.segment.is_none()), move || {
            let what_if = what_if(&ctx);
            ctx.fork_segment(what_if)
        })
    };
    let delay_button = {
        let ctx = ctx.clone();
        button("Delay it", "what-if-delay", Offer::unless(bench.segment.is_none()), move || {
            let ms = ctx.bench.borrow().delay_ms.trim().parse::<u32>().ok().filter(|ms| (1..=10_000).contains(ms));
            match ms {
                Some(ms) => ctx.fork_segment(WhatIf::Delay(ms)),
                None => ctx.say("The delay must be a whole number of milliseconds from 1 to 10000."),
            }
        })
    };
    let crash_host = shown(&hosts, &bench.crash_host, hosts.last());
    let crash = {
        let (ctx, host) = (ctx.clone(), crash_host.clone());
        move || {
            let t_us = ctx.page.playback.sim_time().max(0.0) as u64;
            ctx.add_fork(fork::crash(&host, t_us));
        }
    };
    let tabs = bench.runs.iter().enumerate().map(|(index, run)| {
        let ctx = ctx.clone();
        html! {
            <button type="button" aria-pressed={(index == bench.shown).to_string()} data-testid="run-tab"
                onclick={move |_| ctx.show_run(index)}>{ run.label.clone() }</button>
        }
    });
    html! {
        <div class="bench-body" data-testid="what-if">
            <p class="bench-hint">{ "Click an arrow on the diagram (or choose it here) and change its fate, or crash a host at the moment shown: the run forks, and both runs are kept." }</p>
            <div class="bench-controls">
            <div class="bench-row" role="group" aria-label="Segment">
                { select("Segment", "what-if-segment", segment_options, &chosen, pick) }
                { act(|_| WhatIf::Drop, "Drop it", "what-if-drop") }
                { delay_button }
                { number("by (ms)", "what-if-delay-ms", &bench.delay_ms, setter(ctx, |b, v| b.delay_ms = v)) }
                { act(|_| WhatIf::Duplicate, "Duplicate it", "what-if-duplicate") }
            </div>
            <div class="bench-row" role="group" aria-label="Crash">
                { select("Host", "what-if-host", hosts.iter().map(|h| (h.clone(), h.clone())).collect(), &crash_host, setter(ctx, |b, v| b.crash_host = v)) }
                { button("Crash it now", "what-if-crash", Offer::unless(hosts.is_empty()), crash) }
            </div>
            </div>
            if bench.runs.len() > 1 {
                <div class="bench-row run-tabs" role="group" aria-label="Runs">{ for tabs }</div>
            }
            { comparison(&bench, trace) }
        </div>
    }
}

/// The original and the fork shown, side by side: the events that differ.
fn comparison(bench: &Bench, fork_trace: &Trace) -> Html {
    let Some(comparison) = &bench.comparison else { return html! {} };
    let Some(original) = bench.runs.first() else { return html! {} };
    let at = |trace: &Trace, index: Option<usize>| {
        index.and_then(|index| trace.events.get(index)).map_or_else(String::new, |event| clock(event.t_us as f64))
    };
    let rows: Vec<Html> = comparison
        .differences()
        .take(200)
        .map(|row| {
            let (class, mark) = match row.change {
                Change::OnlyLeft => ("only-left", "only in the original"),
                Change::OnlyRight => ("only-right", "only in this fork"),
                Change::Moved => ("moved", "at another time"),
                Change::Same => ("same", ""),
            };
            let left = if row.left.is_some() {
                format!("{} {}", at(&original.loaded.trace, row.left), row.text)
            } else {
                String::new()
            };
            let right =
                if row.right.is_some() { format!("{} {}", at(fork_trace, row.right), row.text) } else { String::new() };
            html! {
                <tr class={class} data-testid="difference">
                    <td>{ left }</td>
                    <td>{ right }</td>
                    <td>{ mark }</td>
                </tr>
            }
        })
        .collect();
    let count = comparison.differences().count();
    let same = comparison.rows.len() - count;
    html! {
        // A region of its own that scrolls, so that a long list does not push the diagram away;
        // it takes the keyboard's focus to be scrolled without a mouse.
        <div class="compare-wrap" tabindex="0" role="region" aria-label="What differs between the original and this fork">
            <table class="compare" data-testid="comparison">
                <caption>{ format!("What differs: {count} events ({same} are the same in both runs)") }</caption>
                <thead><tr><th scope="col">{ "Original" }</th><th scope="col">{ "This fork" }</th><th scope="col">{ "Difference" }</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
        </div>
    }
}
