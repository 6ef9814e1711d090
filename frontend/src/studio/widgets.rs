//! The small controls the workbench is made of: a labelled select, a labelled text field, a
//! button, and the callbacks that write what they hold into the workbench. Each is a native
//! element with a visible label, so it is reached by keyboard and named for screen readers.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::{Bench, Ctx};

/// Whether a button can be pressed now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    Enabled,
    Disabled,
}

impl Offer {
    /// Disabled when `unavailable` holds.
    pub fn unless(unavailable: bool) -> Offer {
        if unavailable {
            Offer::Disabled
        } else {
            Offer::Enabled
        }
    }
}

/// The value of the input or select an event came from.
pub fn value_of(event: &Event) -> String {
    if let Some(input) = event.target_dyn_into::<HtmlInputElement>() {
        input.value()
    } else if let Some(select) = event.target_dyn_into::<HtmlSelectElement>() {
        select.value()
    } else {
        String::new()
    }
}

/// A select of `(value, text)` options with `selected` chosen, calling `set` on change.
pub fn select(
    label: &str,
    testid: &str,
    options: Vec<(String, String)>,
    selected: &str,
    set: Callback<String>,
) -> Html {
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

pub fn number(label: &str, testid: &str, value: &str, set: Callback<String>) -> Html {
    html! {
        <label>
            <span>{ label.to_string() }</span>
            <input type="text" inputmode="numeric" size="7" data-testid={testid.to_string()} value={value.to_string()}
                oninput={move |event: InputEvent| set.emit(value_of(&event))} />
        </label>
    }
}

/// A callback that changes the workbench with `change` and draws it again.
pub fn setter(ctx: &Ctx, change: fn(&mut Bench, String)) -> Callback<String> {
    let ctx = ctx.clone();
    Callback::from(move |value: String| {
        change(&mut ctx.bench.borrow_mut(), value);
        ctx.redraw();
    })
}

pub fn button(text: &str, testid: &str, offer: Offer, action: impl Fn() + 'static) -> Html {
    html! {
        <button type="button" data-testid={testid.to_string()} disabled={offer == Offer::Disabled} onclick={move |_| action()}>{ text.to_string() }</button>
    }
}

/// Offers `text` as a file called `name`.
pub fn download(name: &str, text: &str) -> Result<(), ()> {
    super::export::offer_text(name, text).map_err(drop)
}

/// `chosen` if it is among `options`, else `fallback`: what a select shows, and what its value
/// means, when the value last chosen is no longer offered (a host of an earlier world).
pub fn shown(options: &[String], chosen: &str, fallback: Option<&String>) -> String {
    if options.iter().any(|option| option == chosen) {
        chosen.to_string()
    } else {
        fallback.cloned().unwrap_or_default()
    }
}
