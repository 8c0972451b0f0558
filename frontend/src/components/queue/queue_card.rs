//! One proposed move in a list: APS badge and reasoning, title, target, type, due time, and
//! its decisions.

use caseyos_domain::queue::aps::Aps;
use caseyos_domain::queue::{DraftOrigin, QueueItemView, QueueStatus};
use yew::prelude::*;

use crate::infra::format::{humanize, is_overdue, now, relative, score};
use crate::routes::{app_link, Route};

/// The score, coloured by band, with its reasoning as the accessible description.
pub fn aps_badge(aps: &Aps) -> Html {
    let centi = aps.score.centi();
    let band = if centi >= 7_500 {
        "high"
    } else if centi >= 5_500 {
        "mid"
    } else {
        "low"
    };
    html! {
        <span class={classes!("aps", band)} title={aps.reasoning.clone()} role="img"
              aria-label={format!("APS {} of 100: {}", score(aps.score), aps.reasoning)}>
            { score(aps.score) }
        </span>
    }
}

/// What a move says about itself that a person must see before deciding: that it is demo
/// data, and who wrote its draft (a model, or a template).
pub fn move_marks(item: &QueueItemView) -> Html {
    let demo = item.demo.then(|| {
        html! {
            <span class="chip demo" title="Demo data from `caseyos demo seed`, not a real move">
                { "Demo" }
            </span>
        }
    });
    let draft = item.draft.as_ref().map(|draft| {
        let class = match draft.origin {
            DraftOrigin::OfflineTemplate => "offline",
            DraftOrigin::Llm => "llm",
        };
        html! { <span class={classes!("chip", "draft-origin", class)}>{ draft.label() }</span> }
    });
    html! { <>{ for demo }{ for draft }</> }
}

#[derive(Properties, PartialEq)]
pub struct QueueCardProps {
    pub item: QueueItemView,
    #[prop_or_default]
    pub focused: bool,
    #[prop_or_default]
    pub selected: bool,
    /// A request for this move is running: its buttons are disabled.
    #[prop_or_default]
    pub busy: bool,
    /// Viewers see no decision buttons.
    #[prop_or(true)]
    pub can_decide: bool,
    #[prop_or_default]
    pub on_focus: Callback<()>,
    #[prop_or_default]
    pub on_select: Callback<()>,
    #[prop_or_default]
    pub on_approve: Callback<()>,
    #[prop_or_default]
    pub on_reject: Callback<()>,
    #[prop_or_default]
    pub on_snooze: Callback<()>,
    #[prop_or_default]
    pub on_edit: Callback<()>,
}

/// "Dana Lee · Acme expansion" from the target, if any.
pub fn target_line(item: &QueueItemView) -> Option<String> {
    let t = &item.target;
    let parts: Vec<String> = [
        t.contact.as_ref().map(|c| {
            c.name
                .clone()
                .or_else(|| c.email.as_ref().map(|e| e.as_str().to_string()))
                .unwrap_or_else(|| format!("contact {}", c.id.as_str()))
        }),
        t.deal.as_ref().map(|d| {
            d.name
                .clone()
                .unwrap_or_else(|| format!("deal {}", d.id.as_str()))
        }),
        t.company.as_ref().map(|c| {
            c.name
                .clone()
                .unwrap_or_else(|| format!("company {}", c.id.as_str()))
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

pub fn queue_card(props: &QueueCardProps) -> Html {
    let item = &props.item;
    let now = now();
    let open = item.status.is_open();
    let due = item.due_by.map(|d| {
        let overdue = is_overdue(now, Some(d));
        html! {
            <span class={classes!("due", overdue.then_some("overdue"))} title={d.to_rfc3339()}>
                { if overdue { format!("overdue {}", relative(now, d)) } else { format!("due {}", relative(now, d)) } }
            </span>
        }
    });
    let button = |label: &'static str,
                  key: &'static str,
                  class: &'static str,
                  cb: &Callback<()>| {
        let cb = cb.clone();
        html! {
            <button type="button" class={classes!("button", class)} disabled={props.busy}
                    aria-keyshortcuts={key} onclick={move |e: MouseEvent| { e.stop_propagation(); cb.emit(()) }}>
                { label }
            </button>
        }
    };
    let onclick = {
        let on_focus = props.on_focus.clone();
        Callback::from(move |_| on_focus.emit(()))
    };
    let select_label = format!("Select “{}”", item.title);
    html! {
        <li key={item.id.to_string()} class={classes!("card", props.focused.then_some("focused"), props.selected.then_some("selected"))}
            aria-current={props.focused.then_some("true")} data-id={item.id.to_string()} {onclick}>
            if props.can_decide && open {
                <label class="select-hit" onclick={|e: MouseEvent| e.stop_propagation()}>
                    <input type="checkbox" class="select" checked={props.selected} aria-label={select_label}
                           onclick={let s = props.on_select.clone(); move |e: MouseEvent| { e.stop_propagation(); s.emit(()) }} />
                </label>
            }
            { aps_badge(&item.aps) }
            <div class="card-main">
                { app_link(&Route::Item { id: item.id.to_string() }, None, "card-title".into(), html! { &item.title }) }
                <div class="meta">
                    { move_marks(item) }
                    <span class="chip">{ humanize(item.action_type.as_str()) }</span>
                    { for target_line(item).map(|t| html! { <span>{ t }</span> }) }
                    { for due }
                    if item.status == QueueStatus::Snoozed {
                        <span class="chip snoozed">{ "snoozed" }</span>
                    }
                    <span class="muted">{ &item.owner }</span>
                </div>
                { for item.rationale.as_ref().map(|r| html! { <p class="rationale">{ r }</p> }) }
                <p class="reasoning muted">{ &item.aps.reasoning }</p>
            </div>
            if props.can_decide && open {
                <div class="actions" role="group" aria-label="Decide">
                    { button("Approve", "a", "primary", &props.on_approve) }
                    { button("Reject", "r", "danger", &props.on_reject) }
                    { button("Snooze", "s", "", &props.on_snooze) }
                    { button("Edit", "e", "", &props.on_edit) }
                </div>
            }
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{mount, queue_item};
    use caseyos_domain::kernel::CrmId;
    use caseyos_domain::queue::aps::{ApsOverrides, Fraction};
    use caseyos_domain::queue::{ActionType, ContactRef, Draft, Target};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn item() -> QueueItemView {
        QueueItemView {
            title: "Send email — Dana Lee".into(),
            target: Target {
                contact: Some(ContactRef {
                    id: CrmId::parse("c-1").unwrap(),
                    name: Some("Dana Lee".into()),
                    email: None,
                }),
                ..Target::default()
            },
            aps: Aps::for_action(ActionType::BookMeeting, &ApsOverrides::default()),
            rationale: Some("Replied within the hour".into()),
            ..queue_item(7)
        }
    }

    #[derive(Properties, PartialEq)]
    struct HostProps {
        item: QueueItemView,
        busy: bool,
        can_decide: bool,
    }

    #[component]
    fn Host(props: &HostProps) -> Html {
        html! {
            <>
                <ol>{ queue_card(&yew::props!(QueueCardProps { item: props.item.clone(), busy: props.busy, can_decide: props.can_decide })) }</ol>
            </>
        }
    }

    async fn render(busy: bool, can_decide: bool) -> web_sys::Element {
        mount::<Host>(HostProps {
            item: item(),
            busy,
            can_decide,
        })
        .await
    }

    #[wasm_bindgen_test]
    async fn a_card_shows_the_score_reasoning_target_and_its_decisions() {
        let root = render(false, true).await;
        let text = root.text_content().unwrap_or_default();
        assert!(text.contains("Send email — Dana Lee"), "{text}");
        assert!(text.contains("Replied within the hour"));
        assert!(text.contains("Revenue 90%"));
        let badge = root.query_selector(".aps").unwrap().unwrap();
        assert_eq!(badge.text_content().unwrap(), "82");
        assert!(badge
            .get_attribute("aria-label")
            .unwrap()
            .starts_with("APS 82 of 100"));
        let buttons = root.query_selector_all(".actions button").unwrap();
        assert_eq!(buttons.length(), 4);
        assert!(root
            .query_selector("input[type=checkbox][aria-label]")
            .unwrap()
            .is_some());
    }

    #[wasm_bindgen_test]
    async fn buttons_are_disabled_in_flight_and_absent_for_viewers() {
        let root = render(true, true).await;
        let disabled = root
            .query_selector_all(".actions button[disabled]")
            .unwrap();
        assert_eq!(disabled.length(), 4);
        let viewer = render(false, false).await;
        assert!(viewer.query_selector(".actions").unwrap().is_none());
    }

    async fn render_item(item: QueueItemView) -> web_sys::Element {
        mount::<Host>(HostProps {
            item,
            busy: false,
            can_decide: true,
        })
        .await
    }

    #[wasm_bindgen_test]
    async fn a_template_draft_and_demo_data_are_marked_and_a_real_move_is_not() {
        let marked = QueueItemView {
            draft: Some(Draft::offline_template()),
            demo: true,
            ..item()
        };
        let root = render_item(marked).await;
        let mark = root
            .query_selector(".draft-origin")
            .unwrap()
            .expect("a draft mark");
        assert_eq!(
            mark.text_content().unwrap(),
            "Offline template — not written by a model"
        );
        let demo = root
            .query_selector(".chip.demo")
            .unwrap()
            .expect("a demo mark");
        assert_eq!(demo.text_content().unwrap(), "Demo");

        let by_model = QueueItemView {
            draft: Some(Draft::llm(Some("gpt-4o".into()))),
            ..item()
        };
        let root = render_item(by_model).await;
        let text = root.text_content().unwrap_or_default();
        assert!(text.contains("Written by a model (gpt-4o)"), "{text}");
        assert!(!text.contains("Offline template"), "{text}");
        assert!(root.query_selector(".chip.demo").unwrap().is_none());

        let plain = render(false, true).await;
        assert!(plain.query_selector(".draft-origin").unwrap().is_none());
        assert!(plain.query_selector(".chip.demo").unwrap().is_none());
    }

    #[wasm_bindgen_test]
    async fn the_reasoning_says_which_aps_inputs_are_defaults() {
        let assessed = QueueItemView {
            aps: Aps::for_action(
                ActionType::BookMeeting,
                &ApsOverrides {
                    urgency: Fraction::from_f64_clamped(0.95),
                    ..ApsOverrides::default()
                },
            ),
            ..item()
        };
        let root = render_item(assessed).await;
        let reasoning = root.query_selector(".reasoning").unwrap().unwrap();
        assert_eq!(
            reasoning.text_content().unwrap(),
            "Revenue 90% (default for book meeting), Urgency 95%, \
             Strategic 80% (default for book meeting), Effort↓ 60% (default for book meeting)"
        );
        let badge = root.query_selector(".aps").unwrap().unwrap();
        assert!(badge
            .get_attribute("aria-label")
            .unwrap()
            .contains("Urgency 95%, Strategic 80% (default for book meeting)"));
    }

    #[wasm_bindgen_test]
    fn target_lines_join_what_is_known() {
        assert_eq!(target_line(&item()).as_deref(), Some("Dana Lee"));
        let mut bare = item();
        bare.target = Target::default();
        assert_eq!(target_line(&bare), None);
    }
}
