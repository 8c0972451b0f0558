//! `/voice`: voice training. The samples DraftWriter learns from (sent emails collected by
//! themselves, drafts, pastes of at least 100 characters), each rated 1–5 with feedback or
//! deleted; and the persona computed from them — tone, style, stats, common phrases, word
//! frequency, greeting and sign-off — with a language model's summary when one is connected.

use serde_json::Value;
use yew::prelude::*;

use crate::components::fields::button;

use crate::api;
use crate::components::contacts::{at, fields_table, items, list_table, page, part, str_at};
use crate::components::status::{self, error_view};
use crate::hooks::{ask, confirm, reload_all, use_action, use_query, Refresh};
use crate::infra::dom::{bind, value_of};

/// The fewest characters a pasted sample may have.
pub const MIN_SAMPLE_CHARS: usize = 100;

/// What the paste box says of `count` characters: how many, and how many more are needed.
pub fn count_note(count: usize) -> String {
    match MIN_SAMPLE_CHARS.checked_sub(count) {
        Some(more) if more > 0 => format!("{count} characters: {more} more needed"),
        _ => format!("{count} characters"),
    }
}

/// The persona's facts: (label, path). Numbers as the server computes them (rates are
/// shares from 0 to 1).
const PERSONA: &[(&str, &str)] = &[
    ("Samples", "sample_count"),
    ("Rated", "rated_count"),
    ("Rated 4 or 5", "top_rated_count"),
    ("Tone", "tone"),
    ("Style", "style"),
    ("Words per sample", "stats.avg_words_per_sample"),
    ("Words per sentence", "stats.avg_sentence_words"),
    ("Share of sentences that ask", "stats.question_rate"),
    ("Share of contractions", "stats.contraction_rate"),
    ("Greeting", "greeting"),
    ("Sign-off", "sign_off"),
    ("Summary", "summary.text"),
    ("Summary written by", "summary.model"),
    ("Language model", "llm"),
];

/// The samples' columns after the controls: (heading, path).
const SAMPLES: &[(&str, &str)] = &[
    ("Source", "source"),
    ("Rating", "rating"),
    ("Feedback", "feedback"),
    ("Sample", "content"),
    ("Added", "added_at"),
];

#[hook]
pub fn use_voice_page() -> Html {
    let samples = use_query(Refresh::never(), (), |_, _| api::voice::samples());
    let persona = use_query(Refresh::never(), (), |_, _| api::voice::persona());
    let action = use_action();
    let paste = use_state(String::new);
    let busy = *action.busy;
    let reload = reload_all([samples.reload.clone(), persona.reload.clone()]);

    let add = {
        let (action, paste, reload) = (action.clone(), paste.clone(), reload.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (paste, reload) = (paste.clone(), reload.clone());
            action.run(api::voice::add((*paste).clone()), move |_| {
                paste.set(String::new());
                reload.emit(());
            });
        })
    };
    let summarise = {
        let (action, persona) = (action.clone(), persona.clone());
        Callback::from(move |_: MouseEvent| {
            let persona = persona.clone();
            action.run(api::voice::summarise(), move |p| persona.set(p));
        })
    };
    // A sample's controls: its rating (saved when chosen, with its feedback), new feedback
    // (asked for, saved with the rating), Delete.
    let controls = |s: &Value| {
        let id = str_at(s, "id").unwrap_or_default().to_string();
        let rating = at(s, "rating").as_u64().map(|r| r as u8);
        let feedback = str_at(s, "feedback").map(str::to_string);
        let save = {
            let (action, reload, id, feedback) =
                (action.clone(), reload.clone(), id.clone(), feedback.clone());
            move |rating: Option<u8>, words: Option<String>| {
                let Some(rating) = rating.filter(|r| (1..=5).contains(r)) else {
                    return;
                };
                let reload = reload.clone();
                let words = words
                    .or_else(|| feedback.clone())
                    .filter(|w| !w.trim().is_empty());
                action.run(api::voice::rate(id.clone(), rating, words), move |_| {
                    reload.emit(())
                });
            }
        };
        let choose = {
            let save = save.clone();
            Callback::from(move |e: Event| save(value_of(&e).parse().ok(), None))
        };
        let write = Callback::from(move |_: MouseEvent| {
            if let Some(words) = ask("Feedback on this sample (what to keep, what to change):") {
                save(rating, Some(words));
            }
        });
        let remove = {
            let (action, reload, id) = (action.clone(), reload.clone(), id.clone());
            Callback::from(move |_: MouseEvent| {
                if confirm("Delete this sample? DraftWriter no longer learns from it.") {
                    let reload = reload.clone();
                    action.run(api::voice::delete(id.clone()), move |_| reload.emit(()));
                }
            })
        };
        html! {
            <div class="actions">
                <select aria-label="Rating" disabled={busy} onchange={choose}>
                    <option value="" selected={rating.is_none()}>{ "Rate…" }</option>
                    { for (1..=5u8).map(|n| html! { <option value={n.to_string()} selected={rating == Some(n)}>{ format!("{n} of 5") }</option> }) }
                </select>
                { button("button", "Feedback…", busy || rating.is_none(), write) }
                { button("button danger", "Delete", busy, remove) }
            </div>
        }
    };
    let sample_list = status::view(&*samples, 3, &samples.reload, |found| {
        list_table("Samples", items(found), SAMPLES, Some(("Rate", &controls)))
    });
    let persona_view = status::view(&*persona, 3, &persona.reload, |p| {
        html! {
            <>
                { fields_table(p, PERSONA) }
                { button("button", "Write summary", busy, summarise.clone()) }
                { list_table("Common phrases", items(at(p, "common_phrases")), &[("Phrase", "phrase"), ("Times", "count")], None) }
                { list_table("Word frequency", items(at(p, "word_frequency")), &[("Word", "word"), ("Times", "count")], None) }
            </>
        }
    });
    let count = paste.chars().count();
    page(
        "voice-title",
        "Voice",
        html! { "The emails DraftWriter learns your voice from: rate them, and it writes from the best." },
        html! {
            <>
                if let Some(error) = &*action.error { { error_view(error, None) } }
                { part("Persona", persona_view) }
                <form class="ask" onsubmit={add}>
                    <label for="voice-sample">{ "Paste a sample" }</label>
                    <textarea id="voice-sample" rows="4" maxlength="20000"
                        value={(*paste).clone()} oninput={bind(&paste)} aria-describedby="voice-count" />
                    <p id="voice-count" class="muted">{ count_note(count) }</p>
                    <button class="button primary" type="submit" disabled={busy || count < MIN_SAMPLE_CHARS}>{ "Add sample" }</button>
                </form>
                { part("Samples", sample_list) }
            </>
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn the_paste_box_counts_characters_up_to_the_minimum() {
        // (characters, note)
        let table = [
            (0, "0 characters: 100 more needed"),
            (99, "99 characters: 1 more needed"),
            (100, "100 characters"),
            (2500, "2500 characters"),
        ];
        for (count, note) in table {
            assert_eq!(count_note(count), note, "{count}");
        }
    }

    #[derive(Properties, PartialEq)]
    struct HostProps {
        persona: Value,
    }

    #[component]
    fn Host(props: &HostProps) -> Html {
        fields_table(&props.persona, PERSONA)
    }

    #[wasm_bindgen_test]
    async fn the_persona_shows_each_fact_of_the_servers_answer() {
        let persona = json!({"sample_count": 12, "rated_count": 5, "top_rated_count": 3,
            "tone": ["warm", "direct"], "style": ["short sentences"],
            "stats": {"avg_words_per_sample": 84.5, "avg_sentence_words": 11.2, "question_rate": 0.25, "contraction_rate": 0.4},
            "greeting": "Hi Dana,", "sign_off": null, "summary": null, "llm": "not_connected"});
        let root = crate::test_support::mount::<Host>(HostProps { persona }).await;
        let rows = root.query_selector_all("tr").unwrap();
        let shown: Vec<String> = (0..rows.length())
            .filter_map(|i| rows.get(i)?.text_content())
            .collect();
        let expected = [
            "Samples12",
            "Rated5",
            "Rated 4 or 53",
            "Tonewarm, direct",
            "Styleshort sentences",
            "Words per sample84.5",
            "Words per sentence11.2",
            "Share of sentences that ask0.25",
            "Share of contractions0.4",
            "GreetingHi Dana,",
            "Sign-off—",
            "Summary—",
            "Summary written by—",
            "Language modelnot_connected",
        ];
        assert_eq!(shown, expected);
    }
}
