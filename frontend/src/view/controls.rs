//! Play, pause, stepping, the scrubber and the speed.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::playback::{Action, SPEEDS, SPEED_TEXT};

#[derive(Properties, PartialEq, Clone)]
pub struct ControlsProps {
    pub cursor: usize,
    pub len: usize,
    pub playing: bool,
    pub speed: f64,
    /// Simulated time of the cursor, as text.
    pub time: String,
    pub dispatch: Callback<Action>,
    /// The Play button, which takes the keyboard after a choice in a list.
    #[prop_or_default]
    pub play_button: NodeRef,
    #[prop_or_default]
    pub compact: bool,
}

/// The actions of the row of buttons, in the order they are drawn.
const BUTTON_ACTIONS: [Action; 7] = [
    Action::Home,
    Action::PreviousChange,
    Action::StepBack,
    Action::TogglePlay,
    Action::StepForward,
    Action::NextChange,
    Action::End,
];

/// Moves the keyboard's focus to the player's Play button, after a choice in one of the
/// page's lists (the scenario, the speed).
///
/// A list keeps the focus after a choice, and with it the keys: → then picks the next
/// entry (in the scenario list, opening the next scenario) and Space opens the list, where the
/// page's own hints promise a step and play. On the Play button, Space plays or pauses (the
/// button's own click) and the arrows step (`hooks::use_playback_keys`); Shift+Tab goes back to the
/// list. To move through a list without choosing, a keyboard reader opens it first (Alt+↓, or
/// Space), as in any list whose choice acts at once.
pub fn give_keys_to_player(play_button: &NodeRef) {
    if let Some(button) = play_button.cast::<web_sys::HtmlElement>() {
        let _ = button.focus();
    }
}

#[function_component(Controls)]
pub fn controls(props: &ControlsProps) -> Html {
    // The handlers are made once per `dispatch` (which the app makes once), so a seek leaves
    // the buttons' listeners as they are.
    let buttons = use_memo(props.dispatch.clone(), |dispatch| {
        BUTTON_ACTIONS.map(|action| {
            let dispatch = dispatch.clone();
            Callback::from(move |_: MouseEvent| dispatch.emit(action.clone()))
        })
    });
    let [home, previous_change, step_back, toggle_play, step_forward, next_change, end] = (*buttons).clone();
    let on_scrub = use_callback(props.dispatch.clone(), |event: InputEvent, dispatch| {
        let input: HtmlInputElement = event.target_unchecked_into();
        if let Ok(value) = input.value().parse::<usize>() {
            dispatch.emit(Action::Seek(value));
        }
    });
    let on_speed =
        use_callback((props.dispatch.clone(), props.play_button.clone()), |event: Event, (dispatch, play)| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            give_keys_to_player(play);
            // Looked up, not parsed: a float parser is about 9 KB of the page's download.
            let value = select.value();
            if let Some(index) = SPEED_TEXT.iter().position(|text| *text == value) {
                dispatch.emit(Action::SetSpeed(SPEEDS[index]));
            }
        });
    let (play_icon, play_text) = if props.playing { ("❚❚", "Pause") } else { ("▶", "Play") };
    html! {
        <div class={classes!("controls", props.compact.then_some("compact"))} role="group" aria-label="Playback">
            <div class="buttons">
                <button onclick={home} title="Beginning (Home)" aria-label="Go to the beginning" data-testid="home">{ "|◀" }</button>
                <button onclick={previous_change} title="Previous state change (Shift+←)"
                    aria-label="Previous state change" data-testid="prev-change">{ "⇤ state" }</button>
                <button onclick={step_back} title="One step back (←)" aria-label="One step back" data-testid="step-back">{ "◀" }</button>
                <button class="play" ref={props.play_button.clone()} onclick={toggle_play} title="Play or pause (Space)" data-testid="play"
                    aria-label={play_text}>{ play_icon }<span class="play-text">{ play_text }</span></button>
                <button onclick={step_forward} title="One step forward (→)" aria-label="One step forward"
                    data-testid="step-forward">{ "▶" }</button>
                <button onclick={next_change} title="Next state change (Shift+→)" aria-label="Next state change"
                    data-testid="next-change">{ "state ⇥" }</button>
                <button onclick={end} title="End (End)" aria-label="Go to the end" data-testid="end">{ "▶|" }</button>
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
                <p class="keys muted">{ "Keys: Space play/pause · ←/→ one step · Shift+←/→ state change · Home/End · +/− speed" }</p>
            }
        </div>
    }
}
