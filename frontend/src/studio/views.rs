//! The workbench's panel: its two modes' controls, the what-if comparison, and the status
//! line that says what each action did. Every control is a native button, select or input
//! with a label, so it works by keyboard; the status line is announced by screen readers.

use std::collections::BTreeMap;

use sockscope_engine::replay::Snapshot;
use sockscope_engine::trace::{Fate, Phase};
use sockscope_engine::{EventKind, Trace};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::call_form::{self, Field, CALLS, OPTIONS};
use super::compare::Change;
use super::fork::{self, WhatIf};
use super::playground::{returns_of, Playground, ProcessRef};
use super::{cursor_at, Ctx, Mode};
use crate::view::sequence::clock;

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
    };
    let said = ctx.bench.borrow().said.clone();
    html! {
        <section class="bench" aria-label="Studio" data-testid="bench">
            <div class="bench-modes" role="group" aria-label="Studio mode">
                { tab(Mode::WhatIf, "What if…", "mode-what-if") }
                { tab(Mode::Playground, "Playground", "mode-playground") }
                { tab(Mode::Predict, "Predict", "mode-predict") }
            </div>
            { body }
            <p class="bench-status" role="status" aria-live="polite" data-testid="bench-status">{ said }</p>
        </section>
    }
}

/// The value of the input or select an event came from.
fn value_of(event: &Event) -> String {
    if let Some(input) = event.target_dyn_into::<HtmlInputElement>() {
        input.value()
    } else if let Some(select) = event.target_dyn_into::<HtmlSelectElement>() {
        select.value()
    } else {
        String::new()
    }
}

/// A select of `(value, text)` options with `selected` chosen, calling `set` on change.
fn select(label: &str, testid: &str, options: Vec<(String, String)>, selected: &str, set: Callback<String>) -> Html {
    html! {
        <label>
            <span>{ label.to_string() }</span>
            <select data-testid={testid.to_string()} onchange={move |event: Event| set.emit(value_of(&event))}>
                { for options.into_iter().map(|(value, text)| html! {
                    <option value={value.clone()} selected={value == selected}>{ text }</option>
                }) }
            </select>
        </label>
    }
}

fn number(label: &str, testid: &str, value: &str, set: Callback<String>) -> Html {
    html! {
        <label>
            <span>{ label.to_string() }</span>
            <input type="text" inputmode="numeric" size="7" data-testid={testid.to_string()} value={value.to_string()}
                oninput={move |event: InputEvent| set.emit(value_of(&event))} />
        </label>
    }
}

/// A callback that changes the workbench with `change` and draws it again.
fn setter(ctx: &Ctx, change: fn(&mut super::Bench, String)) -> Callback<String> {
    let ctx = ctx.clone();
    Callback::from(move |value: String| {
        change(&mut ctx.bench.borrow_mut(), value);
        ctx.redraw();
    })
}

fn button(text: &str, testid: &str, disabled: bool, action: impl Fn() + 'static) -> Html {
    html! {
        <button type="button" data-testid={testid.to_string()} disabled={disabled} onclick={move |_| action()}>{ text.to_string() }</button>
    }
}

// ----- the playground -----

fn playground(ctx: &Ctx, on_copy_link: &Callback<MouseEvent>) -> Html {
    let loaded = ctx.page.loaded.clone();
    let numbers = numbers_of(ctx, &loaded);
    let bench = ctx.bench.borrow();
    let world = &bench.playground;
    let trace = &loaded.trace;
    let now_us = world.now_us;
    let snapshot = loaded.timeline.at(trace, cursor_at(trace, now_us));
    let processes = world.processes();
    let chosen = processes.iter().find(|process| process.name == bench.process).or(processes.first()).cloned();
    let hosts: Vec<String> = world.scenario.hosts.iter().map(|host| host.name.clone()).collect();
    let last_event = trace.events.last().map_or(0, |event| event.t_us);
    let quiet = now_us >= last_event;

    let time_controls = {
        let next = {
            let ctx = ctx.clone();
            move || advance(&ctx, Advance::NextEvent)
        };
        let until_quiet = {
            let ctx = ctx.clone();
            move || advance(&ctx, Advance::UntilQuiet)
        };
        let wait = {
            let ctx = ctx.clone();
            move || advance(&ctx, Advance::Wait)
        };
        html! {
            <div class="bench-row" role="group" aria-label="Time">
                <span class="bench-clock" data-testid="play-clock">{ format!("Clock: {}", clock(now_us as f64)) }</span>
                { button("Next event", "play-next", quiet, next) }
                { button("Until idle", "play-quiet", quiet, until_quiet) }
                { number("Wait (ms)", "play-wait-ms", &bench.wait_ms, setter(ctx, |bench, value| bench.wait_ms = value)) }
                { button("Wait", "play-wait", false, wait) }
            </div>
        }
    };

    let world_controls = {
        let add_host = {
            let ctx = ctx.clone();
            move || {
                let added = ctx.bench.borrow_mut().playground.add_host();
                match added {
                    Some(host) => {
                        ctx.show_playground(None);
                        ctx.say(format!("Added the host {host}, linked to every other host by a 20 ms link."));
                    }
                    None => ctx.say("A playground has at most three hosts."),
                }
            }
        };
        let add_process = {
            let ctx = ctx.clone();
            move || {
                let host = ctx.bench.borrow().form.host.clone();
                let name = ctx.bench.borrow_mut().playground.add_process(&host);
                ctx.bench.borrow_mut().process = name.clone();
                ctx.show_playground(None);
                ctx.say(format!("Added the process {name} on {host}."));
            }
        };
        let undo = {
            let ctx = ctx.clone();
            move || {
                if ctx.bench.borrow_mut().playground.undo() {
                    ctx.show_playground(None);
                    ctx.say("Undone: the world is as it was before your last action.");
                }
            }
        };
        let start_over = {
            let ctx = ctx.clone();
            move || {
                let hosts = ctx.bench.borrow().new_hosts.parse().unwrap_or(2);
                let world = Playground::with_hosts(hosts);
                let names: Vec<String> = world.scenario.hosts.iter().map(|host| host.name.clone()).collect();
                let mut bench = ctx.bench.borrow_mut();
                bench.process = world.processes().last().map(|process| process.name.clone()).unwrap_or_default();
                bench.playground = world;
                drop(bench);
                ctx.show_playground(None);
                ctx.say(format!("A new world of {}: nothing done yet.", names.join(", ")));
            }
        };
        let host_counts = (1..=super::playground::MAX_HOSTS)
            .map(|n| (n.to_string(), format!("{n} host{}", if n == 1 { "" } else { "s" })))
            .collect();
        let save = {
            let ctx = ctx.clone();
            move || {
                let text = ctx.bench.borrow().playground.text();
                match download("playground.json", &text) {
                    Ok(()) => ctx.say("Saved as playground.json: open it in the editor below, or with sockscope run."),
                    Err(()) => ctx.say("The browser did not allow the download."),
                }
            }
        };
        let host_options = hosts.iter().map(|host| (host.clone(), host.clone())).collect();
        html! {
            <div class="bench-row" role="group" aria-label="World">
                { button("Add host", "play-add-host", hosts.len() >= super::playground::MAX_HOSTS, add_host) }
                { select("new process on", "play-process-host", host_options, &bench.form.host, setter(ctx, |bench, value| bench.form.host = value)) }
                { button("Add process", "play-add-process", false, add_process) }
                { button("Undo", "play-undo", !world.can_undo(), undo) }
                { button("New world", "play-new", false, start_over) }
                { select("of", "play-new-hosts", host_counts, &bench.new_hosts, setter(ctx, |bench, value| bench.new_hosts = value)) }
                { button("Save scenario", "play-save", false, save) }
                <button type="button" data-testid="play-share" onclick={on_copy_link.clone()}>{ "Copy link" }</button>
            </div>
        }
    };

    let form = match &chosen {
        Some(process) => call_form(ctx, &bench, process, &snapshot, &numbers, &hosts),
        None => html! { <p>{ "Add a process to make calls." }</p> },
    };
    html! {
        <div class="bench-body" data-testid="playground">
            <p class="bench-hint">{ "Make the calls a program would make: the world runs each at the clock, and every pane follows. “Until idle” runs on until nothing is in flight and nothing is due within 200 ms (long timers such as TIME_WAIT keep running)." }</p>
            <div class="bench-controls">
                { time_controls }
                { world_controls }
            </div>
            { form }
        </div>
    }
}

/// How the reader moves the playground's clock.
#[derive(Clone, Copy)]
enum Advance {
    NextEvent,
    UntilQuiet,
    Wait,
}

fn advance(ctx: &Ctx, how: Advance) {
    let trace = ctx.page.loaded.trace.clone();
    let now_us = ctx.bench.borrow().playground.now_us;
    let target = match how {
        Advance::NextEvent => trace.events.iter().map(|event| event.t_us).find(|&t| t > now_us),
        Advance::UntilQuiet => super::playground::next_quiet(&trace, now_us),
        Advance::Wait => {
            let ms = ctx.bench.borrow().wait_ms.trim().parse::<u32>().ok().filter(|ms| *ms > 0);
            match ms {
                Some(ms) => Some(now_us + u64::from(ms) * 1000),
                None => return ctx.say("The wait must be a whole number of milliseconds, at least 1."),
            }
        }
    };
    let Some(target) = target else {
        return ctx.say(
            "Nothing more happens: every process waits for a call or is blocked, and nothing is in flight or due.",
        );
    };
    ctx.bench.borrow_mut().playground.advance_to(target);
    ctx.show_playground(None);
    let happened = trace.events.iter().filter(|event| event.t_us > now_us && event.t_us <= target).count();
    ctx.say(format!(
        "The clock is at {}: {happened} events happened since {}.",
        clock(target as f64),
        clock(now_us as f64)
    ));
}

/// The form of a call on `process`.
fn call_form(
    ctx: &Ctx,
    bench: &super::Bench,
    process: &ProcessRef,
    snapshot: &Snapshot,
    numbers: &BTreeMap<String, String>,
    hosts: &[String],
) -> Html {
    let world = &bench.playground;
    let form = &bench.form;
    let processes = world.processes();
    let blocked =
        snapshot.processes.values().find(|view| view.name == process.name).and_then(|view| view.call.as_ref()).map(
            |call| format!("{}() {}", call.call, call.blocked.clone().unwrap_or_else(|| "is in progress".to_string())),
        );
    // Only descriptors the kernel gave: a socket() or accept() that failed, or an accept()
    // still waiting, named none.
    let descriptors: Vec<(String, String)> = world
        .descriptors(process)
        .into_iter()
        .filter_map(|name| match numbers.get(&name) {
            Some(result) if !result.starts_with('-') => Some((name.clone(), format!("{name} (fd {result})"))),
            _ => None,
        })
        .collect();
    let fd = if descriptors.iter().any(|(name, _)| *name == form.fd) {
        form.fd.clone()
    } else {
        descriptors.last().map(|(name, _)| name.clone()).unwrap_or_default()
    };
    let (needs_fd, fields) = call_form::fields(&form.call);
    let process_options = processes.iter().map(|p| (p.name.clone(), format!("{} on {}", p.name, p.host))).collect();
    let call_options = CALLS
        .iter()
        .map(|&call| {
            let text = match call {
                "send" => "send() / write()".to_string(),
                "recv" => "recv() / read()".to_string(),
                call => format!("{call}()"),
            };
            (call.to_string(), text)
        })
        .collect();
    let field_view = |field: &Field| match field {
        Field::Host => {
            // Its own host too: a connection to the host's own address goes over its loopback.
            let options = hosts.iter().map(|h| (h.clone(), h.clone())).collect();
            let host =
                if hosts.contains(&form.host) { form.host.clone() } else { hosts.first().cloned().unwrap_or_default() };
            select("to host", "call-host", options, &host, setter(ctx, |b, v| b.form.host = v))
        }
        Field::Port => number("port", "call-port", &form.port, setter(ctx, |b, v| b.form.port = v)),
        Field::Backlog => number("backlog", "call-backlog", &form.backlog, setter(ctx, |b, v| b.form.backlog = v)),
        Field::Bytes => number("bytes", "call-bytes", &form.bytes, setter(ctx, |b, v| b.form.bytes = v)),
        Field::How => {
            let options = ["SHUT_WR", "SHUT_RD", "SHUT_RDWR"].iter().map(|h| (h.to_string(), h.to_string())).collect();
            select("how", "call-how", options, &form.how, setter(ctx, |b, v| b.form.how = v))
        }
        Field::Opt => {
            let options = OPTIONS.iter().map(|(name, _)| (name.to_string(), name.to_string())).collect();
            select("option", "call-opt", options, &form.opt, setter(ctx, |b, v| b.form.opt = v))
        }
        Field::Value => {
            let meaning = OPTIONS.iter().find(|(name, _)| *name == form.opt).map_or("", |(_, meaning)| meaning);
            number(&format!("value ({meaning})"), "call-value", &form.value, setter(ctx, |b, v| b.form.value = v))
        }
        Field::Nonblock => {
            let options = vec![
                ("on".to_string(), "O_NONBLOCK on".to_string()),
                ("off".to_string(), "O_NONBLOCK off".to_string()),
            ];
            select("mode", "call-nonblock", options, &form.nonblock, setter(ctx, |b, v| b.form.nonblock = v))
        }
    };
    let on_call = {
        let (ctx, process, fd) = (ctx.clone(), process.clone(), fd.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            make_call(&ctx, &process, &fd);
        })
    };
    html! {
        <form class="bench-row call-form" aria-label="System call" data-testid="call-form" onsubmit={on_call}>
            { select("Process", "call-process", process_options, &process.name, setter(ctx, |b, v| b.process = v)) }
            { select("Call", "call-name", call_options, &form.call, setter(ctx, |b, v| b.form.call = v)) }
            if needs_fd {
                { select("descriptor", "call-fd", descriptors, &fd, setter(ctx, |b, v| b.form.fd = v)) }
            }
            { for fields.iter().map(field_view) }
            <button type="submit" data-testid="call-submit" disabled={blocked.is_some()}>{ "Call" }</button>
            if let Some(blocked) = blocked {
                <p class="bench-blocked" data-testid="call-blocked">
                    { format!("{} is blocked: {blocked}. Move the clock on until it returns.", process.name) }
                </p>
            }
        </form>
    }
}

/// Makes the form's call on `process` with descriptor `fd`, runs the world and says what
/// the call did.
fn make_call(ctx: &Ctx, process: &ProcessRef, fd: &str) {
    let made = {
        let bench = ctx.bench.borrow();
        let world = &bench.playground;
        let names: Vec<&String> = world.scenario.hosts.iter().map(|host| &host.name).collect();
        // The host the menu shows when the one last chosen is not in this world.
        let host = if names.contains(&&bench.form.host) {
            bench.form.host.clone()
        } else {
            names.first().map(|n| n.to_string()).unwrap_or_default()
        };
        let form = call_form::CallForm { fd: fd.to_string(), host, ..bench.form.clone() };
        form.call(
            |prefix| world.unused_descriptor(prefix),
            |host| world.scenario.hosts.iter().find(|spec| spec.name == host).map(|spec| spec.addr),
        )
    };
    let call = match made {
        Ok(call) => call,
        Err(why) => return ctx.say(why),
    };
    ctx.bench.borrow_mut().playground.call(process, call);
    let Some(loaded) = ctx.show_playground(None) else { return };
    let now_us = ctx.bench.borrow().playground.now_us;
    ctx.say(last_call(&loaded.trace, &process.name, now_us));
}

/// What the last call of `process` came to in `trace` by `now_us`: its result, or why it
/// blocks.
pub fn last_call(trace: &Trace, process: &str, now_us: u64) -> String {
    let past = &trace.events[..cursor_at(trace, now_us)];
    let last = past.iter().rev().find_map(|event| match &event.kind {
        EventKind::Syscall { process: name, call, args, phase, result, errno, reason, .. } if name == process => {
            Some((call, args, *phase, *result, *errno, reason))
        }
        _ => None,
    });
    match last {
        Some((call, args, Phase::Return, result, errno, _)) => {
            format!("{process}: {call}({args}) returned {}.", sockscope_engine::replay::result_text(result, errno))
        }
        Some((call, args, _, _, _, reason)) => format!(
            "{process}: {call}({args}) blocks: {}. Move the clock on to see it return.",
            reason.as_deref().unwrap_or("waiting")
        ),
        None => format!("{process} has made no call yet."),
    }
}

/// [`descriptor_numbers`] of the run on screen, read once per run.
fn numbers_of(ctx: &Ctx, loaded: &crate::model::Shared) -> std::rc::Rc<BTreeMap<String, String>> {
    let mut bench = ctx.bench.borrow_mut();
    if let Some((run, numbers)) = &bench.numbers {
        if run == loaded {
            return numbers.clone();
        }
    }
    let numbers = std::rc::Rc::new(descriptor_numbers(&bench.playground, &loaded.trace));
    bench.numbers = Some((loaded.clone(), numbers.clone()));
    numbers
}

/// The result of each descriptor-making step (the descriptor's number, or the error), by
/// descriptor name; names are unique in a playground.
fn descriptor_numbers(world: &Playground, trace: &Trace) -> BTreeMap<String, String> {
    let mut numbers = BTreeMap::new();
    for process in world.processes() {
        let returns = returns_of(trace, &process.name);
        for (index, name) in world.created_names(&process).into_iter().enumerate() {
            if let (Some(name), Some(result)) = (name, returns.get(index)) {
                numbers.insert(name, result.clone());
            }
        }
    }
    numbers
}

/// Offers `text` as a file called `name`.
fn download(name: &str, text: &str) -> Result<(), ()> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let blob = web_sys::Blob::new_with_str_sequence(&parts).map_err(drop)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(drop)?;
    let document = gloo::utils::document();
    let link: web_sys::HtmlElement = document.create_element("a").map_err(drop)?.dyn_into().map_err(drop)?;
    link.set_attribute("href", &url).map_err(drop)?;
    link.set_attribute("download", name).map_err(drop)?;
    link.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

use wasm_bindgen::JsCast;

// ----- predict mode -----

fn predict_view(ctx: &Ctx) -> Html {
    let bench = ctx.bench.borrow();
    let Some(predicting) = &bench.predict else { return html! {} };
    let score = html! { <p class="predict-score" data-testid="predict-score">{ predicting.score.text() }</p> };
    let next = {
        let ctx = ctx.clone();
        move || ctx.next_question(ctx.page.playback.cursor)
    };
    let Some(question) = predicting.current.and_then(|index| predicting.questions.get(index)) else {
        return html! {
            <div class="bench-body" data-testid="predict">
                <p class="bench-hint">{ "Predict mode asks, before each step that matters, what will happen next. There is no question left in this run from the moment shown: go back with the player's controls, then ask again." }</p>
                { score }
                { button("Ask again from here", "predict-next", false, next) }
            </div>
        };
    };
    let choices = question.choices.iter().enumerate().map(|(index, choice)| {
        let ctx = ctx.clone();
        let class = match predicting.chosen {
            Some(_) if index == question.answer => "right",
            Some(chosen) if chosen == index => "wrong",
            _ => "",
        };
        html! {
            <li>
                <button type="button" class={class} data-testid="predict-choice" disabled={predicting.chosen.is_some()}
                    onclick={move |_| ctx.answer(index)}>{ choice.clone() }</button>
            </li>
        }
    });
    let verdict = predicting.chosen.map(|chosen| {
        let text = if chosen == question.answer { "Right." } else { "Not this time." };
        html! {
            <div class="predict-verdict" data-testid="predict-verdict">
                <p><strong>{ text }</strong>{ format!(" The answer: {}.", question.choices[question.answer]) }</p>
                <p data-testid="predict-why">{ question.why.clone() }</p>
                { button("Next question", "predict-next", false, next.clone()) }
            </div>
        }
    });
    html! {
        <div class="bench-body" data-testid="predict">
            <p class="bench-hint">{ "Before each step that matters, say what will happen; the step then shows, with why." }</p>
            { score }
            <fieldset class="predict-question">
                <legend data-testid="predict-prompt">{ question.prompt.clone() }</legend>
                <ul class="predict-choices">{ for choices }</ul>
            </fieldset>
            { verdict.unwrap_or_default() }
        </div>
    }
}

// ----- what-if forks -----

/// How many of the segments sent last before the moment shown the Segment list offers.
const SEGMENT_CHOICES: usize = 40;

fn what_if(ctx: &Ctx) -> Html {
    let bench = ctx.bench.borrow();
    let loaded = ctx.page.loaded.clone();
    let trace = &loaded.trace;
    let hosts: Vec<String> = loaded.hosts.clone();
    // The hosts are declared first, before anything happens.
    let names: BTreeMap<sockscope_engine::Ipv4, String> = trace
        .events
        .iter()
        .map_while(|event| match &event.kind {
            EventKind::Host { host, addr } => Some((*addr, host.clone())),
            _ => None,
        })
        .collect();
    let describe = |index: usize| {
        let event = trace.events.get(index)?;
        let EventKind::Segment(segment) = &event.kind else { return None };
        if segment.fate != Fate::Sent {
            return None;
        }
        let host = |ip| names.get(&ip).cloned().unwrap_or_default();
        let bytes = if segment.len > 0 { format!(" {} bytes", segment.len) } else { String::new() };
        let (from, to) = (host(segment.from.ip), host(segment.to.ip));
        Some((
            index.to_string(),
            format!("{} {} {from}→{to}{bytes}", clock(event.t_us as f64), segment.flags.letters()),
        ))
    };
    // The segments sent last before the moment shown (those the diagram shows), and the one
    // picked: a list of every segment of a long run would be slow to draw at every step.
    let cursor = ctx.page.playback.cursor.min(trace.events.len());
    let mut recent: Vec<usize> =
        (0..cursor).rev().filter(|&index| describe(index).is_some()).take(SEGMENT_CHOICES).collect();
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
        button(text, testid, bench.segment.is_none(), move || {
            let what_if = what_if(&ctx);
            ctx.fork_segment(what_if)
        })
    };
    let crash_host = if hosts.contains(&bench.crash_host) {
        bench.crash_host.clone()
    } else {
        hosts.last().cloned().unwrap_or_default()
    };
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
                { act(|ctx| WhatIf::Delay(ctx.bench.borrow().delay_ms.trim().parse().unwrap_or(200).min(10_000)), "Delay it", "what-if-delay") }
                { number("by (ms)", "what-if-delay-ms", &bench.delay_ms, setter(ctx, |b, v| b.delay_ms = v)) }
                { act(|_| WhatIf::Duplicate, "Duplicate it", "what-if-duplicate") }
            </div>
            <div class="bench-row" role="group" aria-label="Crash">
                { select("Host", "what-if-host", hosts.iter().map(|h| (h.clone(), h.clone())).collect(), &crash_host, setter(ctx, |b, v| b.crash_host = v)) }
                { button("Crash it now", "what-if-crash", hosts.is_empty(), crash) }
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
fn comparison(bench: &super::Bench, fork_trace: &Trace) -> Html {
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
