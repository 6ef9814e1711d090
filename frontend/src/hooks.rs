//! The page's effects: custom hooks for everything that listens to the browser or writes to
//! it (keys, animation frames, the address, the title, the editor), and the handlers that
//! fetch, pack or copy. Each talks to the page's state only by reading it and dispatching
//! actions, so the state itself stays a pure reducer (`page_state.rs`); what happens here is
//! what the browser tests exercise.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo::events::{EventListener, EventListenerOptions};
use gloo::render::{request_animation_frame, AnimationFrame};
use gloo::timers::callback::Timeout;
use sockscope_engine::format::Numbering;
use sockscope_engine::trace::SocketId;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlSelectElement, HtmlTextAreaElement, KeyboardEvent};
use yew::prelude::*;

use crate::catalogue;
use crate::model::{self, Shared};
use crate::page_state::{Action, Answer, Copied, Link, PageState, RequestId};
use crate::playback;
use crate::promise;
use crate::share;
use crate::url::Layout;
use crate::view::controls::give_keys_to_player;

/// The page's state handle, as `use_reducer` gives it.
pub type Page = UseReducerHandle<PageState>;

/// How long the cursor must rest before the address is rewritten to match it, in ms.
const ADDRESS_REST_MS: u32 = 200;

/// Drops the loading indicator once the first render is on screen, and marks that moment
/// (`sockscope-first-frame`) for the web benchmark.
#[hook]
pub fn use_first_frame_mark() {
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
}

/// Whether the window is narrow, which decides the sequence diagram's layout; kept current as
/// the window is resized.
#[hook]
pub fn use_narrow_window() -> bool {
    let narrow = use_state(is_narrow);
    {
        let narrow = narrow.clone();
        use_effect_with((), move |_| {
            let listener = EventListener::new(&gloo::utils::window(), "resize", move |_| narrow.set(is_narrow()));
            move || drop(listener)
        });
    }
    *narrow
}

fn is_narrow() -> bool {
    gloo::utils::window().inner_width().ok().and_then(|width| width.as_f64()).is_some_and(|width| width < 760.0)
}

/// Keeps `--sticky-height` on the page's root element equal to the height of the sticky bar
/// (`bar`), so that style.css can size the sequence diagram to the room below the bar: a
/// reader who scrolls to see the diagram's end still sees its lanes' names, which the bar
/// covered when the diagram was taller than that room. A ResizeObserver reports only real
/// changes of size (the narration wrapping onto another line, a resized window), so a seek
/// costs nothing here. The property is set through the style object, which the page's
/// Content-Security-Policy allows (it forbids only inline style attributes and elements).
#[hook]
pub fn use_sticky_height(bar: &NodeRef) {
    let bar = bar.clone();
    use_effect_with((), move |_| {
        let element = bar.cast::<web_sys::HtmlElement>();
        let measured = element.clone();
        let on_resize = Closure::<dyn FnMut()>::new(move || {
            let (Some(bar), Some(root)) = (
                &measured,
                gloo::utils::document()
                    .document_element()
                    .and_then(|root| root.dyn_into::<web_sys::HtmlElement>().ok()),
            ) else {
                return;
            };
            let _ = root.style().set_property("--sticky-height", &format!("{}px", bar.offset_height()));
        });
        let observer = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok();
        if let (Some(observer), Some(element)) = (&observer, &element) {
            observer.observe(element);
        }
        move || {
            if let Some(observer) = observer {
                observer.disconnect();
            }
            drop(on_resize);
        }
    });
}

/// Starts the page again when only the address's fragment changes.
///
/// A link that differs from the open one only after `#` (another custom scenario pasted into
/// the address bar) is a same-document navigation: the browser keeps the page and fires
/// `hashchange`. The page's own address updates use `replaceState`, which never fires it.
#[hook]
pub fn use_reload_on_new_fragment() {
    use_effect_with((), |_| {
        let listener = EventListener::new(&gloo::utils::window(), "hashchange", |_| {
            let _ = gloo::utils::window().location().reload();
        });
        move || drop(listener)
    });
}

/// While the page plays, one `Tick` per animation frame; dropping the frame handle stops it.
#[hook]
pub fn use_animation_frames(page: &Page) {
    let dispatcher = page.dispatcher();
    use_effect_with(page.playback.playing, move |playing| {
        let slot: Rc<RefCell<Option<AnimationFrame>>> = Rc::new(RefCell::new(None));
        if *playing {
            schedule_frame(slot.clone(), Rc::new(Cell::new(None)), dispatcher);
        }
        move || {
            slot.borrow_mut().take();
        }
    });
}

/// Asks for the next frame; it dispatches the time since the previous one and asks again.
fn schedule_frame(
    slot: Rc<RefCell<Option<AnimationFrame>>>,
    last: Rc<Cell<Option<f64>>>,
    dispatcher: UseReducerDispatcher<PageState>,
) {
    let next_slot = slot.clone();
    let frame = request_animation_frame(move |timestamp| {
        if let Some(previous) = last.get() {
            dispatcher.dispatch(Action::Playback(playback::Action::Tick(timestamp - previous)));
        }
        last.set(Some(timestamp));
        schedule_frame(next_slot, last, dispatcher);
    });
    *slot.borrow_mut() = Some(frame);
}

/// The playback keys: Space, ←/→, Shift+←/→, Home/End, +/−. Keys typed into a text field, a
/// list or a control that uses them itself are left alone.
#[hook]
pub fn use_playback_keys(page: &Page) {
    let dispatcher = page.dispatcher();
    use_effect_with((), move |_| {
        // Not passive: the handled keys must not also scroll the page.
        let options = EventListenerOptions::enable_prevent_default();
        let listener = EventListener::new_with_options(&gloo::utils::document(), "keydown", options, move |event| {
            let Some(event) = event.dyn_ref::<KeyboardEvent>() else { return };
            if let Some(action) = playback_key(event) {
                event.prevent_default();
                dispatcher.dispatch(Action::Playback(action));
            }
        });
        move || drop(listener)
    });
}

/// The playback action of a key press, or `None` when the page should leave it alone.
fn playback_key(event: &KeyboardEvent) -> Option<playback::Action> {
    if event.default_prevented() || event.ctrl_key() || event.meta_key() || event.alt_key() {
        return None;
    }
    let target = event.target().and_then(|target| target.dyn_into::<web_sys::Element>().ok());
    let tag = target.as_ref().map(|element| element.tag_name().to_ascii_lowercase()).unwrap_or_default();
    let on_range = target.as_ref().and_then(|element| element.get_attribute("type")).as_deref() == Some("range");
    if tag == "textarea" || tag == "select" || (tag == "input" && !on_range) {
        return None;
    }
    let action = match event.key().as_str() {
        " " if tag == "button" || tag == "a" || tag == "summary" => return None,
        " " => playback::Action::TogglePlay,
        "ArrowRight" | "ArrowLeft" | "Home" | "End" if on_range => return None,
        "ArrowRight" if event.shift_key() => playback::Action::NextChange,
        "ArrowLeft" if event.shift_key() => playback::Action::PreviousChange,
        "ArrowRight" => playback::Action::StepForward,
        "ArrowLeft" => playback::Action::StepBack,
        "Home" => playback::Action::Home,
        "End" => playback::Action::End,
        "+" | "=" => playback::Action::Faster,
        "-" => playback::Action::Slower,
        _ => return None,
    };
    Some(action)
}

/// The address follows the moment shown, though not while playing, to keep history calm,
/// nor while the page keeps the address it could not follow (`PageState::keep_address`).
///
/// It is written once the cursor has rested for a moment: `history.replaceState` is a
/// synchronous call into the browser that costs milliseconds (about 14 ms each in headless
/// Chromium), so writing it on every seek of a scrub would cost more than the seek itself.
/// "Copy link" reads the state, not the address, so it is never behind.
#[hook]
pub fn use_address_sync(page: &Page, layout: Layout) {
    let resting_at = page.address_to_write(layout);
    use_effect_with(resting_at, |address| {
        let pending = address.clone().map(|address| {
            Timeout::new(ADDRESS_REST_MS, move || {
                let window = gloo::utils::window();
                let address = format!("{}{address}", window.location().pathname().unwrap_or_default());
                if let Ok(history) = window.history() {
                    let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&address));
                }
            })
        });
        // A newer moment (or playing) cancels the write that has not happened yet.
        move || drop(pending)
    });
}

/// The browser tab's title names the open scenario.
#[hook]
pub fn use_document_title(page: &Page) {
    use_effect_with(page.loaded.title.clone(), |title| {
        gloo::utils::document().set_title(&format!("{title} — sockscope"))
    });
}

/// Fills the editor with the text of the scenario on screen, once per scenario, when the
/// editor is open or next opens, and otherwise leaves it alone: binding its value would copy
/// the whole scenario text between Rust and the page on every frame, and filling a closed
/// editor on every run of the playground cost a fifth of a call's time (a profile in Chromium).
#[hook]
pub fn use_editor_text(page: &Page, editor: &NodeRef) {
    let unshown = use_mut_ref(|| None::<Shared>);
    {
        let (editor, unshown) = (editor.clone(), unshown.clone());
        use_effect_with(page.loaded.clone(), move |loaded| {
            *unshown.borrow_mut() = Some(loaded.clone());
            fill_open_editor(&editor, &unshown);
        });
    }
    let editor = editor.clone();
    use_effect_with((), move |_| {
        let details = editor.cast::<web_sys::Element>().and_then(|area| area.closest("details").ok().flatten());
        let listener =
            details.map(|details| EventListener::new(&details, "toggle", move |_| fill_open_editor(&editor, &unshown)));
        move || drop(listener)
    });
}

/// Puts the scenario not yet shown into the editor, if the editor is open.
fn fill_open_editor(editor: &NodeRef, unshown: &Rc<RefCell<Option<Shared>>>) {
    let Some(area) = editor.cast::<HtmlTextAreaElement>() else { return };
    let open = area.closest("details").ok().flatten().is_none_or(|details| details.has_attribute("open"));
    if open {
        if let Some(loaded) = unshown.borrow_mut().take() {
            area.set_value(&loaded.text);
        }
    }
}

/// The handlers that open another scenario.
pub struct OpenHandlers {
    /// The picker's: fetches the picked built-in scenario's file.
    pub on_pick: Callback<Event>,
    /// The editor's "Run": runs its text, then has the browser pack it for the link.
    pub on_run_custom: Callback<MouseEvent>,
}

/// Opening waits for the browser, so each request takes the next number ([`next_request`])
/// and the answer carries it back; the reducer drops an answer to any but the latest request.
///
/// A choice in the picker hands the keyboard to the player (`play_button`), see
/// [`give_keys_to_player`].
#[hook]
pub fn use_open_handlers(
    page: &Page,
    editor: &NodeRef,
    play_button: &NodeRef,
    load: Option<crate::app::LoadCustom>,
) -> OpenHandlers {
    // Made once: they hold only the dispatcher and the editor's node, which never change, so
    // the picker and the editor (compared by their props) are skipped on a seek.
    let on_pick = {
        let (dispatcher, play_button) = (page.dispatcher(), play_button.clone());
        use_callback((), move |event: Event, _| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            give_keys_to_player(&play_button);
            open_builtin(&dispatcher, select.value(), |_| {});
        })
    };
    let on_run_custom = {
        let (dispatcher, editor) = (page.dispatcher(), editor.clone());
        use_callback((), move |_: MouseEvent, _| {
            let Some(area) = editor.cast::<HtmlTextAreaElement>() else { return };
            let text = area.value();
            if load.is_none() && !model::is_scenario_text(&text) {
                return open_script_in_studio(&text, dispatcher.clone());
            }
            match load.unwrap_or(model::load_custom)(&text) {
                // The link's fragment is compressed by the browser, which answers a moment
                // later; the scenario opens then, with a link to share.
                Ok(loaded) => {
                    let request = next_request();
                    dispatcher.dispatch(Action::Packing { request });
                    let (dispatcher, loaded) = (dispatcher.clone(), Shared(Rc::new(loaded)));
                    let open = move |packed: Result<String, String>| {
                        let link = packed.map_or_else(Link::CannotPack, Link::Packed);
                        dispatcher.dispatch(Action::Answered { request, answer: Answer::Open { loaded, link } });
                    };
                    share::pack(&text, Box::new(open));
                }
                Err(model::Unopened { what, why }) => {
                    dispatcher.dispatch(Action::EditorRejected(format!("This {what} {why}.")))
                }
            }
        })
    };
    OpenHandlers { on_pick, on_run_custom }
}

/// The player's build has no packetdrill reader: a script put into its editor opens in the
/// studio's build, which the address carries it to.
fn open_script_in_studio(text: &str, dispatcher: UseReducerDispatcher<PageState>) {
    let done = move |packed: Result<String, String>| match packed {
        Ok(packed) => {
            let _ = gloo::utils::window().location().assign(&format!("?studio=1#pkt={packed}"));
        }
        Err(why) => dispatcher.dispatch(Action::EditorRejected(format!(
            "This text is not a scenario's JSON, and the studio, which opens packetdrill scripts, cannot be \
             given it: {why}."
        ))),
    };
    share::pack(text, Box::new(done));
}

thread_local! {
    /// The latest request's number. It is counted here, not read back from the state, because
    /// two requests can be made before the page renders again (two quick picks).
    static LATEST_REQUEST: Cell<RequestId> = Cell::new(RequestId::default());
}

/// The number of a new request to open a scenario.
pub(crate) fn next_request() -> RequestId {
    LATEST_REQUEST.with(|latest| {
        let next = latest.get().next();
        latest.set(next);
        next
    })
}

/// Opens the built-in scenario `name`: its file is fetched, then it opens at its start; if it
/// cannot be had, the page says why and `failed` hears it too.
pub(crate) fn open_builtin(
    dispatcher: &UseReducerDispatcher<PageState>,
    name: String,
    failed: impl FnOnce(String) + 'static,
) {
    let request = next_request();
    dispatcher.dispatch(Action::Fetching { request, name: name.clone() });
    let dispatcher = dispatcher.clone();
    catalogue::fetch(name, move |loaded| {
        let answer = match loaded {
            Ok(loaded) => Answer::Open { loaded: Shared(Rc::new(loaded)), link: Link::Builtin },
            Err(why) => {
                failed(why.clone());
                Answer::Failed(why)
            }
        };
        dispatcher.dispatch(Action::Answered { request, answer });
    });
}

/// Opens a custom scenario from a link's packed fragment at once, or says why it cannot.
pub(crate) fn open_packed(
    dispatcher: &UseReducerDispatcher<PageState>,
    packed: String,
    load: crate::app::LoadCustom,
) -> Result<(), String> {
    let text = share::unpack(&packed)?;
    let loaded = load(&text).map_err(|unopened| format!("it {}", unopened.why))?;
    let request = next_request();
    dispatcher.dispatch(Action::Packing { request });
    dispatcher.dispatch(Action::Answered {
        request,
        answer: Answer::Open { loaded: Shared(Rc::new(loaded)), link: Link::Packed(packed) },
    });
    Ok(())
}

/// The handlers of "Copy link" and "Copy embed code".
pub struct ShareHandlers {
    pub on_copy_link: Callback<MouseEvent>,
    pub on_copy_embed: Callback<MouseEvent>,
}

/// Both copy the moment shown. They are made on every render, with that render's handle:
/// a handler made once would keep each state it ever read alive (Yew's handle remembers them).
pub fn share_handlers(page: &Page) -> ShareHandlers {
    let on_copy_link = {
        let page = page.clone();
        Callback::from(move |_: MouseEvent| {
            let link = format!("{}{}", page_url(), page.address(Layout::Full));
            copy_to_clipboard(&link, page.dispatcher(), Copied::Link);
        })
    };
    let on_copy_embed = {
        let page = page.clone();
        Callback::from(move |_: MouseEvent| {
            let code = page.embed_code_for(&page_url());
            page.dispatch(Action::ShowEmbedCode(code.clone()));
            copy_to_clipboard(&code, page.dispatcher(), Copied::EmbedCode);
        })
    };
    ShareHandlers { on_copy_link, on_copy_embed }
}

/// Writes `text` to the clipboard; the status line then says whether the browser allowed it.
pub(crate) fn copy_to_clipboard(text: &str, dispatcher: UseReducerDispatcher<PageState>, what: Copied) {
    let written = gloo::utils::window().navigator().clipboard().write_text(text);
    promise::settle(
        &written,
        |_| Ok(()),
        move |copied| {
            dispatcher.dispatch(match copied {
                Ok(()) => Action::Copied(what),
                Err(_) => Action::CopyRefused,
            })
        },
    );
}

/// The page's own address, without its query and fragment.
pub fn page_url() -> String {
    let location = gloo::utils::window().location();
    format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default())
}

/// The callbacks the page hands its memoised children. Each is made once, or again only when
/// what it reads changes, so that a seek gives those children no new props and Yew skips them.
pub struct PageCallbacks {
    pub dispatch: Callback<playback::Action>,
    /// A socket card's head was pressed: pin its socket in the state diagram, or unpin it.
    pub on_select: Callback<SocketId>,
    pub on_unpin: Callback<MouseEvent>,
    pub on_dismiss: Callback<MouseEvent>,
    pub on_numbering: Callback<Numbering>,
}

#[hook]
pub fn use_page_callbacks(page: &Page) -> PageCallbacks {
    let dispatch = {
        let dispatcher = page.dispatcher();
        use_callback((), move |action: playback::Action, _| dispatcher.dispatch(Action::Playback(action)))
    };
    // Made again only when the pinned socket changes, so the socket cards, which compare
    // their callback, are skipped on a seek unless their socket changed.
    let on_select = {
        let dispatcher = page.dispatcher();
        use_callback(page.playback.selected, move |id: SocketId, selected| {
            let socket = if *selected == Some(id) { None } else { Some(id) };
            dispatcher.dispatch(Action::Playback(playback::Action::Select(socket)))
        })
    };
    let on_unpin = {
        let dispatcher = page.dispatcher();
        use_callback((), move |_: MouseEvent, _| dispatcher.dispatch(Action::Playback(playback::Action::Select(None))))
    };
    let on_dismiss = {
        let dispatcher = page.dispatcher();
        use_callback((), move |_: MouseEvent, _| dispatcher.dispatch(Action::DismissNotices))
    };
    let on_numbering = {
        let dispatcher = page.dispatcher();
        use_callback((), move |numbering, _| dispatcher.dispatch(Action::SetNumbering(numbering)))
    };
    PageCallbacks { dispatch, on_select, on_unpin, on_dismiss, on_numbering }
}
