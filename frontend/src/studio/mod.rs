//! The studio: where the reader acts instead of watching. Two modes share one panel, the
//! workbench, drawn between the player's controls and its diagram:
//!
//! - the playground ([`playground`], [`call_form`]): a world built one system call at a time;
//! - what-if forks ([`fork`], [`compare`]): the run shown, again, with one segment dropped,
//!   delayed or duplicated, or a host crashed, kept beside the original and compared with it.
//!
//! Only the studio's build (`src/bin/sockscope-studio.rs`) hands [`STUDIO`] to the page, so
//! the player's build, which every visitor downloads, leaves this code out; static/boot.js
//! loads the studio's build when the address says `studio=1`. Each run the studio makes is
//! shown through the page's own reducer ([`crate::page_state::Action::Show`]), so every pane
//! follows it.

pub mod call_form;
pub mod compare;
pub mod embed_api;
mod embed_port;
mod export;
pub mod fork;
pub mod playground;
mod playground_view;
mod plot_view;
pub mod predict;
mod predict_view;
pub mod script_run;
mod script_view;
pub mod series;
mod series_view;
pub mod time_sequence;
mod views;
mod what_if_view;
mod widgets;

use std::cell::RefCell;
use std::rc::Rc;

use sockscope_engine::replay::Snapshot;
use sockscope_engine::scenario::Fault;
use sockscope_engine::{Scenario, Trace};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::model::{self, Shared};
use crate::page_state::{Action, Shown};
use crate::url::percent_encode;
use crate::{share, BenchProps, Studio};

use call_form::CallForm;
use compare::Comparison;
use embed_api::{Command, Report};
use embed_port::EmbedPort;
use fork::WhatIf;
use playground::Playground;

/// The studio, as the studio's build hands it to the page.
pub const STUDIO: Studio = Studio { bench: render, load_custom: script_run::load_custom };

fn render(props: BenchProps) -> Html {
    html! { <Workbench ..props /> }
}

/// Which of the workbench's two modes is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    WhatIf,
    Playground,
    Predict,
    /// The time–sequence graph of a connection.
    Plot,
}

/// Whether the workbench's panel is on the page. An embed a course page drives (`api=`) has
/// it closed until the page turns predict mode on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Open,
    Closed,
}

/// A run the reader can switch to: the original, or a fork of it.
pub struct RunTab {
    pub label: String,
    pub scenario: Scenario,
    /// The faults this fork added to the original, in the order added.
    pub added: Vec<Fault>,
    pub loaded: Shared,
    /// This run compared with the original (none for the original itself).
    pub comparison: Option<Rc<Comparison>>,
}

/// Everything the workbench holds.
pub struct Bench {
    pub mode: Mode,
    pub panel: Panel,
    /// The embedding API's way out, when the address allowed a page to drive this embed.
    pub port: Option<Rc<EmbedPort>>,
    /// What the address's `api=` listed that is not an origin, to tell the course author.
    pub refused_origins: Vec<String>,
    pub playground: Playground,
    pub form: CallForm,
    /// The process the form calls on, by name.
    pub process: String,
    /// The host "Add process" puts a process on.
    pub process_host: String,
    pub wait_ms: String,
    /// How many hosts "New world" makes.
    pub new_hosts: String,
    pub delay_ms: String,
    pub crash_host: String,
    pub runs: Vec<RunTab>,
    pub shown: usize,
    pub comparison: Option<Rc<Comparison>>,
    /// The `sent` event of the segment the what-if actions apply to, in the run shown.
    pub segment: Option<usize>,
    /// What the last action did, for the status line that screen readers announce.
    pub said: String,
    /// The run the workbench put on the page last, to tell it from one the reader opened
    /// with the picker or the editor.
    pub last_shown: Option<Shared>,
    /// The descriptor numbers of the playground's run on screen (see `views.rs`), kept so that
    /// playing and seeking do not read the whole run again at every frame.
    pub numbers: Option<(Shared, Rc<std::collections::BTreeMap<String, String>>)>,
    /// The direction of the connection the time–sequence graph shows (the busiest at first).
    pub plotted: Option<time_sequence::Direction>,
    /// The graph last drawn, for the run it was drawn from.
    pub plot_cache: Option<plot_view::PlotCache>,
    /// Predict mode's questions about the run on screen, and the answers given.
    pub predict: Option<Predicting>,
    /// The playground's world waiting to be packed into the address (see [`Ctx::flush_pack`]).
    pub pending_pack: Option<PendingPack>,
}

/// A world to pack for the address once the reader pauses: packing after every call would
/// cost each call a few milliseconds of the frame it needs.
pub struct PendingPack {
    text: String,
    loaded: Shared,
    /// Dropping it cancels the pack it would start.
    _timer: gloo::timers::callback::Timeout,
}

/// Predict mode on one run: its questions, the one asked, and the score.
pub struct Predicting {
    pub run: Shared,
    pub questions: Rc<Vec<predict::Question>>,
    /// The author's questions whose moments this run does not have, named for the reader.
    pub unplaced: Vec<String>,
    /// Why the author's questions could not be read, if they could not.
    pub unreadable: Option<String>,
    /// The question on screen, by index.
    pub current: Option<usize>,
    /// The choice made for it, once answered.
    pub chosen: Option<usize>,
    pub score: predict::Score,
}

type Handle = Rc<RefCell<Bench>>;

/// How long the reader pauses before the playground's world is packed into the address.
const PACK_AFTER_MS: u32 = 300;

#[function_component(Workbench)]
fn workbench(props: &BenchProps) -> Html {
    let bench: Handle = {
        let page = props.page.clone();
        let query = props.query.clone();
        use_mut_ref(move || start(&page, &query))
    };
    let redraw = use_force_update();
    let ctx = Ctx { bench: bench.clone(), page: props.page.clone(), redraw: redraw.clone() };

    // The first run: the playground or the fork the address asked for.
    {
        let ctx = ctx.clone();
        let query = props.query.clone();
        use_effect_with((), move |_| {
            let mode = ctx.bench.borrow().mode;
            if mode == Mode::Playground {
                ctx.show_playground(None);
            } else if mode == Mode::Predict {
                ctx.start_predict();
            } else if let Some(faults) = query.fork.as_deref() {
                // The address's `t` counts the fork's events, not the original's.
                let cursor = query.t.as_deref().and_then(|t| t.parse().ok());
                ctx.open_fork(faults, cursor);
            }
        });
    }
    // A scenario the reader opened with the picker or the editor becomes the original.
    {
        let ctx = ctx.clone();
        use_effect_with(props.page.loaded.clone(), move |loaded| {
            let known = {
                let bench = ctx.bench.borrow();
                bench.last_shown.as_ref() == Some(loaded) || bench.runs.iter().any(|run| run.loaded == *loaded)
            };
            if !known {
                ctx.reset_runs(loaded.clone());
            }
        });
    }
    // A click on an arrow of the diagram picks that segment for the what-if actions.
    {
        let ctx = ctx.clone();
        use_effect_with((), move |_| {
            let listener = gloo::events::EventListener::new(&gloo::utils::document(), "click", move |event| {
                let Some(target) = event.target().and_then(|target| target.dyn_into::<web_sys::Element>().ok()) else {
                    return;
                };
                let Ok(Some(arrow)) = target.closest("[data-sent]") else { return };
                if let Some(sent) = arrow.get_attribute("data-sent").and_then(|sent| sent.parse().ok()) {
                    ctx.pick_segment(sent);
                }
            });
            move || drop(listener)
        });
    }
    use_embed_api(&ctx);
    views::view(&ctx, &props.on_copy_link)
}

/// The embedding API, when the address allows a page to drive this embed: commands in, and
/// reports out of what the reader sees (the scenario opened, the moment, the run's end).
#[hook]
fn use_embed_api(ctx: &Ctx) {
    let port = ctx.bench.borrow().port.clone();
    // The listener outlives this render, so it reads the page through the latest handle.
    let latest = use_mut_ref(|| ctx.clone());
    *latest.borrow_mut() = ctx.clone();
    {
        let port = port.clone();
        use_effect_with((), move |_| {
            let listener = port.map(|port| {
                let listener = EmbedPort::listen(port.clone(), move |command| {
                    let ctx = latest.borrow().clone();
                    ctx.obey(command);
                });
                port.post(&Report::Ready);
                listener
            });
            move || drop(listener)
        });
    }
    // The hooks below run whether or not a page may drive this embed (hooks are called in
    // the same order at every render); without a port they post nothing.
    let page = &ctx.page;
    {
        let port = port.clone();
        use_effect_with(page.loaded.clone(), move |loaded| {
            if let Some(port) = port {
                port.post(&Report::Opened {
                    scenario: loaded.builtin.clone(),
                    title: loaded.title.clone(),
                    steps: loaded.timing.steps.count(),
                    duration_ms: loaded.trace.events.last().map_or(0.0, |event| event.t_us as f64 / 1000.0),
                });
            }
        });
    }
    let playback = &page.playback;
    {
        let port = port.clone();
        let report = moment_of(playback);
        let moment = (page.loaded.clone(), playback.cursor, playback.playing, playback.speed.to_bits());
        use_effect_with(moment, move |_| {
            if let Some(port) = port {
                port.post(&report);
            }
        });
    }
    // The end once per arrival there: pausing at the end is a moment, not another end.
    let end = port.filter(|_| playback.at_end()).map(|port| {
        let reason = page.loaded.trace.events.iter().rev().find_map(|event| match &event.kind {
            sockscope_engine::EventKind::End { reason } => Some(reason.clone()),
            _ => None,
        });
        (port, Report::End { reason: reason.unwrap_or_default() })
    });
    use_effect_with((page.loaded.clone(), playback.cursor), move |_| {
        if let Some((port, end)) = end {
            port.post(&end);
        }
    });
}

/// Where the player stands, as the embedding API reports it.
fn moment_of(playback: &crate::playback::Playback) -> Report {
    Report::Moment {
        step: playback.timing.steps.completed(playback.cursor),
        steps: playback.timing.steps.count(),
        time_ms: playback.sim_time().max(0.0) / 1000.0,
        playing: playback.playing,
        speed: playback.speed,
    }
}

/// The first state, from the address: the playground it carries, or the scenario shown as
/// the original of what-if forks.
fn start(page: &crate::hooks::Page, query: &crate::url::PageQuery) -> Bench {
    let loaded = page.loaded.clone();
    let playground = if query.play && page.packed.is_some() {
        match sockscope_engine::parse_scenario(&loaded.text) {
            Ok(scenario) => {
                let now = query.now.as_deref().and_then(|now| now.parse().ok()).unwrap_or(0);
                Playground::resume(scenario, now)
            }
            Err(_) => Playground::new(),
        }
    } else {
        Playground::new()
    };
    let process = playground.processes().last().map(|process| process.name.clone()).unwrap_or_default();
    let (origins, refused_origins) = query.api.as_deref().map(embed_api::Origins::parse).unwrap_or_default();
    let driven_only = query.api.is_some() && !(query.studio || query.play || query.predict);
    Bench {
        panel: if driven_only { Panel::Closed } else { Panel::Open },
        port: (!origins.is_empty()).then(|| Rc::new(EmbedPort::new(origins))),
        refused_origins,
        mode: if query.play {
            Mode::Playground
        } else if query.predict {
            Mode::Predict
        } else {
            Mode::WhatIf
        },
        playground,
        form: CallForm::default(),
        process,
        process_host: "server".to_string(),
        wait_ms: "100".to_string(),
        new_hosts: "2".to_string(),
        delay_ms: "200".to_string(),
        crash_host: String::new(),
        runs: original_tab(loaded).into_iter().collect(),
        shown: 0,
        comparison: None,
        segment: None,
        said: String::new(),
        last_shown: None,
        numbers: None,
        predict: None,
        plotted: None,
        plot_cache: None,
        pending_pack: None,
    }
}

fn original_tab(loaded: Shared) -> Option<RunTab> {
    // Read whole, so that forks keep the author's questions; a scenario whose questions
    // cannot be read is still forked, without them (predict mode says what is wrong).
    let scenario = sockscope_engine::parse_scenario(&loaded.text)
        .or_else(|_| sockscope_engine::scenario::parse_without_predict(&loaded.text))
        .ok()?;
    Some(RunTab { label: "Original".to_string(), scenario, added: Vec::new(), loaded, comparison: None })
}

/// A run's hosts, as the replay knows them ([`Snapshot::host_of_addr`]): the trace declares
/// them first, before anything happens.
pub fn hosts_of(trace: &Trace) -> Snapshot {
    let mut hosts = Snapshot::default();
    for event in trace.events.iter().take_while(|event| matches!(event.kind, sockscope_engine::EventKind::Host { .. }))
    {
        hosts.apply(event);
    }
    hosts
}

/// The name of the host at `addr`, or the address when no host has it.
pub fn host_name(hosts: &Snapshot, addr: sockscope_engine::SockAddr) -> String {
    hosts.host_of_addr(addr).map_or_else(|| addr.ip.to_string(), str::to_string)
}

/// The first event after `t_us`: where the page's cursor stands when the clock shows `t_us`.
pub fn cursor_at(trace: &Trace, t_us: u64) -> usize {
    trace.events.partition_point(|event| event.t_us <= t_us)
}

/// The workbench's handle and the page's, for the handlers.
#[derive(Clone)]
pub struct Ctx {
    pub bench: Handle,
    pub page: crate::hooks::Page,
    redraw: UseForceUpdateHandle,
}

impl Ctx {
    pub fn redraw(&self) {
        self.redraw.force_update();
    }

    /// Puts `text` in the status line, which screen readers announce. The same words twice
    /// would not be announced again, so a repeat says so.
    fn say(&self, text: impl Into<String>) {
        let text = text.into();
        let mut bench = self.bench.borrow_mut();
        bench.said = if bench.said == text { format!("{text} (again)") } else { text };
        drop(bench);
        self.redraw();
    }

    /// Runs the playground's world and shows it at its clock (or at `cursor`).
    pub fn show_playground(&self, cursor: Option<usize>) -> Option<Shared> {
        let (scenario, text, now_us) = {
            let bench = self.bench.borrow();
            (bench.playground.scenario.clone(), bench.playground.text(), bench.playground.now_us)
        };
        let loaded = match model::load_built(scenario, text.clone()) {
            Ok(loaded) => Shared(Rc::new(loaded)),
            Err(err) => {
                // The form makes only calls the engine accepts; should one slip through, the
                // world goes back to before it.
                self.bench.borrow_mut().playground.undo();
                self.say(format!("The engine refused that: {err}."));
                return None;
            }
        };
        let cursor = cursor.unwrap_or_else(|| cursor_at(&loaded.trace, now_us));
        self.bench.borrow_mut().last_shown = Some(loaded.clone());
        self.page.dispatch(Action::Show(Box::new(Shown {
            loaded: loaded.clone(),
            cursor,
            packed: None,
            studio_query: format!("play=1&now={now_us}"),
            differs: None,
        })));
        let ctx = self.clone();
        let timer = gloo::timers::callback::Timeout::new(PACK_AFTER_MS, move || ctx.flush_pack(|_| {}));
        // Replacing the pending pack cancels its timer: only the last world is packed.
        self.bench.borrow_mut().pending_pack = Some(PendingPack { text, loaded: loaded.clone(), _timer: timer });
        // No redraw of its own: the page's new run gives the workbench new props.
        Some(loaded)
    }

    /// Packs the world waiting to be packed now, puts it in the address, and hands the
    /// fragment to `then` (nothing waiting: nothing happens).
    pub fn flush_pack(&self, then: impl FnOnce(String) + 'static) {
        let Some(PendingPack { text, loaded, .. }) = self.bench.borrow_mut().pending_pack.take() else { return };
        let dispatcher = self.page.dispatcher();
        let packed = move |packed: Result<String, String>| {
            if let Ok(packed) = packed {
                dispatcher.dispatch(Action::Packed { loaded, packed: packed.clone() });
                then(packed);
            }
        };
        share::pack(&text, Box::new(packed));
    }

    /// Copies a link to the playground's world: packed first if the address does not carry
    /// it yet, so that a link copied right after a call still has the world.
    pub fn copy_playground_link(&self, copy_page_link: &Callback<MouseEvent>, event: MouseEvent) {
        if self.bench.borrow().pending_pack.is_none() {
            return copy_page_link.emit(event);
        }
        let cursor = self.page.playback.cursor;
        let now_us = self.bench.borrow().playground.now_us;
        let dispatcher = self.page.dispatcher();
        self.flush_pack(move |packed| {
            let query = crate::url::query_for(None, cursor, crate::url::Layout::Full);
            let link = format!("{}{query}&studio=1&play=1&now={now_us}#scenario={packed}", crate::hooks::page_url());
            crate::hooks::copy_to_clipboard(&link, dispatcher, crate::page_state::Copied::Link);
        });
    }

    pub fn set_mode(&self, mode: Mode) {
        let was = std::mem::replace(&mut self.bench.borrow_mut().mode, mode);
        match mode {
            Mode::Playground => {
                self.show_playground(None);
                self.say("Playground: make system calls on the processes, and move the clock on.");
            }
            Mode::WhatIf => {
                // From the playground, the world just built becomes the original to fork; its
                // fragment, packed now, carries it in the forks' links.
                if was == Mode::Playground {
                    self.flush_pack(|_| {});
                    self.reset_runs(self.page.loaded.clone());
                }
                self.show_run(0);
                self.say("What if: pick a segment on the diagram or in the list, then change its fate.");
            }
            Mode::Predict => self.start_predict(),
            Mode::Plot => {
                self.say("The time–sequence graph of the run on screen: its cursor is the page's.");
            }
        }
    }

    /// Asks the first question about the run on screen from the moment shown on.
    pub fn start_predict(&self) {
        let loaded = self.page.loaded.clone();
        // The author's questions travel in the scenario's text (and so in forks of it).
        // The page read the scenario without them (`model::load`).
        let (own, unreadable) = match sockscope_engine::parse_scenario(&loaded.text) {
            // A packetdrill script carries no questions: the page asks its own.
            _ if loaded.script.is_some() => (Default::default(), None),
            Ok(scenario) => (scenario.predict, None),
            Err(err) => (
                Default::default(),
                Some(format!("The scenario's own questions cannot be read ({err}), so only the page's are asked.")),
            ),
        };
        let predict::Questions { asked, unplaced } = predict::questions(&loaded, &own);
        self.bench.borrow_mut().predict = Some(Predicting {
            run: loaded.clone(),
            questions: Rc::new(asked),
            unplaced,
            unreadable,
            current: None,
            chosen: None,
            score: Default::default(),
        });
        // The address says predict=1, so that a link or a reload asks again.
        self.page.dispatch(Action::Show(Box::new(Shown {
            loaded: loaded.clone(),
            cursor: self.page.playback.cursor,
            packed: self.page.packed.clone(),
            studio_query: "predict=1".to_string(),
            differs: None,
        })));
        self.bench.borrow_mut().last_shown = Some(loaded);
        self.next_question(self.page.playback.cursor);
    }

    /// Asks the first question whose event is not yet shown at `cursor`, resting the page
    /// on the step before it.
    pub fn next_question(&self, cursor: usize) {
        let asked = {
            let mut bench = self.bench.borrow_mut();
            let Some(predicting) = bench.predict.as_mut() else { return };
            // A second question about the step just shown comes next; otherwise the first
            // question whose event the page does not show yet.
            let same_step = predicting
                .current
                .filter(|_| predicting.chosen.is_some())
                .filter(|&current| predicting.questions[current].reveal_at == cursor)
                .map(|current| current + 1)
                .filter(|&next| {
                    predicting
                        .questions
                        .get(next)
                        .is_some_and(|question| question.ask_at == predicting.questions[next - 1].ask_at)
                });
            let next = same_step.or_else(|| predicting.questions.iter().position(|question| question.event >= cursor));
            predicting.current = next;
            predicting.chosen = None;
            next.map(|index| predicting.questions[index].clone()).ok_or_else(|| predicting.score.text())
        };
        match asked {
            Ok(question) => {
                self.page.dispatch(Action::Playback(crate::playback::Action::Seek(question.ask_at)));
                self.say(format!("Predict: {}", question.prompt));
            }
            Err(score) => self.say(format!("No more questions in this run. {score}.")),
        }
    }

    /// The reader's choice for the question on screen: scored, then the step is shown.
    pub fn answer(&self, choice: usize) {
        let answered = {
            let mut bench = self.bench.borrow_mut();
            let Some(predicting) = bench.predict.as_mut() else { return };
            let (Some(current), None) = (predicting.current, predicting.chosen) else { return };
            let question = predicting.questions[current].clone();
            predicting.chosen = Some(choice);
            predicting.score.asked += 1;
            let right = choice == question.answer;
            if right {
                predicting.score.right += 1;
            }
            (question, right, predicting.score.text())
        };
        let (question, right, score) = answered;
        self.page.dispatch(Action::Playback(crate::playback::Action::Seek(question.reveal_at)));
        let tally = self.bench.borrow().predict.as_ref().map(|predicting| predicting.score.clone()).unwrap_or_default();
        self.report(&Report::Answer {
            question: question.prompt.clone(),
            chosen: question.choices.get(choice).cloned().unwrap_or_default(),
            answer: question.choices[question.answer].clone(),
            correct: right,
            why: question.why.clone(),
            right: tally.right,
            asked: tally.asked,
        });
        let verdict = if right {
            format!("Right: {}.", question.choices[question.answer])
        } else {
            format!("Not this time: it is {}.", question.choices[question.answer])
        };
        self.say(format!("{verdict} {} {score}.", question.why));
    }

    /// Follows a command of the page that embeds this one (see docs/embed.md). What cannot be
    /// done is answered with the reason, and changes nothing.
    fn obey(&self, command: Command) {
        use crate::playback::Action as Play;
        let refuse = |reason: String| self.report(&Report::Rejected { reason });
        match command {
            Command::Open { scenario: Some(name), .. } => {
                if crate::catalogue::exists(&name) {
                    let port = self.bench.borrow().port.clone();
                    crate::hooks::open_builtin(&self.page.dispatcher(), name, move |why| {
                        if let Some(port) = port {
                            port.post(&Report::Rejected {
                                reason: format!("the scenario could not be fetched: {why}"),
                            });
                        }
                    });
                } else {
                    refuse(format!("there is no built-in scenario called “{}”", crate::url::shorten(&name)));
                }
            }
            Command::Open { packed: Some(packed), .. } => {
                if let Err(why) = crate::hooks::open_packed(&self.page.dispatcher(), packed, script_run::load_custom) {
                    refuse(format!("the packed scenario cannot be opened: {}", why.trim_end_matches('.')));
                }
            }
            Command::Open { .. } => {}
            Command::Seek { step: Some(step), .. } => {
                let stops = self.page.playback.timing.steps.stops();
                let cursor = stops.get(step).or(stops.last()).copied().unwrap_or(0);
                self.page.dispatch(Action::Playback(Play::Seek(cursor)));
            }
            Command::Seek { time_ms: Some(time), .. } => {
                let cursor = cursor_at(&self.page.loaded.trace, (time * 1000.0) as u64);
                self.page.dispatch(Action::Playback(Play::Seek(cursor)));
            }
            Command::Seek { .. } => {}
            Command::Play {} => self.page.dispatch(Action::Playback(Play::Play)),
            Command::Pause {} => self.page.dispatch(Action::Playback(Play::Pause)),
            Command::Speed { speed } => self.page.dispatch(Action::Playback(Play::SetSpeed(speed))),
            Command::Predict { on: true } => {
                self.bench.borrow_mut().panel = Panel::Open;
                self.set_mode(Mode::Predict);
            }
            Command::Predict { on: false } => {
                let mut bench = self.bench.borrow_mut();
                bench.predict = None;
                bench.mode = Mode::WhatIf;
                if bench.port.is_some() && !self.page.studio {
                    bench.panel = Panel::Closed;
                }
                bench.last_shown = Some(self.page.loaded.clone());
                drop(bench);
                // The address no longer says predict=1.
                self.page.dispatch(Action::Show(Box::new(Shown {
                    loaded: self.page.loaded.clone(),
                    cursor: self.page.playback.cursor,
                    packed: self.page.packed.clone(),
                    studio_query: String::new(),
                    differs: None,
                })));
                self.say("Predict mode is off.");
            }
            Command::Status {} => {
                self.report(&moment_of(&self.page.playback));
            }
        }
    }

    /// Tells the page that embeds this one, when the address allowed one to listen.
    fn report(&self, report: &Report) {
        let port = self.bench.borrow().port.clone();
        if let Some(port) = port {
            port.post(report);
        }
    }

    /// Starts again from the run the reader opened; predict mode asks about it afresh.
    fn reset_runs(&self, loaded: Shared) {
        let mut bench = self.bench.borrow_mut();
        bench.runs = original_tab(loaded).into_iter().collect();
        bench.shown = 0;
        bench.comparison = None;
        bench.segment = None;
        let predicting = bench.mode == Mode::Predict;
        if !predicting {
            bench.mode = Mode::WhatIf;
        }
        drop(bench);
        if predicting {
            self.start_predict();
        }
        self.redraw();
    }

    pub fn pick_segment(&self, sent: usize) {
        let mut bench = self.bench.borrow_mut();
        if bench.mode != Mode::WhatIf {
            return;
        }
        bench.segment = Some(sent);
        drop(bench);
        self.redraw();
    }

    /// Shows run `index`, at the moment shown now, compared with the original.
    pub fn show_run(&self, index: usize) {
        let t_us = self.page.playback.sim_time().max(0.0) as u64;
        let mut bench = self.bench.borrow_mut();
        let Some(run) = bench.runs.get(index) else { return };
        let loaded = run.loaded.clone();
        let comparison = run.comparison.clone();
        // A fork's link names its original: the built-in's name (the fork itself is a custom
        // scenario), or the original's packed fragment (below).
        let studio_query = if run.added.is_empty() {
            String::new()
        } else {
            let original = bench.runs.first().and_then(|original| original.loaded.builtin.clone());
            let name = original.map_or_else(String::new, |name| format!("s={}&", percent_encode(&name)));
            format!("{name}fork={}", percent_encode(&serde_json::to_string(&run.added).unwrap_or_default()))
        };
        let packed = self.original_packed(&bench);
        bench.shown = index;
        bench.comparison = comparison.clone();
        bench.segment = None;
        bench.last_shown = Some(loaded.clone());
        drop(bench);
        self.page.dispatch(Action::Show(Box::new(Shown {
            cursor: cursor_at(&loaded.trace, t_us),
            loaded,
            packed,
            studio_query,
            differs: comparison.map(|comparison| comparison.differs.clone()),
        })));
        self.redraw();
    }

    /// The fragment of the original, when it is a custom scenario the page carries packed.
    fn original_packed(&self, bench: &Bench) -> Option<String> {
        let original = bench.runs.first()?;
        if original.loaded.builtin.is_some() {
            None
        } else {
            self.page.packed.clone()
        }
    }

    /// Forks the run shown with one more fault, and shows the fork.
    pub fn add_fork(&self, fault: Fault) {
        let (base, mut added) = {
            let bench = self.bench.borrow();
            let Some(run) = bench.runs.get(bench.shown) else { return };
            (run.scenario.clone(), run.added.clone())
        };
        let label = fork::label(&fault);
        added.push(fault.clone());
        let scenario = fork::forked(&base, fault);
        match self.load_fork(scenario, added, label.clone()) {
            Ok(index) => {
                self.show_run(index);
                let differences = self.bench.borrow().comparison.as_ref().map_or(0, |c| c.differences().count());
                self.say(format!(
                    "Forked: {label}. This fork differs from the original in {differences} events; they are marked on the diagram and listed below."
                ));
            }
            Err(why) => self.say(why),
        }
    }

    fn load_fork(&self, mut scenario: Scenario, added: Vec<Fault>, label: String) -> Result<usize, String> {
        let title = self.bench.borrow().runs.first().map(|run| run.loaded.title.clone()).unwrap_or_default();
        scenario.title = format!("{title} — what if: {label}");
        let text = serde_json::to_string_pretty(&scenario).unwrap_or_default();
        let loaded = model::load_text(&text).map_err(|err| format!("That fork cannot run: {err}."))?;
        let mut bench = self.bench.borrow_mut();
        let number = bench.runs.len();
        let original = bench.runs.first().map(|original| original.loaded.clone());
        let comparison = original.map(|original| Rc::new(compare::compare(&original.trace, &loaded.trace)));
        let label = format!("Fork {number}: {label}");
        bench.runs.push(RunTab { label, scenario, added, loaded: Shared(Rc::new(loaded)), comparison });
        Ok(number)
    }

    /// Opens the fork a link carries: the original with these faults added.
    fn open_fork(&self, faults: &str, cursor: Option<usize>) {
        let Some(original) = self.bench.borrow().runs.first().map(|run| run.scenario.clone()) else { return };
        let (scenario, faults) = match fork::from_link(&original, faults) {
            Ok(fork) => fork,
            Err(why) => return self.say(format!("The link's fork could not be opened: {why}. The original is shown.")),
        };
        let label = faults.last().map(fork::label).unwrap_or_default();
        match self.load_fork(scenario, faults, label.clone()) {
            Ok(index) => {
                self.show_run(index);
                if let Some(cursor) = cursor {
                    self.page.dispatch(Action::Playback(crate::playback::Action::Seek(cursor)));
                }
                self.say(format!("This link opens a fork of the scenario: {label}."));
            }
            Err(why) => self.say(why),
        }
    }

    /// The segment the what-if actions apply to, with `what_if`.
    pub fn fork_segment(&self, what_if: WhatIf) {
        let (segment, trace) = {
            let bench = self.bench.borrow();
            (bench.segment, bench.runs.get(bench.shown).map(|run| run.loaded.clone()))
        };
        let (Some(sent), Some(loaded)) = (segment, trace) else {
            self.say("Pick a segment first: click an arrow on the diagram, or choose one in the list.");
            return;
        };
        match fork::segment_fault(&loaded.trace, sent, what_if) {
            Some(fault) => self.add_fork(fault),
            None => self.say("That is not a segment of the run shown."),
        }
    }
}
