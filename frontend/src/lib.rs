//! sockscope's web page: a Yew app that replays the engine's trace.
//!
//! Code map: [`page_state`] is the page's one pure reducer (what is open, its link, notices,
//! playback), holding [`playback`]'s; `hooks` runs the effects and `app` lays out the page;
//! [`steps`] groups the trace's events into the steps a reader moves by and says what each
//! event is about; [`pace`] turns simulated time into watching time; [`url`] and [`share`] read and write the
//! page's address; [`catalogue`] lists the built-in scenarios and fetches their files, through
//! `promise`, which settles the browser's promises; [`model`] runs a scenario and indexes its
//! trace; [`call_status`] says what a process card tells about its call; [`validation`] holds the loopback validator's report when the build found one; the
//! `view` modules draw. Only `start` touches the browser at startup. [`studio`] (the playground
//! and what-if forks) is compiled into the library but reached only from the studio's build
//! (`src/bin/sockscope-studio.rs`), which hands it to [`start`]; the player's build leaves
//! it out.

mod app;
pub mod call_status;
pub mod catalogue;
mod hooks;
pub mod inflate;
pub mod model;
pub mod pace;
pub mod page_state;
pub mod playback;
mod promise;
#[cfg(test)]
mod report_source;
pub mod share;
pub mod steps;
pub mod studio;
pub mod url;
pub mod validation;
pub mod view;

/// The part of the page only the studio's build has: a function that draws the workbench,
/// and one that opens custom text, which in the studio may also be a packetdrill script. The
/// player's build passes none, so none of the studio's code is linked into it.
#[derive(Clone, Copy)]
pub struct Studio {
    pub bench: fn(BenchProps) -> yew::Html,
    pub load_custom: fn(&str) -> Result<model::Loaded, model::Unopened>,
}

/// What the workbench gets from the page.
#[derive(yew::Properties, Clone, PartialEq)]
pub struct BenchProps {
    pub page: hooks::Page,
    /// The address the page was opened with.
    pub query: std::rc::Rc<url::PageQuery>,
    pub on_copy_link: yew::Callback<web_sys::MouseEvent>,
}

/// Starts the page: a panic shows a banner with its message; the app mounts once the
/// scenario it opens with has arrived.
pub fn start(studio: Option<Studio>) {
    std::panic::set_hook(Box::new(|info| show_panic(&info.to_string())));
    let root = gloo::utils::document().get_element_by_id("app").unwrap_or_else(|| gloo::utils::body().into());
    app::begin(root, studio);
}

/// Writes the panic's message into a banner at the top of the page, so that a failure is
/// seen and can be reported instead of leaving a page that silently stopped.
fn show_panic(message: &str) {
    let document = gloo::utils::document();
    let banner = match document.get_element_by_id("panic") {
        Some(banner) => banner,
        None => match document.create_element("div") {
            Ok(banner) => {
                banner.set_id("panic");
                let _ = banner.set_attribute("role", "alert");
                let _ = banner.set_attribute("data-testid", "panic");
                if let Some(body) = document.body() {
                    let _ = body.prepend_with_node_1(&banner);
                }
                banner
            }
            Err(_) => return,
        },
    };
    // Text, never markup: the message may quote scenario text.
    banner.set_text_content(Some(&format!(
        "sockscope stopped because of a bug: {message}. Reload the page to start again, and please report this message."
    )));
}
