//! The page: reads the address, runs the scenario, and lays out the views around the
//! playback reducer. Side effects live here, in hooks: the animation frame loop that plays,
//! the keyboard listener, the address kept in sync, and copying links.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo::events::EventListener;
use gloo::render::{request_animation_frame, AnimationFrame};
use gloo::timers::callback::Timeout;
use sockscope_engine::replay::Snapshot;
use sockscope_engine::state::State;
use sockscope_engine::trace::EventKind;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlSelectElement, HtmlTextAreaElement, KeyboardEvent};
use yew::prelude::*;

use crate::catalogue;
use crate::model::{self, Loaded, Shared};
use crate::playback::{Action, Playback};
use crate::promise;
use crate::share;
use crate::url::{self, Choice, Layout};
use crate::view::controls::Controls;
use crate::view::hosts::HostPanel;
use crate::view::machine::{FollowedSocket, StateMachine};
use crate::view::page::{Editor, Footer, Intro, Picker};
use crate::view::panes::{Narration, SsPane, TcpdumpPane};
use crate::view::sequence::{clock, SequenceDiagram};

/// How long the cursor must rest before the address is rewritten to match it, in ms.
const ADDRESS_REST_MS: u32 = 200;

/// What the address asks for, resolved once at startup.
pub struct Startup {
    loaded: Shared,
    cursor: usize,
    notices: Vec<String>,
    layout: Layout,
    packed: Option<String>,
}

/// The app's one prop: its startup, compared by identity.
#[derive(Properties, Clone)]
pub struct AppProps {
    pub start: Rc<Startup>,
}

impl PartialEq for AppProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.start, &other.start)
    }
}

fn location() -> (String, String) {
    let location = gloo::utils::window().location();
    (location.search().unwrap_or_default(), location.hash().unwrap_or_default())
}

/// Reads the address, gets the scenario it names (fetching a built-in one's file), and then
/// mounts the app into `root`. The loading indicator stays up until the app's first frame.
pub fn begin(root: web_sys::Element) {
    let (search, hash) = location();
    let query = url::parse_query(&search, &hash);
    let default = catalogue::default_scenario();
    let (choice, notice) = url::choose(&query, catalogue::exists, default);
    let mut notices: Vec<String> = notice.into_iter().map(|notice| notice.0).collect();
    let fell_back = !notices.is_empty();
    let name = match choice {
        Choice::Builtin(name) => name,
        Choice::Packed(packed) => match share::unpack(&packed).and_then(|text| model::load_text(&text)) {
            Ok(loaded) => return mount(root, startup(Ok(loaded), Some(packed), &query, notices, fell_back)),
            Err(err) => {
                notices.push(format!(
                    "The scenario in this link cannot be opened: {err} Showing “{default}” instead; pick another one below."
                ));
                default.to_string()
            }
        },
    };
    fetch_builtin(name, move |loaded| mount(root, startup(loaded, None, &query, notices, fell_back)));
}

/// Fetches the built-in scenario `name`'s file and loads it; an error says which file could
/// not be had, or why it did not load.
fn fetch_builtin(name: String, done: impl FnOnce(Result<Loaded, String>) + 'static) {
    promise::text(&catalogue::file(&name), move |text| {
        let unreachable =
            |why| format!("The scenario “{name}” could not be loaded from {} ({why}).", catalogue::file(&name));
        done(text.map_err(unreachable).and_then(|text| model::load_builtin(&name, text)))
    });
}

fn mount(root: web_sys::Element, start: Startup) {
    yew::Renderer::<App>::with_root_and_props(root, AppProps { start: Rc::new(start) }).render();
}

fn startup(
    loaded: Result<Loaded, String>,
    packed: Option<String>,
    query: &url::PageQuery,
    mut notices: Vec<String>,
    fell_back: bool,
) -> Startup {
    let loaded = loaded.unwrap_or_else(|err| model::empty(&err));
    let len = loaded.trace.events.len();
    let (cursor, notice) = if fell_back || packed.is_none() && !notices.is_empty() {
        (0, None)
    } else {
        url::start_cursor(query.t.as_deref(), len)
    };
    notices.extend(notice.map(|notice| notice.0));
    Startup { loaded: Shared(Rc::new(loaded)), cursor, notices, layout: query.layout, packed }
}

/// The followed socket for the state diagram: `(id, description, state, last change)` and the
/// event index of that change.
type Followed = (Option<FollowedSocket>, Option<usize>);

fn followed_socket(loaded: &Loaded, snapshot: &Snapshot, cursor: usize, selected: Option<u32>) -> Followed {
    let changes = &loaded.timing.changes;
    let applied = changes.partition_point(|&change| change < cursor);
    let socket_of = |index: usize| match &loaded.trace.events[index].kind {
        EventKind::State { socket, .. } => Some(*socket),
        _ => None,
    };
    let Some(id) = selected.or_else(|| applied.checked_sub(1).and_then(|last| socket_of(changes[last]))) else {
        return (None, None);
    };
    let last_change = changes[..applied].iter().rev().find(|&&index| socket_of(index) == Some(id)).copied();
    let last = last_change.and_then(|index| match &loaded.trace.events[index].kind {
        EventKind::State { from, to, cause, host, local, peer, .. } => {
            Some((*from, *to, cause.clone(), host.clone(), *local, *peer))
        }
        _ => None,
    });
    let view = snapshot.sockets.get(&id);
    let state = view.map(|socket| socket.state).or(last.as_ref().map(|last| last.1)).unwrap_or(State::Closed);
    let describe = match (&last, view) {
        (_, Some(socket)) => format!(
            "{}, {}{}",
            socket.host,
            socket.local.map_or_else(|| "unbound".to_string(), |addr| addr.ss()),
            socket.peer.map_or_else(String::new, |peer| format!(" → {peer}"))
        ),
        (Some((_, _, _, host, local, peer)), None) => {
            format!("{host}, {}{}, now freed", local.ss(), peer.map_or_else(String::new, |peer| format!(" → {peer}")))
        }
        (None, None) => "not created yet".to_string(),
    };
    let change = last.map(|(from, to, cause, ..)| (from, to, cause));
    (Some((id, describe, state, change)), last_change)
}

fn is_narrow() -> bool {
    gloo::utils::window().inner_width().ok().and_then(|width| width.as_f64()).is_some_and(|width| width < 760.0)
}

fn copy_to_clipboard(text: String, status: UseStateHandle<Option<String>>, done: &'static str) {
    let promise = gloo::utils::window().navigator().clipboard().write_text(&text);
    promise::settle(
        &promise,
        |_| Ok(()),
        move |copied| {
            status.set(Some(match copied {
                Ok(()) => done.to_string(),
                Err(_) => "The browser did not allow copying; select the text below and copy it.".to_string(),
            }))
        },
    );
}

fn page_url() -> String {
    let location = gloo::utils::window().location();
    format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default())
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let start = props.start.clone();
    let loaded = {
        let start = start.clone();
        use_state(move || start.loaded.clone())
    };
    let playback = {
        let (timing, cursor) = (start.loaded.timing.clone(), start.cursor);
        use_reducer(move || Playback::new(timing, cursor))
    };
    let notices = {
        let start = start.clone();
        use_state(move || start.notices.clone())
    };
    let layout = start.layout;
    let embed = layout == Layout::Embedded;
    let packed = {
        let start = start.clone();
        use_state(move || start.packed.clone())
    };
    let narrow = use_state(is_narrow);
    let copy_status = use_state(|| None::<String>);
    let snippet = use_state(|| None::<String>);
    let editor_error = use_state(|| None::<String>);
    let editor = use_node_ref();

    // The first render is on screen: drop the loading indicator and mark the moment.
    use_effect_with((), |_| {
        if let Some(loading) = gloo::utils::document().get_element_by_id("loading") {
            loading.remove();
        }
        let frame = request_animation_frame(|_| {
            if let Some(performance) = gloo::utils::window().performance() {
                let _ = performance.mark("sockscope-first-frame");
            }
        });
        // The frame handle must outlive this effect; it is a one-shot, so leaking it is fine.
        std::mem::forget(frame);
    });

    // The window's width decides the diagram's layout.
    {
        let narrow = narrow.clone();
        use_effect_with((), move |_| {
            let listener = EventListener::new(&gloo::utils::window(), "resize", move |_| narrow.set(is_narrow()));
            move || drop(listener)
        });
    }

    // A link that differs from the open one only after `#` (another custom scenario pasted
    // into the address bar) is a same-document navigation: the browser keeps the page and
    // fires `hashchange`. The page then starts again from the new address. Its own address
    // updates use `replaceState`, which never fires `hashchange`.
    use_effect_with((), |_| {
        let listener = EventListener::new(&gloo::utils::window(), "hashchange", |_| {
            let _ = gloo::utils::window().location().reload();
        });
        move || drop(listener)
    });

    // Playing: one Tick per animation frame; dropping the frame handle stops it.
    {
        let dispatcher = playback.dispatcher();
        use_effect_with(playback.playing, move |playing| {
            let slot: Rc<RefCell<Option<AnimationFrame>>> = Rc::new(RefCell::new(None));
            if *playing {
                schedule_frame(slot.clone(), Rc::new(Cell::new(None)), dispatcher);
            }
            move || {
                slot.borrow_mut().take();
            }
        });
    }

    // Keys: Space, ←/→, Shift+←/→, Home/End, +/−.
    {
        let dispatcher = playback.dispatcher();
        use_effect_with((), move |_| {
            // Not passive: the handled keys must not also scroll the page.
            let options = gloo::events::EventListenerOptions::enable_prevent_default();
            let listener =
                EventListener::new_with_options(&gloo::utils::document(), "keydown", options, move |event| {
                    let Some(event) = event.dyn_ref::<KeyboardEvent>() else { return };
                    if event.default_prevented() || event.ctrl_key() || event.meta_key() || event.alt_key() {
                        return;
                    }
                    let target = event.target().and_then(|target| target.dyn_into::<web_sys::Element>().ok());
                    let tag =
                        target.as_ref().map(|element| element.tag_name().to_ascii_lowercase()).unwrap_or_default();
                    let on_range =
                        target.as_ref().and_then(|element| element.get_attribute("type")).as_deref() == Some("range");
                    if tag == "textarea" || tag == "select" || (tag == "input" && !on_range) {
                        return;
                    }
                    let action = match event.key().as_str() {
                        " " if tag == "button" || tag == "a" || tag == "summary" => return,
                        " " => Action::TogglePlay,
                        "ArrowRight" | "ArrowLeft" | "Home" | "End" if on_range => return,
                        "ArrowRight" if event.shift_key() => Action::NextChange,
                        "ArrowLeft" if event.shift_key() => Action::PreviousChange,
                        "ArrowRight" => Action::StepForward,
                        "ArrowLeft" => Action::StepBack,
                        "Home" => Action::Home,
                        "End" => Action::End,
                        "+" | "=" => Action::Faster,
                        "-" => Action::Slower,
                        _ => return,
                    };
                    event.prevent_default();
                    dispatcher.dispatch(action);
                });
            move || drop(listener)
        });
    }

    let len = loaded.trace.events.len();
    let cursor = playback.cursor.min(len);

    // The address follows the moment shown (not while playing, to keep history calm). It is
    // written once the cursor has rested for a moment: `history.replaceState` is a
    // synchronous call into the browser that costs milliseconds (about 14 ms each in headless
    // Chromium), so writing it on every seek of a scrub would cost more than the seek itself.
    // "Copy link" reads the cursor, not the address, so it is never behind.
    {
        let builtin_name = loaded.builtin.clone();
        let packed = (*packed).clone();
        use_effect_with(
            (builtin_name, packed, cursor, playback.playing, layout),
            |(name, packed, cursor, playing, layout)| {
                let pending = (!*playing).then(|| {
                    let fragment = packed.as_ref().map_or_else(String::new, |packed| format!("#scenario={packed}"));
                    let query = url::query_for(name.as_deref(), *cursor, *layout);
                    Timeout::new(ADDRESS_REST_MS, move || {
                        let window = gloo::utils::window();
                        let address = format!("{}{query}{fragment}", window.location().pathname().unwrap_or_default());
                        if let Ok(history) = window.history() {
                            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&address));
                        }
                    })
                });
                // A newer moment (or playing) cancels the write that has not happened yet.
                move || drop(pending)
            },
        );
    }
    {
        let title = loaded.title.clone();
        use_effect_with(title, |title| gloo::utils::document().set_title(&format!("{title} — sockscope")));
    }

    // The editor is filled when a scenario loads and otherwise left alone: binding its value
    // would copy the whole scenario text between Rust and the page on every frame.
    {
        let editor = editor.clone();
        use_effect_with((*loaded).clone(), move |loaded| {
            if let Some(area) = editor.cast::<HtmlTextAreaElement>() {
                area.set_value(&loaded.text);
            }
        });
    }

    let snapshot = {
        let loaded = (*loaded).clone();
        use_memo((loaded.clone(), cursor), move |(loaded, cursor)| Rc::new(loaded.timeline.at(&loaded.trace, *cursor)))
    };
    let snapshot: Rc<Snapshot> = (*snapshot).clone();

    // The callbacks handed to memoised children are made once (`use_callback` with no
    // changing dependency) and only write state through setters, so a seek does not give
    // those children new props and Yew skips them.
    // Opening a scenario may wait for the browser (a built-in scenario's file, a custom one's
    // compressed link). Each request takes a number; an answer that arrives after a newer
    // request was made is dropped, so the last thing the reader asked for is what opens.
    let latest_request = use_mut_ref(|| 0u64);
    let open = {
        let (loaded, packed) = (loaded.setter(), packed.setter());
        let (notices, snippet, editor_error) = (notices.setter(), snippet.setter(), editor_error.setter());
        let status = copy_status.setter();
        let dispatcher = playback.dispatcher();
        use_callback((), move |(next, packed_text): (Loaded, Option<String>), _| {
            let next = Shared(Rc::new(next));
            dispatcher.dispatch(Action::Load { timing: next.timing.clone(), cursor: 0 });
            loaded.set(next);
            packed.set(packed_text);
            notices.set(Vec::new());
            snippet.set(None);
            editor_error.set(None);
            status.set(None);
        })
    };
    let new_request = {
        let latest_request = latest_request.clone();
        move || {
            let mut latest = latest_request.borrow_mut();
            *latest += 1;
            let (mine, latest_request) = (*latest, latest_request.clone());
            move || *latest_request.borrow() == mine
        }
    };
    let on_pick = {
        let (notices, status) = (notices.setter(), copy_status.setter());
        let new_request = new_request.clone();
        use_callback(open.clone(), move |event: Event, open| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            let name = select.value();
            status.set(Some(format!("Opening “{name}”…")));
            let still_wanted = new_request();
            let (open, notices, status) = (open.clone(), notices.clone(), status.clone());
            fetch_builtin(name, move |loaded| {
                if !still_wanted() {
                    return;
                }
                status.set(None);
                match loaded {
                    Ok(next) => open.emit((next, None)),
                    Err(err) => notices.set(vec![err]),
                }
            });
        })
    };
    let on_run_custom = {
        let editor = editor.clone();
        let editor_error = editor_error.setter();
        use_callback(open.clone(), move |_: MouseEvent, open| {
            let Some(area) = editor.cast::<HtmlTextAreaElement>() else { return };
            let text = area.value();
            match model::load_text(&text) {
                // The link's fragment is compressed by the browser, which answers a moment
                // later; the scenario opens then, with a link to share.
                Ok(next) => {
                    let still_wanted = new_request();
                    let (open, editor_error) = (open.clone(), editor_error.clone());
                    share::pack(&text, move |packed| match packed {
                        _ if !still_wanted() => {}
                        Ok(packed) => open.emit((next, Some(packed))),
                        Err(why) => {
                            open.emit((next, None));
                            editor_error.set(Some(format!("The scenario runs, but a link cannot carry it: {why}.")));
                        }
                    });
                }
                Err(err) => editor_error.set(Some(err)),
            }
        })
    };
    let on_copy_link = {
        let copy_status = copy_status.clone();
        let loaded = loaded.clone();
        let packed = packed.clone();
        Callback::from(move |_: MouseEvent| {
            let fragment = (*packed).as_ref().map_or_else(String::new, |packed| format!("#scenario={packed}"));
            let link = format!(
                "{}{}{}",
                page_url(),
                url::query_for(loaded.builtin.as_deref(), cursor, Layout::Full),
                fragment
            );
            copy_to_clipboard(link, copy_status.clone(), "Link copied: it opens this scenario at this moment.");
        })
    };
    let on_copy_embed = {
        let copy_status = copy_status.clone();
        let snippet = snippet.clone();
        let loaded = loaded.clone();
        let packed = packed.clone();
        Callback::from(move |_: MouseEvent| {
            let fragment = (*packed).as_ref().map_or_else(String::new, |packed| format!("#scenario={packed}"));
            let code = url::embed_snippet(&page_url(), loaded.builtin.as_deref(), cursor, &fragment, &loaded.title);
            snippet.set(Some(code.clone()));
            copy_to_clipboard(code, copy_status.clone(), "Embed code copied: paste it into your course page.");
        })
    };
    let dismiss = {
        let notices = notices.clone();
        Callback::from(move |_: MouseEvent| notices.set(Vec::new()))
    };
    let dispatch = {
        let dispatcher = playback.dispatcher();
        use_callback((), move |action: Action, _| dispatcher.dispatch(action))
    };
    // Made again only when the selection changes, so the socket cards, which compare their
    // callback, are skipped on a seek unless their socket changed.
    let on_select = {
        let dispatcher = playback.dispatcher();
        use_callback(playback.selected, move |id: u32, selected| {
            dispatcher.dispatch(Action::Select(if *selected == Some(id) { None } else { Some(id) }))
        })
    };

    let pace = &loaded.timing.pace;
    let same_trace = Rc::ptr_eq(&playback.timing, &loaded.timing);
    // After a pause mid-gap the view stays where playing stopped; steps and seeks move the
    // display clock to their event.
    let position = if same_trace { playback.position } else { pace.position_of(cursor) };
    let sim_us = if same_trace { playback.sim_time() } else { pace.sim_time(cursor, position) };
    let now_us = (sim_us / 1000.0).floor() as u64 * 1000;
    let time_text = clock(sim_us);
    let (followed, change_event) = followed_socket(&loaded, &snapshot, cursor, playback.selected);
    let host_addr = |name: &str| {
        snapshot.hosts.iter().find(|host| host.name == name).map_or_else(String::new, |host| host.addr.to_string())
    };
    let host_panel = |name: &String| {
        html! {
            <HostPanel key={name.clone()} host={name.clone()} addr={host_addr(name)} snapshot={snapshot.clone()} now_us={now_us}
                selected={followed.as_ref().map(|followed| followed.0)} on_select={on_select.clone()} />
        }
    };

    let notices_view = if notices.is_empty() {
        html! {}
    } else {
        html! {
            <div class="message" role="alert" data-testid="message">
                { for notices.iter().map(|notice| html! { <p>{ notice.clone() }</p> }) }
                <button onclick={dismiss} class="small">{ "Dismiss" }</button>
            </div>
        }
    };
    let controls = html! {
        <Controls cursor={cursor} len={len} playing={playback.playing} speed={playback.speed} time={time_text.clone()}
            dispatch={dispatch.clone()} compact={embed} />
    };
    let diagram = html! {
        <SequenceDiagram loaded={(*loaded).clone()} cursor={cursor} position={position} sim_us={sim_us} narrow={*narrow}
            height={if embed { 300.0 } else { 560.0 }} />
    };
    let narration = html! { <Narration loaded={(*loaded).clone()} cursor={cursor} /> };

    if embed {
        let full = format!("{}{}", page_url(), url::query_for(loaded.builtin.as_deref(), cursor, Layout::Full));
        return html! {
            <div class="app embed" data-testid="app">
                <header class="embed-head">
                    <strong class="title" data-testid="title">{ loaded.title.clone() }</strong>
                    <a href={full} target="_blank" rel="noopener">{ "open in sockscope ↗" }</a>
                </header>
                { notices_view }
                { narration }
                { controls }
                { diagram }
            </div>
        };
    }

    let two_sides = loaded.hosts.len() == 2;
    html! {
        <div class="app" data-testid="app">
            <header class="top">
                <div class="brand" aria-label="sockscope">{ "sock" }<span>{ "scope" }</span></div>
                <Picker selected={loaded.builtin.clone()} on_pick={on_pick} />
                <div class="share">
                    <button onclick={on_copy_link} data-testid="copy-link">{ "Copy link" }</button>
                    <button onclick={on_copy_embed} data-testid="copy-embed">{ "Copy embed code" }</button>
                </div>
            </header>
            if let Some(status) = &*copy_status { <p class="status" role="status">{ status.clone() }</p> }
            if let Some(code) = &*snippet {
                <label class="snippet">
                    <span>{ "Embed code (an iframe of about 800×500):" }</span>
                    <textarea readonly=true rows="3" data-testid="embed-snippet" value={code.clone()} />
                </label>
            }
            { notices_view }
            <Intro loaded={(*loaded).clone()} />
            <div class="sticky">
                { narration }
                { controls }
            </div>
            <main class={classes!("stage", two_sides.then_some("two-sides"))}>
                if two_sides {
                    { host_panel(&loaded.hosts[0]) }
                    { diagram }
                    { host_panel(&loaded.hosts[1]) }
                } else {
                    <div class="host-row">{ for loaded.hosts.iter().map(host_panel) }</div>
                    { diagram }
                }
            </main>
            <div class="lower">
                <StateMachine socket={followed.clone()} change_event={change_event} />
                <div class="texts">
                    <TcpdumpPane loaded={(*loaded).clone()} cursor={cursor} />
                    { for loaded.hosts.iter().map(|host| html! { <SsPane key={host.clone()} host={host.clone()} snapshot={snapshot.clone()} /> }) }
                </div>
            </div>
            <Editor editor={editor} on_run={on_run_custom} error={(*editor_error).clone()} />
            <Footer />
        </div>
    }
}

fn schedule_frame(
    slot: Rc<RefCell<Option<AnimationFrame>>>,
    last: Rc<Cell<Option<f64>>>,
    dispatcher: UseReducerDispatcher<Playback>,
) {
    let next_slot = slot.clone();
    let frame = request_animation_frame(move |timestamp| {
        if let Some(previous) = last.get() {
            dispatcher.dispatch(Action::Tick(timestamp - previous));
        }
        last.set(Some(timestamp));
        schedule_frame(next_slot, last, dispatcher);
    });
    *slot.borrow_mut() = Some(frame);
}
