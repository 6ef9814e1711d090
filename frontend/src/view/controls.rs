//! Play, pause, stepping, the scrubber and the speed.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::state::{Action, SPEEDS, SPEED_TEXT};

#[derive(Properties, PartialEq, Clone)]
pub struct ControlsProps {
    pub cursor: usize,
    pub len: usize,
    pub playing: bool,
    pub speed: f64,
    /// Simulated time of the cursor, as text.
    pub time: String,
    pub dispatch: Callback<Action>,
    #[prop_or_default]
    pub compact: bool,
}

#[function_component(Controls)]
pub fn controls(props: &ControlsProps) -> Html {
    let send = |action: Action| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(action.clone()))
    };
    let on_scrub = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Ok(value) = input.value().parse::<usize>() {
                dispatch.emit(Action::Seek(value));
            }
        })
    };
    let on_speed = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            if let Ok(value) = select.value().parse::<f64>() {
                dispatch.emit(Action::SetSpeed(value));
            }
        })
    };
    let (play_icon, play_text) = if props.playing { ("❚❚", "Pause") } else { ("▶", "Play") };
    html! {
        <div class={classes!("controls", props.compact.then_some("compact"))} role="group" aria-label="Playback">
            <div class="buttons">
                <button onclick={send(Action::Home)} title="Beginning (Home)" aria-label="Go to the beginning" data-testid="home">{ "|◀" }</button>
                <button onclick={send(Action::PreviousChange)} title="Previous state change (Shift+←)"
                    aria-label="Previous state change" data-testid="prev-change">{ "⇤ state" }</button>
                <button onclick={send(Action::StepBack)} title="One event back (←)" aria-label="One event back" data-testid="step-back">{ "◀" }</button>
                <button class="play" onclick={send(Action::TogglePlay)} title="Play or pause (Space)" data-testid="play"
                    aria-label={play_text}>{ play_icon }<span class="play-text">{ play_text }</span></button>
                <button onclick={send(Action::StepForward)} title="One event forward (→)" aria-label="One event forward"
                    data-testid="step-forward">{ "▶" }</button>
                <button onclick={send(Action::NextChange)} title="Next state change (Shift+→)" aria-label="Next state change"
                    data-testid="next-change">{ "state ⇥" }</button>
                <button onclick={send(Action::End)} title="End (End)" aria-label="Go to the end" data-testid="end">{ "▶|" }</button>
                <label class="speed">
                    <span>{ "Speed" }</span>
                    <select onchange={on_speed} data-testid="speed" aria-label="Playback speed">
                        { for SPEEDS.iter().zip(SPEED_TEXT).map(|(speed, text)| html! {
                            <option value={text} selected={*speed == props.speed}>{ format!("{text}×") }</option>
                        }) }
                    </select>
                </label>
            </div>
            <div class="scrub">
                <input type="range" min="0" max={props.len.to_string()} value={props.cursor.to_string()} oninput={on_scrub}
                    aria-label="Position in the trace (events)" data-testid="scrubber"
                    aria-valuetext={format!("event {} of {}, {}", props.cursor, props.len, props.time)} />
                <span class="position" data-testid="position" data-cursor={props.cursor.to_string()} data-len={props.len.to_string()}>
                    { format!("event {} / {}", props.cursor, props.len) }<span class="muted">{ " · " }{ &props.time }</span>
                </span>
            </div>
            if !props.compact {
                <p class="keys muted">{ "Keys: Space play/pause · ←/→ one event · Shift+←/→ state change · Home/End · +/− speed" }</p>
            }
        </div>
    }
}
