//! Predict mode's panel: the question on screen, its choices, the verdict with the reason,
//! and the score.

use yew::prelude::*;

use super::predict::Author;
use super::widgets::{button, Offer};
use super::Ctx;

pub fn predict_view(ctx: &Ctx) -> Html {
    let bench = ctx.bench.borrow();
    let Some(predicting) = &bench.predict else { return html! {} };
    let score = html! { <p class="predict-score" data-testid="predict-score">{ predicting.score.text() }</p> };
    let unreadable = predicting.unreadable.clone().map(|why| html! { <p class="bench-hint" role="alert">{ why }</p> });
    let unplaced = (!predicting.unplaced.is_empty()).then(|| {
        html! {
            <p class="bench-hint" data-testid="predict-unplaced">
                { format!(
                    "The scenario's {} about moments this run does not have, so {} not asked: {}.",
                    if predicting.unplaced.len() == 1 { "question is" } else { "questions are" },
                    if predicting.unplaced.len() == 1 { "it is" } else { "they are" },
                    predicting.unplaced.join("; ")
                ) }
            </p>
        }
    });
    let next = {
        let ctx = ctx.clone();
        move || ctx.next_question(ctx.page.playback.cursor)
    };
    let Some(question) = predicting.current.and_then(|index| predicting.questions.get(index)) else {
        return html! {
            <div class="bench-body" data-testid="predict">
                <p class="bench-hint">{ "Predict mode asks, before each step that matters, what will happen next. There is no question left in this run from the moment shown: go back with the player's controls, then ask again." }</p>
                { score }
                { unreadable.clone().unwrap_or_default() }
                { unplaced.clone().unwrap_or_default() }
                { button("Ask again from here", "predict-next", Offer::Enabled, next) }
            </div>
        };
    };
    let choices = question.choices.iter().enumerate().map(|(index, choice)| {
        let ctx = ctx.clone();
        let class = match predicting.chosen {
            Some(_) if index == question.answer => "right",
            Some(chosen) if chosen == index => "wrong",
            _ => "",
        };
        html! {
            <li>
                <button type="button" class={class} data-testid="predict-choice" disabled={predicting.chosen.is_some()}
                    onclick={move |_| ctx.answer(index)}>{ choice.clone() }</button>
            </li>
        }
    });
    let verdict = predicting.chosen.map(|chosen| {
        let text = if chosen == question.answer { "Right." } else { "Not this time." };
        html! {
            <div class="predict-verdict" data-testid="predict-verdict">
                <p><strong>{ text }</strong>{ format!(" The answer: {}.", question.choices[question.answer]) }</p>
                <p data-testid="predict-why">{ question.why.clone() }</p>
                { button("Next question", "predict-next", Offer::Enabled, next.clone()) }
            </div>
        }
    });
    html! {
        <div class="bench-body" data-testid="predict">
            <p class="bench-hint">{ "Before each step that matters, say what will happen; the step then shows, with why." }</p>
            { score }
            { unreadable.unwrap_or_default() }
            { unplaced.unwrap_or_default() }
            <fieldset class="predict-question" data-author={if question.author == Author::Scenario { "scenario" } else { "page" }}>
                <legend data-testid="predict-prompt">{ question.prompt.clone() }</legend>
                <ul class="predict-choices">{ for choices }</ul>
            </fieldset>
            { verdict.unwrap_or_default() }
        </div>
    }
}
