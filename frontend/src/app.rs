//! The page: reads the address, gets the scenario it names, and mounts the app, which holds
//! the page's state in one reducer (`page_state.rs`), runs the effects as hooks (`hooks.rs`)
//! and lays out the views.

use std::rc::Rc;

use sockscope_engine::replay::Snapshot;
use yew::prelude::*;

use crate::catalogue;
use crate::hooks;
use crate::model::{self, Loaded, Shared};
use crate::page_state::PageState;
use crate::share;
use crate::url::{self, Choice, Layout};
use crate::view::controls::Controls;
use crate::view::hosts::HostPanel;
use crate::view::machine::{followed_socket, StateMachine};
use crate::view::page::{Editor, Footer, Intro, Picker};
use crate::view::panes::{Narration, SsPane, TcpdumpPane};
use crate::view::sequence::{clock, SequenceDiagram};
use crate::{BenchProps, Studio};

/// How custom text is opened: [`model::load_custom`] in the player, the studio's own in its build.
pub type LoadCustom = fn(&str) -> Result<Loaded, model::Unopened>;

/// What the address asks for, resolved once at startup.
pub struct Startup {
    page: PageState,
    layout: Layout,
    query: Rc<url::PageQuery>,
    studio: Option<Studio>,
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
pub fn begin(root: web_sys::Element, studio: Option<Studio>) {
    let (search, hash) = location();
    let query = url::parse_query(&search, &hash);
    let default = catalogue::default_scenario();
    let (choice, notice) = url::choose(&query, catalogue::exists, default);
    let mut notices: Vec<String> = notice.into_iter().map(|notice| notice.0).collect();
    let name = match choice {
        Choice::Builtin(name) => name,
        Choice::Packed(packed) => {
            let load = studio.map_or(model::load_custom as LoadCustom, |studio| studio.load_custom);
            let opened = share::unpack(&packed).and_then(|text| load(&text).map_err(|unopened| unopened.why));
            match opened {
                Ok(loaded) => return mount(root, startup(Ok(loaded), Some(packed), query, notices, studio)),
                Err(why) => {
                    notices.push(url::broken_link_notice(&why, default, query.layout).0);
                    default.to_string()
                }
            }
        }
    };
    catalogue::fetch(name, move |loaded| mount(root, startup(loaded, None, query, notices, studio)));
}

fn mount(root: web_sys::Element, start: Startup) {
    yew::Renderer::<App>::with_root_and_props(root, AppProps { start: Rc::new(start) }).render();
}

/// The page as the address opens it. When the address could not be followed (its notices say
/// why), its `t` was meant for another scenario, so the page starts at the beginning.
fn startup(
    loaded: Result<Loaded, String>,
    packed: Option<String>,
    query: url::PageQuery,
    mut notices: Vec<String>,
    studio: Option<Studio>,
) -> Startup {
    let loaded = loaded.unwrap_or_else(|err| model::empty(&err));
    let (cursor, notice) =
        if notices.is_empty() { url::start_cursor(query.t.as_deref(), loaded.trace.events.len()) } else { (0, None) };
    notices.extend(notice.map(|notice| notice.0));
    let mut page = PageState::new(Shared(Rc::new(loaded)), cursor, packed, notices);
    // An embed that only takes messages (`api=`) needs the studio's build, not its panel.
    page.studio = studio.is_some() && (query.api.is_none() || query.studio);
    page.api = query.api.clone();
    Startup { page, layout: query.layout, query: Rc::new(query), studio }
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let layout = props.start.layout;
    let page = {
        let start = props.start.clone();
        use_reducer(move || start.page.clone())
    };
    let editor = use_node_ref();
    let play_button = use_node_ref();
    let sticky_bar = use_node_ref();
    let narrow = hooks::use_narrow_window();
    hooks::use_first_frame_mark();
    hooks::use_reload_on_new_fragment();
    hooks::use_animation_frames(&page);
    hooks::use_sticky_height(&sticky_bar);
    hooks::use_playback_keys(&page);
    hooks::use_address_sync(&page, layout);
    hooks::use_document_title(&page);
    hooks::use_editor_text(&page, &editor);
    let load = props.start.studio.map(|studio| studio.load_custom);
    let hooks::OpenHandlers { on_pick, on_run_custom } = hooks::use_open_handlers(&page, &editor, &play_button, load);
    let hooks::ShareHandlers { on_copy_link, on_copy_embed } = hooks::share_handlers(&page);

    let hooks::PageCallbacks { dispatch, on_select, on_unpin, on_dismiss, on_numbering } =
        hooks::use_page_callbacks(&page);
    let numbering = page.numbering;

    let loaded = page.loaded.clone();
    let playback = &page.playback;
    let (cursor, len) = (playback.cursor, loaded.trace.events.len());
    let snapshot: Rc<Snapshot> =
        (*use_memo((loaded.clone(), cursor), |(loaded, cursor)| Rc::new(loaded.timeline.at(&loaded.trace, *cursor))))
            .clone();
    // After a pause mid-gap the view stays where playing stopped; steps and seeks move the
    // display clock to their event.
    let (position, sim_us) = (playback.position, playback.sim_time());
    let now_us = (sim_us / 1000.0).floor() as u64 * 1000;
    let time_text = clock(sim_us);
    let followed = followed_socket(&loaded, &snapshot, cursor, playback.selected);
    let followed_id = followed.as_ref().map(|followed| followed.id);
    let host_addr = |name: &str| {
        snapshot.hosts.iter().find(|host| host.name == name).map_or_else(String::new, |host| host.addr.to_string())
    };
    let host_panel = |name: &String| {
        html! {
            <HostPanel key={name.clone()} host={name.clone()} addr={host_addr(name)} snapshot={snapshot.clone()} now_us={now_us}
                followed={followed_id} pinned={playback.selected} on_select={on_select.clone()} />
        }
    };

    let embed = layout == Layout::Embedded;
    let notices_view = if page.notices.is_empty() {
        html! {}
    } else {
        html! {
            <div class="message" role="alert" data-testid="message">
                { for page.notices.iter().map(|notice| html! { <p>{ notice.clone() }</p> }) }
                <button onclick={on_dismiss} class="small">{ "Dismiss" }</button>
            </div>
        }
    };
    let controls = html! {
        <Controls cursor={cursor} len={len} playing={playback.playing} speed={playback.speed} time={time_text.clone()}
            dispatch={dispatch.clone()} play_button={play_button.clone()} compact={embed} />
    };
    let diagram = html! {
        <SequenceDiagram loaded={loaded.clone()} cursor={cursor} position={position} sim_us={sim_us} narrow={narrow}
            height={if embed { 300.0 } else { 560.0 }} numbering={numbering} differs={page.differs.clone()} />
    };
    let narration = html! { <Narration loaded={loaded.clone()} cursor={cursor} numbering={numbering} /> };

    let bench = match props.start.studio {
        Some(studio) => (studio.bench)(BenchProps {
            page: page.clone(),
            query: props.start.query.clone(),
            on_copy_link: on_copy_link.clone(),
        }),
        None => {
            // The player's build links to the studio's: the same moment, with its tools.
            let here = page.address(Layout::Full);
            let (query, fragment) = here.split_once('#').unwrap_or((here.as_str(), ""));
            let what_if =
                if fragment.is_empty() { format!("{query}&studio=1") } else { format!("{query}&studio=1#{fragment}") };
            html! {
                <nav class="studio-links" aria-label="Act on the scenario">
                    <a href={what_if} data-testid="open-what-if">{ "What if… (drop, delay or duplicate a segment)" }</a>
                    <a href="?studio=1&play=1" data-testid="open-playground">{ "Playground: make the calls yourself" }</a>
                </nav>
            }
        }
    };
    if embed {
        let full = format!("{}{}", hooks::page_url(), url::query_for(loaded.builtin.as_deref(), cursor, Layout::Full));
        return html! {
            <div class="app embed" data-testid="app">
                <header class="embed-head">
                    <strong class="title" data-testid="title">{ loaded.title.clone() }</strong>
                    <a href={full} target="_blank" rel="noopener">{ "open in sockscope ↗" }</a>
                </header>
                { notices_view }
                { narration }
                { controls }
                // In the studio's build (predict=1 in an embed), its panel; the player's
                // links to the studio are left out of the compact view.
                if props.start.studio.is_some() { { bench } }
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
                    // static/open-file.js opens what is picked here, or dropped anywhere.
                    <label class="open-file" title="A scenario (.json) or packetdrill script (.pkt), or drop one on the page">
                        { "Open a file…" }
                        <input type="file" accept=".json,.pkt,application/json,text/plain" data-open-file="" data-testid="open-file" />
                    </label>
                    <button onclick={on_copy_link} data-testid="copy-link">{ "Copy link" }</button>
                    <button onclick={on_copy_embed} data-testid="copy-embed">{ "Copy embed code" }</button>
                </div>
            </header>
            if let Some(status) = &page.status { <p class="status" role="status">{ status.clone() }</p> }
            if let Some(code) = &page.embed_code {
                <label class="snippet">
                    <span>{ "Embed code (an iframe of about 800×500):" }</span>
                    <textarea readonly=true rows="3" data-testid="embed-snippet" value={code.clone()} />
                </label>
            }
            { notices_view }
            <Intro loaded={loaded.clone()} />
            <div class="sticky" ref={sticky_bar}>
                { narration }
                { controls }
            </div>
            { bench }
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
                <StateMachine followed={followed.clone()} on_unpin={on_unpin} />
                <div class="texts">
                    <TcpdumpPane loaded={loaded.clone()} cursor={cursor} numbering={numbering} on_numbering={on_numbering} />
                    { for loaded.hosts.iter().map(|host| html! { <SsPane key={host.clone()} host={host.clone()} snapshot={snapshot.clone()} /> }) }
                </div>
            </div>
            <Editor editor={editor} on_run={on_run_custom} note={page.editor_note.clone()} />
            <Footer />
        </div>
    }
}
