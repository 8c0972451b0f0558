//! One contact: its fields (phones as E.164 with the text as written), what validation
//! found, where it stands in merges ("merged into" with Unmerge, the contacts it absorbed),
//! archiving, and its history.

use caseyos_domain::contacts::{ContactField, ContactStatus, ContactView};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::audit::Aggregate;
use crate::api::contacts::{UnmergeRequest, Written};
use crate::api::{self};
use crate::components::audit_events::{event_list, NewerEvents};
use crate::components::contacts::{chips, label, name, severity_badge, value};
use crate::components::fields::field;
use crate::components::modal::{confirm_dialog, ConfirmProps, Modal};
use crate::components::status::{self, error_view, Load};
use crate::hooks::{reload_all, use_dialog, use_query, Refresh};
use crate::infra::format::{absolute, actor, now, relative};
use crate::routes::Route;

#[derive(Properties, PartialEq)]
pub struct ContactProps {
    pub id: AttrValue,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Dialog {
    /// Undo the merge of this contact (merged into another, or absorbed by this one).
    Unmerge(Uuid),
    Archive,
}

fn when(at: chrono::DateTime<chrono::Utc>) -> Html {
    html! { <time datetime={at.to_rfc3339()} title={absolute(at)}>{ relative(now(), at) }</time> }
}

fn contact_link(id: &Uuid) -> Html {
    let short: String = id.to_string().chars().take(8).collect();
    html! { <Link<Route> to={Route::Contact { id: id.to_string() }}>{ format!("contact {short}") }</Link<Route>> }
}

/// A part of the page: a section titled `title`.
fn part(id: &str, title: &str, body: Html) -> Html {
    html! {
        <section aria-labelledby={id.to_string()}>
            <h2 id={id.to_string()}>{ title.to_string() }</h2>
            { body }
        </section>
    }
}

fn facts(contact: &ContactView) -> Html {
    let f = &contact.fields;
    let custom = f.custom.keys().map(|k| ContactField::Custom(k.clone()));
    html! {
        <dl class="fields">
            { for ContactField::NAMED.iter().cloned().chain(custom).filter(|field| !field.is_list()).map(|field| field_row(&field, contact)) }
            { field("Emails", html! {
                if f.emails.is_empty() { { "—" } } else {
                    <ul class="link-list">{ for f.emails.iter().enumerate().map(|(i, e)| html! { <li>{ e }{ if i == 0 { " (primary)" } else { "" } }</li> }) }</ul>
                }
            }) }
            { field("Phones", html! {
                if f.phones.is_empty() { { "—" } } else {
                    <ul class="link-list">{ for f.phones.iter().map(|p| html! {
                        <li>
                            { p.e164.clone().unwrap_or_else(|| "not a valid number".into()) }
                            <span class="muted">{ format!(" (as written: {})", p.raw) }</span>
                        </li>
                    }) }</ul>
                }
            }) }
            { field("Source", html! { { contact.source.as_str() } }) }
            { field("Created", html! { <>{ when(contact.created_at) }{ format!(" by {}", actor(&contact.created_by)) }</> }) }
            { field("Contact id", html! { <code>{ contact.id.to_string() }</code> }) }
        </dl>
    }
}

fn field_row(f: &ContactField, contact: &ContactView) -> Html {
    field(&label(f), html! { { value(f, &contact.fields) } })
}

fn findings(contact: &ContactView) -> Html {
    let Some(validation) = &contact.validation else {
        return html! { <p class="muted">{ "Not validated yet: ContactValidation runs daily, or run it from Agents." }</p> };
    };
    let report = &validation.report;
    html! {
        <>
            <p>
                <strong>{ if report.valid { "Valid" } else { "Invalid" } }</strong>
                { format!(" · {} findings · validated ", report.issues.len()) }{ when(validation.at) }
                { format!(" by {}", actor(&validation.by)) }
            </p>
            if !report.issues.is_empty() {
                <div class="table-wrap" tabindex="0" role="region" aria-label="Validation findings">
                    <table class="data">
                        <thead><tr>
                            <th scope="col">{ "Severity" }</th><th scope="col">{ "Field" }</th>
                            <th scope="col">{ "Finding" }</th><th scope="col">{ "Suggestion" }</th>
                        </tr></thead>
                        <tbody>
                            { for report.issues.iter().map(|i| html! {
                                <tr>
                                    <td>{ severity_badge(i.severity) }</td>
                                    <td>{ &i.field }</td>
                                    <td>{ &i.message }{ " " }<code>{ &i.code }</code></td>
                                    <td>{ i.suggestion.clone().unwrap_or_else(|| "—".into()) }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </div>
            }
        </>
    }
}

fn lineage(contact: &ContactView, unmerge: &Callback<Uuid>) -> Html {
    let open = |id: Uuid| unmerge.reform(move |_: MouseEvent| id);
    html! {
        <>
            if let Some(into) = &contact.merged_into {
                <div class="notice merged" role="note">
                    { "Merged into " }{ contact_link(&into.primary) }{ " " }{ when(into.at) }{ format!(" by {}. ", actor(&into.by)) }
                    <button type="button" class="button" onclick={open(contact.id)}>{ "Unmerge…" }</button>
                </div>
            }
            if contact.absorbed.is_empty() && contact.unmerged.is_empty() {
                <p class="muted">{ "It has absorbed no other contact." }</p>
            }
            if !contact.absorbed.is_empty() {
                <ul class="link-list">
                    { for contact.absorbed.iter().map(|a| html! {
                        <li>
                            { "Absorbed " }{ contact_link(&a.contact) }{ " " }{ when(a.at) }
                            { format!(" by {} ({} fields changed)", actor(&a.by), a.changes.len()) }
                            { match a.unmerged_at {
                                Some(at) => html! { <>{ " · unmerged " }{ when(at) }</> },
                                None => html! { <>{ " " }<button type="button" class="button" onclick={open(a.contact)}>{ "Unmerge…" }</button></> },
                            } }
                        </li>
                    }) }
                </ul>
            }
            if !contact.unmerged.is_empty() {
                <p>{ "Merges of this contact that were undone: " }{ for contact.unmerged.iter().map(|m| html! { <><code>{ m.to_string() }</code>{ " " }</> }) }</p>
            }
        </>
    }
}

#[component]
pub fn ContactPage(props: &ContactProps) -> Html {
    let dialog = use_dialog::<Dialog>();
    let recreate = use_state(|| false);
    let contact = use_query(Refresh::never(), props.id.clone(), |id, consistency| {
        let id = id.clone();
        async move { api::contacts::contact(&id, consistency.as_deref()).await }
    });
    let audit = use_query(Refresh::never(), props.id.clone(), |id, _| {
        let id = id.clone();
        async move { api::audit::history(Aggregate::Contact, &id, None).await }
    });
    let retry = reload_all([contact.reload.clone(), audit.reload.clone()]);

    // A write here: read the contact at least as far, and its history again.
    let written = {
        let (contact, audit) = (contact.clone(), audit.clone());
        move |written: Written| {
            match written.consistency {
                Some(token) => contact.read_after(token),
                None => contact.reload.emit(()),
            }
            audit.reload.emit(());
        }
    };
    let on_unmerge = {
        let (dialog, written, recreate) = (dialog.clone(), written.clone(), recreate.clone());
        Callback::from(move |_| {
            let Some(Dialog::Unmerge(id)) = dialog.shown().copied() else {
                return;
            };
            let request = UnmergeRequest {
                recreate_in_crm: *recreate,
            };
            dialog.run(
                async move { api::contacts::unmerge(&id.to_string(), &request).await },
                written.clone(),
            );
        })
    };
    let on_archive = {
        let (dialog, written, id) = (dialog.clone(), written.clone(), props.id.clone());
        Callback::from(move |_| {
            let id = id.clone();
            dialog.run(
                async move { api::contacts::archive(&id).await },
                written.clone(),
            );
        })
    };
    let on_restore = {
        let (written, id, contact) = (written.clone(), props.id.clone(), contact.clone());
        Callback::from(move |_: MouseEvent| {
            let (id, written, contact) = (id.clone(), written.clone(), contact.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::contacts::restore(&id).await {
                    Ok(answer) => written(answer),
                    Err(_) => contact.reload.emit(()),
                }
            });
        })
    };
    let open_unmerge = {
        let (dialog, recreate) = (dialog.clone(), recreate.clone());
        Callback::from(move |id: Uuid| {
            recreate.set(false);
            dialog.show(Dialog::Unmerge(id));
        })
    };

    let body = status::view(&*contact, 6, &retry, |c| {
        html! {
            <>
                <header class="detail-header">
                    <h1>{ name(&c.fields) }{ chips(c.status, c.demo) }</h1>
                    <p class="muted">
                        <Link<Route> to={Route::Contacts}>{ "All contacts" }</Link<Route>>
                        { format!(" · version {}", c.version) }
                    </p>
                    <div class="actions">
                        { match c.status {
                            ContactStatus::Active => html! { <button type="button" class="button" onclick={dialog.opener(Dialog::Archive)}>{ "Archive…" }</button> },
                            ContactStatus::Archived => html! { <button type="button" class="button" onclick={on_restore.clone()}>{ "Restore" }</button> },
                            ContactStatus::Merged => html! {},
                        } }
                    </div>
                </header>
                { part("c-lineage", "Merges", lineage(c, &open_unmerge)) }
                { part("c-fields", "Fields", facts(c)) }
                { part("c-findings", "Validation", findings(c)) }
            </>
        }
    });
    let timeline = status::view(&*audit, 3, &retry, |history| {
        html! {
            <>
                { event_list(&history.events, None, None) }
                <NewerEvents aggregate={Aggregate::Contact} id={props.id.clone()}
                    history={history.clone()}
                    on_loaded={let audit = audit.clone(); Callback::from(move |h| audit.set(h))} />
            </>
        }
    });

    let crm = matches!(&*contact, Load::Ready(c) if c.fields.crm_id.is_some());
    let dialog_view = match dialog.shown().copied() {
        None => html! {},
        Some(Dialog::Archive) => confirm_dialog(&yew::props!(ConfirmProps {
            title: "Archive this contact?",
            message: "It leaves the active list and duplicate review; Restore brings it back.",
            confirm: "Archive",
            busy: dialog.busy(),
            error: dialog.error(),
            on_confirm: on_archive,
            on_close: dialog.close(),
        })),
        Some(Dialog::Unmerge(_)) => {
            let toggle = {
                let recreate = recreate.clone();
                Callback::from(move |_: Event| recreate.set(!*recreate))
            };
            html! {
                <Modal title="Undo this merge?" on_close={dialog.close()} role="alertdialog">
                    <ul>
                        <li>{ "Both records come back as they were before the merge: the absorbed contact is active again with its own fields." }</li>
                        <li>{ "Edits made to the primary since the merge are kept; only the values the merge brought in are taken back." }</li>
                        <li>{ "HubSpot merges are permanent: if the merge reached HubSpot, HubSpot keeps one record there." }
                            if !crm { { " (This contact has no CRM id.)" } }
                        </li>
                    </ul>
                    <label class="checkbox">
                        <input type="checkbox" checked={*recreate} onchange={toggle} />
                        { " Re-create the absorbed record in HubSpot" }
                    </label>
                    if let Some(error) = dialog.error() { { error_view(&error, None) } }
                    <div class="dialog-actions">
                        <button type="button" class="button" onclick={dialog.close().reform(|_| ())}>{ "Cancel" }</button>
                        <button type="button" class="button primary" disabled={dialog.busy()} onclick={on_unmerge.reform(|_| ())}>
                            { if dialog.busy() { "Unmerging…" } else { "Unmerge" } }
                        </button>
                    </div>
                </Modal>
            }
        }
    };

    html! {
        <section class="page detail" aria-label="Contact">
            { body }
            { part("c-timeline", "History", timeline) }
            { dialog_view }
        </section>
    }
}
