//! Importing contacts from a CSV file: choose a file (or paste the text), upload it as
//! `text/csv`, follow its progress (rows read, created, updated, skipped, failed), and read
//! the rows that failed with their line numbers once it is done. The import's id is in the
//! URL (`?id=`), so the page can be reloaded or shared.

use serde_json::Value;
use wasm_bindgen_futures::JsFuture;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::contacts::{fields_table, items, list_table, str_at};
use crate::components::status::{self, error_view};
use crate::hooks::{use_query, Refresh};
use crate::infra::app_state::use_app;
use crate::infra::dom::bind;
use crate::routes::query::{pair, query_value};
use crate::routes::{link, push, use_location, Route};

/// How often a running import is read again.
const POLL_MS: u32 = 700;

/// The text of the file chosen in `input`, if one is.
async fn file_text(input: &NodeRef) -> Option<String> {
    let file = input.cast::<web_sys::HtmlInputElement>()?.files()?.get(0)?;
    let text = JsFuture::from(file.text()).await.ok()?;
    text.as_string()
}

/// Whether the import is still reading rows.
fn running(import: &Option<Value>) -> bool {
    import
        .as_ref()
        .is_some_and(|i| str_at(i, "status") == Some("running"))
}

fn progress(import: &Value) -> Html {
    let status = str_at(import, "status").unwrap_or("running");
    let tone = match status {
        "completed" => "ok",
        "failed" => "bad",
        _ => "active",
    };
    let errors = items(&import["errors"]);
    let failed = import["failed"].as_u64().unwrap_or(0);
    html! {
        <>
            <p role="status">
                <span class={classes!("chip", "run-status", tone)}>{ status.to_string() }</span>
                if status == "running" { { " Reading rows…" } }
            </p>
            if let Some(error) = str_at(import, "error") {
                <p class="field-error">{ error.to_string() }</p>
            }
            <div class="import-counts">
                { fields_table(import, &[("Rows read", "rows"), ("Created", "created"), ("Updated", "updated"), ("Skipped (unchanged)", "skipped"), ("Failed", "failed")]) }
            </div>
            if status != "running" {
                if errors.is_empty() {
                    <p>{ "No row failed." }</p>
                } else {
                    { list_table("Rows that failed", errors, &[("Line", "line"), ("Why", "message")], None) }
                    if (errors.len() as u64) < failed {
                        <p class="muted">{ format!("The first {} of {} failed rows.", errors.len(), failed) }</p>
                    }
                }
                <p>
                    { link(Route::Duplicates, html! { "Review duplicates" }) }
                </p>
            }
        </>
    }
}

#[hook]
pub fn use_import_page() -> Html {
    let app = use_app();
    let location = use_location();
    let file = use_node_ref();
    let pasted = use_state(String::new);
    let busy = use_state(bool::default);
    let failed = use_state(Option::<ApiError>::default);
    let id = query_value(location.query_str(), "id");

    let import = use_query(
        Refresh::never().every(POLL_MS).while_ready(running),
        id.clone(),
        |id, _| {
            let id = id.clone();
            async move {
                match id {
                    Some(id) => api::contacts::import(&id).await.map(Some),
                    None => Ok(None),
                }
            }
        },
    );

    let onsubmit = {
        let (file, pasted, busy, failed) =
            (file.clone(), pasted.clone(), busy.clone(), failed.clone());
        let (import, app) = (import.clone(), app.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (file, pasted, busy, failed) =
                (file.clone(), pasted.clone(), busy.clone(), failed.clone());
            let (import, app) = (import.clone(), app.clone());
            busy.set(true);
            failed.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let csv = match file_text(&file).await {
                    Some(text) => text,
                    None => (*pasted).clone(),
                };
                let answer = api::contacts::start_import(csv).await;
                busy.set(false);
                match answer {
                    Ok(started) => {
                        let opened = pair("id", str_at(&started, "id").unwrap_or_default());
                        import.set(Some(started));
                        push(&Route::ContactImport, &opened);
                    }
                    Err(error) => {
                        app.check(&error);
                        failed.set(Some(error));
                    }
                }
            });
        })
    };

    html! {
        <section class="page" aria-labelledby="import-title">
            <header class="page-header">
                <h1 id="import-title">{ "Import contacts" }</h1>
                <p class="muted">{ "A CSV file with a header row. Rows matching a contact by CRM id or email update it." }</p>
            </header>
            <form class="import-form" {onsubmit}>
                <div class="field">
                    <label for="import-file">{ "CSV file" }</label>
                    <input id="import-file" type="file" accept=".csv,text/csv" ref={file} />
                </div>
                <div class="field">
                    <label for="import-text">{ "Or paste the CSV text (used when no file is chosen)" }</label>
                    <textarea id="import-text" rows="6" value={(*pasted).clone()} oninput={bind(&pasted)} />
                </div>
                <button type="submit" class="button primary" disabled={*busy}>{ if *busy { "Uploading…" } else { "Upload and import" } }</button>
            </form>
            if let Some(error) = &*failed { { error_view(error, None) } }
            if id.is_some() {
                <section aria-labelledby="import-progress-title">
                    <h2 id="import-progress-title">{ "Progress" }</h2>
                    { status::view(&*import, 3, &import.reload, |found| match found {
                        Some(import) => progress(import),
                        None => html! {},
                    }) }
                </section>
            }
        </section>
    }
}
