//! One contact: its fields (phones as E.164 with the text as written), what validation
//! found, where it stands in merges ("merged into" with Unmerge, the contacts it absorbed),
//! what came of the moves about them (outcomes: replies, meetings, bounces), and its history.
//! Read in one query (the contact, the first page of its history, its outcomes).

use serde_json::Value;
use yew::prelude::*;

use crate::components::fields::button;

use crate::api::audit::Aggregate;
use crate::api::contacts::{consistency, UnmergeRequest};
use crate::api::{self};
use crate::components::audit_events::{event_list, NewerEventsProps};
use crate::components::contacts::{
    at, chips, fields_table, items, list_table, name, part, str_at, text, FIELDS,
};
use crate::components::executions::outcomes_table;
use crate::components::modal::{confirm_dialog, ConfirmProps, Hooked, HookedView};
use crate::components::status;
use crate::hooks::{use_dialog, use_query, Refresh};
use crate::routes::query::pair;
use crate::routes::{link, Route};

#[derive(Properties, PartialEq)]
pub struct ContactProps {
    pub id: AttrValue,
}

fn contact_link(id: &str) -> Html {
    let short: String = id.chars().take(8).collect();
    link(
        Route::Contact { id: id.to_string() },
        html! { { format!("contact {short}") } },
    )
}

/// What validation found: valid or not, and the findings as a table.
fn findings(contact: &Value) -> Html {
    let validation = at(contact, "validation");
    if validation.is_null() {
        return html! { <p class="muted">{ "Not validated yet: ContactValidation runs daily, or run it from Agents." }</p> };
    }
    let issues = items(at(validation, "report.issues"));
    html! {
        <>
            { fields_table(validation, &[("Valid", "report.valid"), ("Validated at", "at"), ("Rules version", "report.rules_version")]) }
            if !issues.is_empty() {
                { list_table("Validation findings", issues, &[("Severity", "severity"), ("Field", "field"), ("Finding", "message"), ("Code", "code"), ("Suggestion", "suggestion")], None) }
            }
        </>
    }
}

/// Where the contact stands in merges, with Unmerge where a merge can be undone.
fn lineage(contact: &Value, unmerge: &Callback<String>) -> Html {
    let open = |id: &str| {
        let id = id.to_string();
        unmerge.reform(move |_: MouseEvent| id.clone())
    };
    let id = str_at(contact, "id").unwrap_or_default();
    let absorbed = items(at(contact, "absorbed"));
    html! {
        <>
            if let Some(into) = str_at(contact, "merged_into.primary") {
                <div class="notice merged" role="note">
                    { "Merged into " }{ contact_link(into) }{ format!(" at {}. ", text(at(contact, "merged_into.at"))) }
                    { button("button", "Unmerge…", false, open(id)) }
                </div>
            }
            if absorbed.is_empty() {
                <p class="muted">{ "It has absorbed no other contact." }</p>
            }
            <ul class="link-list">
                { for absorbed.iter().map(|a| {
                    let other = str_at(a, "contact").unwrap_or_default();
                    html! {
                        <li>
                            { "Absorbed " }{ contact_link(other) }{ format!(" at {} ({} fields changed)", text(at(a, "at")), items(at(a, "changes")).len()) }
                            if let Some(at) = str_at(a, "unmerged_at") { { format!(" · unmerged at {at}") } }
                            else { { " " }{ button("button", "Unmerge…", false, open(other)) } }
                        </li>
                    }
                }) }
            </ul>
            if !items(at(contact, "unmerged")).is_empty() {
                <p>{ format!("Merges of this contact that were undone: {}", text(at(contact, "unmerged"))) }</p>
            }
        </>
    }
}

#[hook]
pub fn use_contact_page(props: &ContactProps) -> Html {
    // The contact whose merge the dialog undoes.
    let dialog = use_dialog::<String>();
    let recreate = use_state(bool::default);
    let query = use_query(Refresh::never(), props.id.clone(), |id, consistency| {
        let id = id.clone();
        async move {
            let contact = api::contacts::contact(&id, consistency.as_deref()).await?;
            let history = api::audit::history(Aggregate::Contact, &id, None).await?;
            // What came of the moves about them: by their address, else by their id.
            let filter = match at(&contact, "fields.emails").get(0).and_then(Value::as_str) {
                Some(email) => pair("email", email),
                None => pair("contact", &id),
            };
            let outcomes = api::executions::outcomes(&filter, consistency.as_deref()).await?;
            Ok((contact, history, outcomes))
        }
    });

    let on_unmerge = {
        let (dialog, recreate, query) = (dialog.clone(), recreate.clone(), query.clone());
        Callback::from(move |_| {
            let Some(id) = dialog.shown().cloned() else {
                return;
            };
            let request = UnmergeRequest {
                recreate_in_crm: *recreate,
            };
            let query = query.clone();
            dialog.run(
                async move { api::contacts::unmerge(&id, &request).await },
                move |written| match consistency(&written) {
                    Some(token) => query.read_after(token),
                    None => query.reload.emit(()),
                },
            );
        })
    };
    let open_unmerge = {
        let (dialog, recreate) = (dialog.clone(), recreate.clone());
        Callback::from(move |id: String| {
            recreate.set(false);
            dialog.show(id);
        })
    };

    let body = status::view(&*query, 6, &query.reload, |(c, history, outcomes)| {
        let fields = at(c, "fields");
        // One table: the named fields, then the custom properties.
        let custom: Vec<(String, String)> = at(fields, "custom")
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| (format!("Custom: {k}"), format!("custom.{k}")))
            .collect();
        let mut rows = FIELDS.to_vec();
        rows.extend(custom.iter().map(|(l, k)| (l.as_str(), k.as_str())));
        let on_loaded = {
            let (query, c, o) = (query.clone(), c.clone(), outcomes.clone());
            Callback::from(move |h| query.set((c.clone(), h, o.clone())))
        };
        html! {
            <>
                <header class="detail-header">
                    <h1>{ name(fields) }{ chips(c) }</h1>
                    <p class="muted">
                        { format!("{} · version {} · from {}", text(at(c, "id")), text(at(c, "version")), text(at(c, "source"))) }
                    </p>
                </header>
                { part("Merges", lineage(c, &open_unmerge)) }
                { part("Fields", fields_table(fields, &rows)) }
                { part("Validation", findings(c)) }
                { part("Outcomes", outcomes_table(outcomes)) }
                { part("History", html! {
                    <>
                        { event_list(&history.events, None, None) }
                        <HookedView key="newer" view={Hooked::NewerEvents(NewerEventsProps { aggregate: Aggregate::Contact, id: props.id.clone(), history: history.clone(), on_loaded })} />
                    </>
                }) }
            </>
        }
    });

    let crm =
        matches!(&*query, status::Load::Ready((c, _, _)) if str_at(c, "fields.crm_id").is_some());
    let dialog_view = if dialog.shown().is_some() {
        let toggle = {
            let recreate = recreate.clone();
            Callback::from(move |_: Event| recreate.set(!*recreate))
        };
        confirm_dialog(&yew::props!(ConfirmProps {
            title: "Undo this merge?",
            message: format!(
                "Both records come back as they were before the merge: the absorbed contact is active again with its own fields. Edits made to the primary since the merge are kept; only the values the merge brought in are taken back. HubSpot merges are permanent: if the merge reached HubSpot, HubSpot keeps one record there.{}",
                if crm { "" } else { " (This contact has no CRM id.)" }
            ),
            confirm: "Unmerge",
            busy: dialog.busy(),
            error: dialog.error(),
            extra: html! {
                <label class="checkbox">
                    <input type="checkbox" checked={*recreate} onchange={toggle} />
                    { " Re-create the absorbed record in HubSpot" }
                </label>
            },
            on_confirm: on_unmerge,
            on_close: dialog.close(),
        }))
    } else {
        html! {}
    };

    html! {
        <section class="page detail" aria-label="Contact">
            { body }
            { dialog_view }
        </section>
    }
}
