//! The browser's side of the embedding API (`embed_api.rs` is its language): the window's
//! `message` events in, the reports out to the page that embeds this one.

use std::cell::RefCell;

use gloo::events::EventListener;
use wasm_bindgen::{JsCast, JsValue};

use super::embed_api::{self, Command, Origins, Report};

/// Where reports go: the embedding page, and only when its origin is one the address allowed.
pub struct EmbedPort {
    origins: Origins,
    /// The embedding page's origin, once known: from the browser at load, or from a command
    /// the parent window sent from an allowed origin. Posting to a listed origin that is not the parent's would be dropped
    /// by the browser anyway, but with an error in the console for every report.
    parent: RefCell<Option<String>>,
}

impl EmbedPort {
    pub fn new(origins: Origins) -> EmbedPort {
        EmbedPort { origins, parent: RefCell::new(parent_origin()) }
    }

    pub fn post(&self, report: &Report) {
        let window = gloo::utils::window();
        let Ok(Some(parent)) = window.parent() else { return };
        // A page opened on its own is its own parent: it has nobody to tell.
        if js_sys::Object::is(&parent, &window) {
            return;
        }
        let Ok(message) = js_sys::JSON::parse(&report.to_json()) else { return };
        match self.parent.borrow().as_deref() {
            Some(origin) if self.origins.allows(origin) => {
                let _ = parent.post_message(&message, origin);
            }
            Some(_) => {}
            None => {
                for origin in self.origins.iter() {
                    let _ = parent.post_message(&message, origin);
                }
            }
        }
    }

    /// Listens for commands: one from an origin not allowed, or from this page itself, is
    /// dropped unread; one of the wrong shape is answered with the reason; the rest go to
    /// `obey`. Dropping the listener stops it.
    pub fn listen(port: std::rc::Rc<EmbedPort>, obey: impl Fn(Command) + 'static) -> EventListener {
        EventListener::new(&gloo::utils::window(), "message", move |event| {
            let Some(event) = event.dyn_ref::<web_sys::MessageEvent>() else { return };
            let origin = event.origin();
            let window = gloo::utils::window();
            let from_self = event.source().is_some_and(|source| js_sys::Object::is(&source, &window));
            if from_self || !port.origins.allows(&origin) {
                return;
            }
            // `undefined` has no JSON text: not a message of ours.
            let Some(text) = js_sys::JSON::stringify(&event.data()).ok().and_then(|text| text.as_string()) else {
                return;
            };
            let from_parent = match (event.source(), window.parent()) {
                (Some(source), Ok(Some(parent))) => js_sys::Object::is(&source, &parent),
                _ => false,
            };
            match embed_api::read(&text) {
                Ok(Some(command)) => {
                    // The embedding page says where it is by speaking from an allowed origin.
                    if from_parent {
                        *port.parent.borrow_mut() = Some(origin);
                    }
                    obey(command);
                }
                Ok(None) => {}
                Err(reason) => port.post(&Report::Rejected { reason }),
            }
        })
    }
}

/// The embedding page's origin as the browser tells it: `location.ancestorOrigins` where the
/// browser has it, else the origin of the referrer (the page that loaded this frame).
fn parent_origin() -> Option<String> {
    let window = gloo::utils::window();
    let ancestors = js_sys::Reflect::get(&window.location(), &JsValue::from_str("ancestorOrigins")).ok();
    let first = ancestors
        .filter(|list| !list.is_undefined())
        .and_then(|list| js_sys::Reflect::get(&list, &JsValue::from_f64(0.0)).ok())
        .and_then(|origin| origin.as_string());
    // A page that hides its referrer shows as `null` here too: unknown, not an origin.
    first.filter(|origin| origin != "null").or_else(|| {
        let referrer = gloo::utils::document().referrer();
        web_sys::Url::new(&referrer).ok().map(|url| url.origin()).filter(|origin| origin != "null")
    })
}
