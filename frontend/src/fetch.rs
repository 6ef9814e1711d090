//! Fetching a text file served beside the page (a built-in scenario), and settling promises.
//!
//! The browser's `fetch()` answers with promises; each is settled here with a pair of one-shot
//! closures, so the page needs no async runtime for its few promises.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Response;

type Done = Rc<RefCell<Option<Box<dyn FnOnce(Result<String, String>)>>>>;

/// Fetches `url` (relative to the page) and calls `done` once with its text, or with why it
/// could not be read ("the server answered 404 Not Found", "Failed to fetch").
pub fn text(url: &str, done: impl FnOnce(Result<String, String>) + 'static) {
    let done: Done = Rc::new(RefCell::new(Some(Box::new(done))));
    let promise = gloo::utils::window().fetch_with_str(url);
    let on_error = {
        let done = done.clone();
        move |error: JsValue| finish(&done, Err(describe(&error)))
    };
    settle(
        &promise,
        move |value| {
            let Ok(response) = value.dyn_into::<Response>() else {
                return finish(&done, Err("the browser gave no response".to_string()));
            };
            if !response.ok() {
                let status = format!("the server answered {} {}", response.status(), response.status_text());
                return finish(&done, Err(status.trim_end().to_string()));
            }
            match response.text() {
                Ok(body) => {
                    let on_error = {
                        let done = done.clone();
                        move |error: JsValue| finish(&done, Err(describe(&error)))
                    };
                    settle(
                        &body,
                        move |body| finish(&done, body.as_string().ok_or_else(|| "the file is not text".to_string())),
                        on_error,
                    );
                }
                Err(error) => finish(&done, Err(describe(&error))),
            }
        },
        on_error,
    );
}

fn finish(done: &Done, result: Result<String, String>) {
    // Taken before the call, so that nothing the callback does can find it borrowed.
    let callback = done.borrow_mut().take();
    if let Some(callback) = callback {
        callback(result);
    }
}

/// Runs `ok` or `failed` when `promise` settles.
pub fn settle(promise: &js_sys::Promise, ok: impl FnOnce(JsValue) + 'static, failed: impl FnOnce(JsValue) + 'static) {
    let ok: Closure<dyn FnMut(JsValue)> = Closure::once(ok);
    let failed: Closure<dyn FnMut(JsValue)> = Closure::once(failed);
    let _ = promise.then2(&ok, &failed);
    // Exactly one of the two runs, once; the pair is small and let go rather than tracked.
    ok.forget();
    failed.forget();
}

/// A rejection's message: a JavaScript `Error`'s message, or the value as text.
fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "the request failed".to_string())
}
