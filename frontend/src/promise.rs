//! Settling the browser's promises, and fetching a text file served beside the page (a
//! built-in scenario).
//!
//! Each promise is settled with a pair of one-shot closures, so the page needs no async
//! runtime for its few promises (a fetch, a compression, a copy to the clipboard).

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Response;

/// Calls `done` once when `promise` settles: with what `ok` makes of its value, or with the
/// rejection's message.
pub fn settle<T: 'static>(
    promise: &js_sys::Promise,
    ok: impl FnOnce(JsValue) -> Result<T, String> + 'static,
    done: impl FnOnce(Result<T, String>) + 'static,
) {
    // Both branches need `done`; whichever runs takes it.
    let done = Rc::new(RefCell::new(Some(done)));
    let rejected = done.clone();
    let fulfilled: Closure<dyn FnMut(JsValue)> = Closure::once(move |value| {
        let done = done.borrow_mut().take();
        if let Some(done) = done {
            done(ok(value));
        }
    });
    let failed: Closure<dyn FnMut(JsValue)> = Closure::once(move |error: JsValue| {
        let done = rejected.borrow_mut().take();
        if let Some(done) = done {
            done(Err(describe(&error)));
        }
    });
    let _ = promise.then2(&fulfilled, &failed);
    // Exactly one of the two runs, once; the pair is small and let go rather than tracked.
    fulfilled.forget();
    failed.forget();
}

/// Fetches `url` (relative to the page) and calls `done` once with its text, or with why it
/// could not be read ("the server answered 404 Not Found", "Failed to fetch").
pub fn text(url: &str, done: impl FnOnce(Result<String, String>) + 'static) {
    let promise = gloo::utils::window().fetch_with_str(url);
    settle(&promise, body_of, move |body| match body {
        Ok(body) => settle(&body, |text| text.as_string().ok_or_else(|| "the file is not text".to_string()), done),
        Err(why) => done(Err(why)),
    });
}

/// The promise of a successful response's text.
fn body_of(value: JsValue) -> Result<js_sys::Promise, String> {
    let response = value.dyn_into::<Response>().map_err(|_| "the browser gave no response".to_string())?;
    if !response.ok() {
        let status = format!("the server answered {} {}", response.status(), response.status_text());
        return Err(status.trim_end().to_string());
    }
    response.text().map_err(|error| describe(&error))
}

/// A rejection's message: a JavaScript `Error`'s message, or the value as text.
fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "the request failed".to_string())
}
