//! The playground's panel: the clock and the controls that move it, the world's controls
//! (hosts, processes, undo, save, link), and the call form with what each call came to.

use std::collections::BTreeMap;
use std::rc::Rc;

use sockscope_engine::replay::Snapshot;
use sockscope_engine::trace::Phase;
use sockscope_engine::{EventKind, Trace};
use yew::prelude::*;

use super::call_form::{self, Field, CALLS, OPTIONS};
use super::playground::{returns_of, Playground, ProcessRef};
use super::widgets::{button, download, number, select, setter, shown, Offer};
use super::{cursor_at, Bench, Ctx};
use crate::model::Shared;
use crate::view::sequence::clock;

pub fn playground(ctx: &Ctx, on_copy_link: &Callback<MouseEvent>) -> Html {
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
                { button("Next event", "play-next", Offer::unless(quiet), next) }
                { button("Until idle", "play-quiet", Offer::unless(quiet), until_quiet) }
                { number("Wait (ms)", "play-wait-ms", &bench.wait_ms, setter(ctx, |bench, value| bench.wait_ms = value)) }
                { button("Wait", "play-wait", Offer::Enabled, wait) }
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
                        if ctx.show_playground(None).is_some() {
                            ctx.say(format!("Added the host {host}, linked to every other host by a 20 ms link."));
                        }
                    }
                    None => ctx.say("A playground has at most three hosts."),
                }
            }
        };
        let new_process_host = shown(&hosts, &bench.process_host, hosts.first());
        let add_process = {
            let (ctx, host) = (ctx.clone(), new_process_host.clone());
            move || {
                let name = ctx.bench.borrow_mut().playground.add_process(&host);
                ctx.bench.borrow_mut().process = name.clone();
                if ctx.show_playground(None).is_some() {
                    ctx.say(format!("Added the process {name} on {host}."));
                }
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
        let copy_link = {
            let (ctx, on_copy_link) = (ctx.clone(), on_copy_link.clone());
            Callback::from(move |event: MouseEvent| ctx.copy_playground_link(&on_copy_link, event))
        };
        html! {
            <div class="bench-row" role="group" aria-label="World">
                { button("Add host", "play-add-host", Offer::unless(hosts.len() >= super::playground::MAX_HOSTS), add_host) }
                { select("Host for a new process", "play-process-host", host_options, &new_process_host, setter(ctx, |bench, value| bench.process_host = value)) }
                { button("Add process", "play-add-process", Offer::Enabled, add_process) }
                { button("Undo", "play-undo", Offer::unless(!world.can_undo()), undo) }
                { button("New world", "play-new", Offer::Enabled, start_over) }
                { select("Hosts in a new world", "play-new-hosts", host_counts, &bench.new_hosts, setter(ctx, |bench, value| bench.new_hosts = value)) }
                { button("Save scenario", "play-save", Offer::Enabled, save) }
                <button type="button" data-testid="play-share" onclick={copy_link}>{ "Copy link" }</button>
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
                Some(ms) => Some(now_us.saturating_add(u64::from(ms) * 1000)),
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
    bench: &Bench,
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
    let (works, fields) = call_form::fields(&form.call);
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
            let host = shown(hosts, &form.host, hosts.first());
            select("to host", "call-host", options, &host, setter(ctx, |b, v| b.form.host = v))
        }
        Field::Port => number("port", "call-port", &form.port, setter(ctx, |b, v| b.form.port = v)),
        Field::Backlog => number("backlog", "call-backlog", &form.backlog, setter(ctx, |b, v| b.form.backlog = v)),
        Field::Bytes => number("bytes", "call-bytes", &form.bytes, setter(ctx, |b, v| b.form.bytes = v)),
        Field::How => {
            let options = ["SHUT_WR", "SHUT_RD", "SHUT_RDWR"].iter().map(|h| (h.to_string(), h.to_string())).collect();
            select("how", "call-how", options, &form.how, setter(ctx, |b, v| b.form.how = v))
        }
        Field::Request => {
            let options = [("SIOCINQ", "SIOCINQ (unread bytes)"), ("SIOCOUTQ", "SIOCOUTQ (unacknowledged bytes)")]
                .iter()
                .map(|(value, text)| (value.to_string(), text.to_string()))
                .collect();
            select("request", "call-request", options, &form.request, setter(ctx, |b, v| b.form.request = v))
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
            if works == call_form::Works::OnDescriptor {
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
        let names: Vec<String> = world.scenario.hosts.iter().map(|host| host.name.clone()).collect();
        // The host the menu shows.
        let host = shown(&names, &bench.form.host, names.first());
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
    // A call past the run's time limit is never made: say so rather than the last result.
    let from_now = loaded.trace.events.partition_point(|event| event.t_us < now_us);
    let made = loaded.trace.events[from_now..].iter().any(|event| {
        matches!(&event.kind, EventKind::Syscall { process: name, phase: Phase::Enter, .. } if *name == process.name)
    });
    if made {
        ctx.say(last_call(&loaded.trace, &process.name, now_us));
    } else {
        ctx.bench.borrow_mut().playground.undo();
        ctx.show_playground(None);
        ctx.say("That call was not made: the clock is past the run's time limit (3 h of simulated time). Undo, or start a new world.");
    }
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
fn numbers_of(ctx: &Ctx, loaded: &Shared) -> Rc<BTreeMap<String, String>> {
    let mut bench = ctx.bench.borrow_mut();
    if let Some((run, numbers)) = &bench.numbers {
        if run == loaded {
            return numbers.clone();
        }
    }
    let numbers = Rc::new(descriptor_numbers(&bench.playground, &loaded.trace));
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
