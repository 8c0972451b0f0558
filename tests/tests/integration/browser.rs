//! End to end in a real browser: headless Chromium, driven over WebDriver, against the real
//! server (in process, its own database) serving the trunk build in `dist/`.
//!
//! Each test signs in with a one-time link, as a person would, and checks what the page
//! shows and what the server recorded. Waits are explicit and bounded (polling every
//! 50 ms); measured times are printed, never asserted. Screenshots go to
//! `test-artifacts/`.
//!
//! Needs `dist/` (`trunk build --release`), Chromium and chromedriver, and for the
//! accessibility check axe-core (`npm install --prefix tests/e2e`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use caseyos_domain::agent_run::{RunStatus, RunTrigger};
use caseyos_domain::api::{AgentRunListResponse, QueueListResponse};
use caseyos_domain::queue::QueueStatus;
use caseyos_tests::{query_i64, spawn_app_with, TestApp};
use serde_json::{json, Value};

use crate::support::webdriver::{Browser, Element, Options, ESCAPE, WAIT};

/// How long a change made by another client may take to show up live.
const LIVE_WAIT: Duration = Duration::from_secs(15);

/// The workspace's SPA build.
fn dist() -> PathBuf {
    let dist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist");
    assert!(
        dist.join("index.html").is_file(),
        "the web app is not built: {} holds no index.html. Build it in the workspace with \
         `TRUNK_SKIP_VERSION_CHECK=true trunk build --release` (see .ci/lib.sh)",
        dist.display()
    );
    dist.canonicalize().unwrap_or(dist)
}

/// A server of its own serving the SPA.
async fn app() -> TestApp {
    let dist = dist();
    spawn_app_with(move |config| config.web_dir = dist).await
}

/// Proposes a move owned by `admin`; returns its id.
async fn propose(app: &TestApp, body: Value) -> String {
    let mut body = body;
    body["owner"] = json!("admin");
    app.propose(&app.admin, body).await.item.id.to_string()
}

/// Proposes a plain move owned by `admin`; returns its id.
async fn propose_titled(app: &TestApp, action: &str, title: &str) -> String {
    propose(app, json!({"action_type": action, "title": title})).await
}

/// Settles the read model, then opens Today's Moves signed in, in a new browser, once it
/// lists `cards` cards.
async fn open_today(app: &TestApp, options: Options, cards: usize) -> Browser {
    app.settle().await;
    let browser = Browser::start(options).await;
    sign_in(&browser, app, Some("/today")).await;
    wait_for_cards(&browser, cards).await;
    browser
}

/// The address of a new one-time sign-in link for `admin` (role admin), as `caseyos
/// signin-link` prints it, with `&next=` when given.
async fn sign_in_url(app: &TestApp, next: Option<&str>) -> String {
    let link = app.sign_in_link("admin", "admin").await;
    let url = caseyos_backend::auth::sessions::sign_in_url(&app.address, &link);
    match next {
        Some(next) => format!("{url}&next={next}"),
        None => url,
    }
}

/// Opens a new sign-in link (going to `next` afterwards) and waits until the app has left
/// the sign-in page.
async fn sign_in(browser: &Browser, app: &TestApp, next: Option<&str>) {
    browser.goto(&sign_in_url(app, next).await).await;
    browser
        .wait_for_path("the app to sign in and leave /sign-in", WAIT, |path| {
            !path.starts_with("/sign-in")
        })
        .await;
}

/// Waits until Today's Moves lists exactly `count` cards (and its stats have loaded).
async fn wait_for_cards(browser: &Browser, count: usize) {
    browser
        .wait_for_js(
            &format!("{count} cards on Today's Moves"),
            WAIT,
            "return document.querySelectorAll('li.card').length === arguments[0]
                && document.querySelector('.stats .stat') !== null",
            vec![json!(count)],
        )
        .await;
}

/// The ids of the cards, top to bottom.
async fn card_ids(browser: &Browser) -> Vec<String> {
    let ids = browser
        .execute(
            "return Array.from(document.querySelectorAll('li.card')).map(c => c.dataset.id)",
            vec![],
        )
        .await;
    serde_json::from_value(ids).expect("card ids")
}

/// `window.__marker` survives only as long as the document does.
async fn set_marker(browser: &Browser) {
    browser.execute("window.__marker = 1", vec![]).await;
}

async fn assert_no_reload(browser: &Browser) {
    let marker = browser.execute("return window.__marker", vec![]).await;
    assert_eq!(
        marker,
        json!(1),
        "the page reloaded (window.__marker is gone)"
    );
}

fn print_screenshot(path: &std::path::Path) {
    println!("screenshot: {}", path.display());
}

#[tokio::test]
async fn signing_in_with_a_link_shows_the_queue_ranked_by_aps() {
    let app = app().await;
    let due = |h: i64| (chrono::Utc::now() + chrono::Duration::hours(h)).to_rfc3339();
    propose(
        &app,
        json!({"action_type": "manual_task", "title": "Clean up the Globex contact list", "due_by": due(30)}),
    )
    .await;
    propose(
        &app,
        json!({"action_type": "send_email", "title": "Send Dana the pricing follow-up",
               "target": {"contact": {"id": "c-101", "name": "Dana Lee", "email": "dana@acme.io"}},
               "payload": {"to": "dana@acme.io", "subject": "Pricing", "body": "Hi Dana"},
               "due_by": due(4)}),
    )
    .await;
    propose(
        &app,
        json!({"action_type": "book_meeting", "title": "Book the Acme expansion kickoff",
               "target": {"deal": {"id": "d-7", "name": "Acme expansion"}}, "due_by": due(20)}),
    )
    .await;
    propose(
        &app,
        json!({"action_type": "send_email", "title": "Answer Initech's security questionnaire",
               "aps": {"revenue": 0.9, "urgency": 0.9, "strategic": 0.8, "effort": 0.2},
               "rationale": "They sign this week if security clears it"}),
    )
    .await;
    propose_titled(&app, "check_in", "Check in with Umbrella's champion").await;
    // Decided and snoozed moves are not on Today's Moves, nor in the badge.
    let approved = propose_titled(&app, "book_meeting", "Already approved").await;
    app.queue_command_ok(&approved, "approve", json!({})).await;
    let snoozed = propose_titled(&app, "book_meeting", "Snoozed for later").await;
    app.queue_command_ok(&snoozed, "snooze", json!({"preset": "4h"}))
        .await;
    app.settle().await;

    // What the server ranks first to last.
    let today: QueueListResponse = app.get_ok("/api/queue/today", &app.admin).await;
    let expected: Vec<String> = today.items.iter().map(|i| i.id.to_string()).collect();
    assert_eq!(expected.len(), 5, "{today:?}");

    let browser = Browser::start(Options::new("signing-in")).await;
    // The home is the dashboard; a link with next=/today opens Today's Moves.
    let link = sign_in_url(&app, Some("/today")).await;
    let started = Instant::now();
    browser.goto(&link).await;
    browser.wait_for_visible("li.card", WAIT).await;
    let elapsed = started.elapsed();
    let in_page = browser.execute("return performance.now()", vec![]).await;
    println!(
        "queue visible after {} ms (from navigating to the sign-in link to the first visible \
         card; the second page load, after signing in, took {:.0} ms of it)",
        elapsed.as_millis(),
        in_page.as_f64().unwrap_or_default()
    );
    assert_eq!(
        browser.path().await,
        "/today",
        "the link leads to Today's Moves"
    );
    wait_for_cards(&browser, 5).await;

    assert_eq!(
        card_ids(&browser).await,
        expected,
        "cards in the server's order"
    );
    let scores: Vec<f64> = browser
        .texts("li.card .aps")
        .await
        .iter()
        .map(|s| s.parse().expect("an APS number"))
        .collect();
    assert_eq!(
        scores,
        vec![87.0, 82.0, 63.0, 50.0, 50.0],
        "APS, highest first"
    );
    let titles = browser.texts("li.card .card-title").await;
    assert_eq!(titles[0], "Answer Initech's security questionnaire");
    assert_eq!(titles[1], "Book the Acme expansion kickoff");
    assert_eq!(titles[2], "Send Dana the pricing follow-up");
    assert!(!titles
        .iter()
        .any(|t| t == "Already approved" || t == "Snoozed for later"));

    let badge = browser
        .wait_for_js(
            "the nav badge",
            WAIT,
            "const b = document.querySelector('nav .badge'); return b && b.textContent.trim()",
            vec![],
        )
        .await;
    assert_eq!(badge, json!("5"), "the badge counts the pending moves");
    let label = browser
        .execute(
            "return document.querySelector('nav .badge').getAttribute('aria-label')",
            vec![],
        )
        .await;
    assert_eq!(label, json!("5 waiting"));
    let first_focused = browser
        .execute(
            "return document.querySelector('li.card').classList.contains('focused')",
            vec![],
        )
        .await;
    assert_eq!(first_focused, json!(true), "the first card has the focus");
    print_screenshot(&browser.screenshot("signing-in-today-ranked-by-aps").await);
}

#[tokio::test]
async fn approving_with_the_keyboard_removes_the_move_without_a_reload() {
    let app = app().await;
    let top = propose_titled(&app, "book_meeting", "Book the Acme kickoff").await;
    propose_titled(&app, "send_email", "Email Dana the deck").await;
    propose_titled(&app, "manual_task", "Tidy the pipeline").await;

    let browser = open_today(&app, Options::new("approve-keyboard"), 3).await;
    let ids = card_ids(&browser).await;
    assert_eq!(ids[0], top);
    let focused = browser
        .execute(
            "const f = document.querySelector('li.card.focused');
             return f && f.dataset.id",
            vec![],
        )
        .await;
    assert_eq!(focused, json!(top), "the first card has the focus");
    set_marker(&browser).await;

    let pressed = Instant::now();
    browser.press("a").await;
    browser
        .wait_for_absent(&format!("li.card[data-id='{top}']"), WAIT)
        .await;
    println!(
        "the approved card left after {} ms",
        pressed.elapsed().as_millis()
    );
    assert_no_reload(&browser).await;
    assert_eq!(card_ids(&browser).await, ids[1..].to_vec());
    let notice = browser
        .wait_for_js(
            "the notice",
            WAIT,
            "const n = document.querySelector('.notice-area .notice'); return n && n.innerText",
            vec![],
        )
        .await;
    assert_eq!(notice, json!("Approved “Book the Acme kickoff”"));

    let approved = app.queue_item(&top).await;
    assert_eq!(approved.status, QueueStatus::Approved, "{approved:?}");
    let by = approved.decision.as_ref().map(|d| d.by.id.as_str());
    assert_eq!(by, Some("admin"), "{approved:?}");
    // The others are untouched.
    for other in &ids[1..] {
        assert_eq!(app.queue_item(other).await.status, QueueStatus::Pending);
    }
    // The focus moved on to the next move.
    let focused = browser
        .execute(
            "const f = document.querySelector('li.card.focused'); return f && f.dataset.id",
            vec![],
        )
        .await;
    assert_eq!(focused, json!(ids[1]));
    // A reload lists what the server has.
    let shot = browser.screenshot("approve-keyboard-after").await;
    print_screenshot(&shot);
    browser.refresh().await;
    wait_for_cards(&browser, 2).await;
    assert_eq!(card_ids(&browser).await, ids[1..].to_vec());
}

#[tokio::test]
async fn rejecting_with_a_reason_and_snoozing_a_move() {
    let app = app().await;
    let rejected = propose_titled(&app, "book_meeting", "Book a demo with Hooli").await;
    let snoozed = propose_titled(&app, "send_email", "Email Pied Piper a follow-up").await;
    let kept = propose_titled(&app, "manual_task", "Update the forecast").await;

    let browser = open_today(&app, Options::new("reject-snooze"), 3).await;
    assert_eq!(
        card_ids(&browser).await,
        vec![rejected.clone(), snoozed.clone(), kept.clone()]
    );
    set_marker(&browser).await;

    // r on the focused card asks for a reason.
    browser.press("r").await;
    let reason_box = browser.wait_for_visible("#reject-reason", WAIT).await;
    let active = browser
        .execute("return document.activeElement.id", vec![])
        .await;
    assert_eq!(
        active,
        json!("reject-reason"),
        "the dialog focuses the reason"
    );
    let reason = "Hooli went with a competitor last week";
    browser.type_into(&reason_box, reason).await;
    browser
        .wait_for_js(
            "the reason in the box",
            WAIT,
            "return document.getElementById('reject-reason').value === arguments[0]",
            vec![json!(reason)],
        )
        .await;
    let submit = browser
        .wait_for_visible(".modal button[type=submit]:not([disabled])", WAIT)
        .await;
    print_screenshot(&browser.screenshot("reject-dialog").await);
    browser.click(&submit).await;
    browser.wait_for_absent(".modal", WAIT).await;
    browser
        .wait_for_absent(&format!("li.card[data-id='{rejected}']"), WAIT)
        .await;

    // Snooze the next one with a preset.
    let snooze_button = browser
        .wait_for_visible(
            &format!("li.card[data-id='{snoozed}'] button[aria-keyshortcuts='s']"),
            WAIT,
        )
        .await;
    browser.click(&snooze_button).await;
    browser
        .wait_for_visible(".modal .preset-grid button", WAIT)
        .await;
    print_screenshot(&browser.screenshot("snooze-dialog").await);
    let four_hours = browser
        .find_xpath("//div[contains(@class,'preset-grid')]/button[normalize-space()='4 hours']")
        .await
        .expect("a 4 hours preset");
    let clicked_at = chrono::Utc::now();
    browser.click(&four_hours).await;
    browser.wait_for_absent(".modal", WAIT).await;
    browser
        .wait_for_absent(&format!("li.card[data-id='{snoozed}']"), WAIT)
        .await;
    assert_eq!(card_ids(&browser).await, vec![kept.clone()]);
    assert_no_reload(&browser).await;
    print_screenshot(&browser.screenshot("reject-snooze-after").await);

    let rejected = app.queue_item(&rejected).await;
    assert_eq!(rejected.status, QueueStatus::Rejected, "{rejected:?}");
    let why = rejected.decision.as_ref().and_then(|d| d.reason.as_deref());
    assert_eq!(why, Some(reason), "{rejected:?}");
    let snoozed = app.queue_item(&snoozed).await;
    assert_eq!(snoozed.status, QueueStatus::Snoozed, "{snoozed:?}");
    let until = snoozed.snoozed_until.expect("snoozed_until");
    let ahead = until - clicked_at;
    assert!(
        ahead > chrono::Duration::minutes(235) && ahead < chrono::Duration::minutes(245),
        "snoozed for about 4 hours: until {until}"
    );
    assert_eq!(app.queue_item(&kept).await.status, QueueStatus::Pending);
}

/// The text of the `dd` after the `dt` labelled `label` inside `scope`.
async fn field_in(browser: &Browser, scope: &str, label: &str) -> String {
    browser
        .execute(
            "const dts = document.querySelectorAll(arguments[0] + ' dt');
             const dt = Array.from(dts).find(d => d.textContent.trim() === arguments[1]);
             return dt ? dt.nextElementSibling.textContent.trim() : null;",
            vec![json!(scope), json!(label)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Clicks ◀ Earlier and waits until the state panel shows the state after `event`.
async fn step_earlier(browser: &Browser, earlier: &Element, event: &str) {
    browser.click(earlier).await;
    browser
        .wait_for_js(
            &format!("the panel to show the state after {event}"),
            WAIT,
            "const h = document.querySelector('.state-at h3');
             return h && h.textContent.includes(arguments[0])",
            vec![json!(event)],
        )
        .await;
}

#[tokio::test]
async fn opening_a_move_shows_its_timeline_and_the_scrubber_steps_through_it() {
    let app = app().await;
    let id = propose(
        &app,
        json!({"action_type": "send_email", "title": "Send Dana the proposal",
               "target": {"contact": {"id": "c-101", "name": "Dana Lee"}},
               "payload": {"to": "dana@acme.io", "subject": "Proposal", "body": "Hi Dana,\nhere it is."}}),
    )
    .await;
    app.queue_command_ok(
        &id,
        "edit",
        json!({"title": "Send Dana the revised proposal"}),
    )
    .await;
    app.queue_command_ok(&id, "snooze", json!({"preset": "tomorrow"}))
        .await;
    app.settle().await;

    let browser = Browser::start(Options::new("timeline")).await;
    sign_in(&browser, &app, Some(&format!("/queue/{id}"))).await;
    assert_eq!(browser.path().await, format!("/queue/{id}"));
    browser
        .wait_for_js(
            "a timeline of 3 events",
            WAIT,
            "return document.querySelectorAll('.timeline ol.events > li.event').length === 3",
            vec![],
        )
        .await;
    let types = browser.texts(".timeline li.event .event-head strong").await;
    assert_eq!(
        types,
        vec!["QueueItemProposed", "QueueItemEdited", "QueueItemSnoozed"]
    );
    // The move's details load on their own: wait for them, then read.
    browser
        .wait_for_js(
            "the move's details",
            WAIT,
            "return document.querySelector('#item-title') !== null",
            vec![],
        )
        .await;
    let title = browser.texts("#item-title").await;
    assert_eq!(title, vec!["Send Dana the revised proposal"]);

    // At first the panel shows the latest state.
    let heading = || async {
        browser
            .texts(".state-at h3")
            .await
            .into_iter()
            .next()
            .unwrap_or_default()
    };
    assert_eq!(heading().await, "As it was after “QueueItemSnoozed”");
    assert_eq!(field_in(&browser, ".state-at", "Status").await, "snoozed");
    assert_eq!(browser.texts(".scrubber span").await, vec!["3 / 3"]);

    // ◀ Earlier: as it was after the edit.
    let earlier = browser
        .wait_for_visible("button[aria-label='Earlier']", WAIT)
        .await;
    step_earlier(&browser, &earlier, "QueueItemEdited").await;
    assert_eq!(field_in(&browser, ".state-at", "Status").await, "pending");
    assert_eq!(
        field_in(&browser, ".state-at", "Title").await,
        "Send Dana the revised proposal"
    );
    assert_eq!(field_in(&browser, ".state-at", "Snoozed until").await, "—");
    assert_eq!(browser.texts(".scrubber span").await, vec!["2 / 3"]);
    let scrubber = browser
        .execute("return document.getElementById('scrubber').value", vec![])
        .await;
    assert_eq!(scrubber, json!("2"));
    let current = browser
        .texts(".timeline li.event.current .event-head strong")
        .await;
    assert_eq!(current, vec!["QueueItemEdited"]);
    browser
        .execute(
            "document.querySelector('.timeline').scrollIntoView({block: 'start'})",
            vec![],
        )
        .await;
    print_screenshot(&browser.screenshot("timeline-after-edit").await);

    // Once more: as proposed, with the first title.
    step_earlier(&browser, &earlier, "QueueItemProposed").await;
    assert_eq!(
        field_in(&browser, ".state-at", "Title").await,
        "Send Dana the proposal"
    );
    let disabled = browser
        .execute(
            "return document.querySelector(\"button[aria-label='Earlier']\").disabled",
            vec![],
        )
        .await;
    assert_eq!(
        disabled,
        json!(true),
        "nothing is earlier than the first event"
    );
}

#[tokio::test]
async fn a_second_clients_change_appears_live() {
    let app = app().await;
    propose_titled(&app, "send_email", "Email Dana the deck").await;

    let browser = open_today(&app, Options::new("live"), 1).await;
    // The event stream is open (the stats bar says so).
    browser.wait_for_visible(".stats .live.on", WAIT).await;
    set_marker(&browser).await;

    // Another client (the API, with a bearer token) proposes a move.
    let title = "Call Initech about the renewal";
    let proposed_at = Instant::now();
    let id = propose_titled(&app, "book_meeting", title).await;
    browser
        .wait_for_js(
            "the other client's move to appear",
            LIVE_WAIT,
            "return Array.from(document.querySelectorAll('li.card .card-title'))
                .some(t => t.textContent.trim() === arguments[0])",
            vec![json!(title)],
        )
        .await;
    println!(
        "another client's move appeared after {} ms",
        proposed_at.elapsed().as_millis()
    );
    assert_no_reload(&browser).await;
    // It ranks first (82 beats 63), and the badge follows.
    assert_eq!(card_ids(&browser).await[0], id);
    browser
        .wait_for_js(
            "the badge to count 2",
            LIVE_WAIT,
            "const b = document.querySelector('nav .badge'); return b && b.textContent.trim() === '2'",
            vec![],
        )
        .await;
    print_screenshot(&browser.screenshot("live-update").await);

    // A decision made elsewhere takes it away again.
    app.queue_command_ok(&id, "reject", json!({"reason": "done by phone"}))
        .await;
    browser
        .wait_for_absent(&format!("li.card[data-id='{id}']"), LIVE_WAIT)
        .await;
    assert_no_reload(&browser).await;
}

#[tokio::test]
async fn signing_out_returns_to_sign_in_and_an_expired_session_comes_back_to_where_it_was() {
    let app = app().await;
    propose_titled(&app, "send_email", "Email Dana the deck").await;

    let browser = open_today(&app, Options::new("sign-out"), 1).await;

    // Sign out.
    let sign_out = browser
        .find_xpath("//button[normalize-space()='Sign out']")
        .await
        .expect("a Sign out button");
    browser.click(&sign_out).await;
    browser
        .wait_for_path("the sign-in page", WAIT, |p| p.starts_with("/sign-in"))
        .await;
    browser.wait_for_visible("#token", WAIT).await;
    assert!(browser.find("li.card").await.is_none());
    let live = query_i64(
        &app.pool,
        "select count(*) from sessions where revoked_at is null",
    )
    .await;
    assert_eq!(live, 0, "signing out ends the session on the server");
    print_screenshot(&browser.screenshot("signed-out").await);
    // Going back into the app needs a sign-in.
    browser.goto(&format!("{}/queue", app.address)).await;
    browser
        .wait_for_path("the sign-in page", WAIT, |p| p.starts_with("/sign-in"))
        .await;

    // Sign in again, then the session expires while the page is open.
    sign_in(&browser, &app, Some("/today")).await;
    wait_for_cards(&browser, 1).await;
    sqlx::query("update sessions set expires_at = now() - interval '1 minute'")
        .execute(&app.pool)
        .await
        .unwrap();
    let queue_link = browser
        .find("nav a.nav-link[href='/queue']")
        .await
        .expect("the Queue link");
    browser.click(&queue_link).await;
    let path = browser
        .wait_for_path("the sign-in page after the session ended", WAIT, |p| {
            p.starts_with("/sign-in")
        })
        .await;
    let next = browser
        .execute(
            "return new URLSearchParams(location.search).get('next')",
            vec![],
        )
        .await;
    assert_eq!(next, json!("/queue"), "next= points at the page: {path}");
    let notice = browser
        .wait_for_js(
            "the session-ended notice",
            WAIT,
            "const n = document.querySelector('.sign-in .notice'); return n && n.innerText",
            vec![],
        )
        .await;
    assert_eq!(
        notice,
        json!("Your session ended. Sign in again to pick up where you were.")
    );
    print_screenshot(&browser.screenshot("session-expired").await);

    // A new link, with next=/queue, lands on the queue.
    sign_in(&browser, &app, Some("/queue")).await;
    browser
        .wait_for_path("the queue", WAIT, |p| p == "/queue")
        .await;
    browser.wait_for_visible("#queue-title", WAIT).await;
    browser.wait_for_visible(".rows .row", WAIT).await;
    print_screenshot(&browser.screenshot("signed-in-again-on-queue").await);
}

/// axe-core, installed by `npm install --prefix tests/e2e`.
fn axe_source() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is missing ({}: {e}); install it with `npm install --prefix tests/e2e`",
            path.display()
        )
    })
}

/// One violation axe found.
#[derive(Debug)]
struct Violation {
    page: String,
    id: String,
    impact: String,
    help: String,
    nodes: Vec<String>,
}

/// Sets the theme the app remembers, reloads, and waits for the page to be ready again.
async fn with_theme(browser: &Browser, theme: &str, ready: &str) {
    browser
        .execute(
            "localStorage.setItem('caseyos.theme', arguments[0])",
            vec![json!(theme)],
        )
        .await;
    browser.refresh().await;
    browser
        .wait_for_js(
            &format!("the {theme} theme and `{ready}`"),
            WAIT,
            "return document.documentElement.getAttribute('data-theme') === arguments[0]
                && document.querySelector(arguments[1]) !== null
                && document.querySelector('.skeleton') === null",
            vec![json!(theme), json!(ready)],
        )
        .await;
}

/// Runs axe on the page as it is; prints how many rules passed and which need a person to
/// review, and returns the violations.
async fn axe(browser: &Browser, source: &str, page: &str) -> Vec<Violation> {
    browser.execute(source, vec![]).await;
    let result = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document)
               .then(r => done({
                   passes: r.passes.length,
                   incomplete: r.incomplete.map(v => v.id + ' [' + v.impact + '] on '
                       + v.nodes.map(n => n.target.join(' ')).join(', ')),
                   violations: r.violations.map(v => ({
                       id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.map(n => n.target.join(' ') + ' — '
                           + (n.failureSummary || '').replace(/\\s+/g, ' '))
                   }))
               }))
               .catch(e => done({error: String(e)}));",
            vec![],
        )
        .await;
    if let Some(error) = result.get("error") {
        panic!("axe failed on {page}: {error}");
    }
    let violations: Vec<Violation> = result["violations"]
        .as_array()
        .expect("a list of violations")
        .iter()
        .map(|v| Violation {
            page: page.to_string(),
            id: v["id"].as_str().unwrap_or_default().to_string(),
            impact: v["impact"].as_str().unwrap_or("none").to_string(),
            help: v["help"].as_str().unwrap_or_default().to_string(),
            nodes: v["nodes"]
                .as_array()
                .map(|n| {
                    n.iter()
                        .map(|s| s.as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    println!(
        "axe on {page}: {} rules passed, {} violated; to review by hand: {}",
        result["passes"],
        violations.len(),
        result["incomplete"]
    );
    violations
}

#[tokio::test]
async fn every_page_passes_an_accessibility_check() {
    let source = axe_source();
    let app = app().await;
    let item_id = propose(
        &app,
        json!({"action_type": "send_email", "title": "Send Dana the proposal",
               "target": {"contact": {"id": "c-101", "name": "Dana Lee"}},
               "payload": {"to": "dana@acme.io", "subject": "Proposal", "body": "Hi Dana,\nhere it is."},
               "rationale": "She asked for it on Tuesday's call",
               "due_by": (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339()}),
    )
    .await;
    app.queue_command_ok(
        &item_id,
        "edit",
        json!({"title": "Send Dana the revised proposal"}),
    )
    .await;
    propose(
        &app,
        json!({"action_type": "book_meeting", "title": "Book the Acme expansion kickoff",
               "target": {"deal": {"id": "d-7", "name": "Acme expansion"}},
               "due_by": (chrono::Utc::now() + chrono::Duration::hours(20)).to_rfc3339()}),
    )
    .await;
    propose_titled(&app, "manual_task", "Tidy the pipeline").await;
    let decided = propose_titled(&app, "check_in", "Check in with Umbrella").await;
    app.queue_command_ok(&decided, "reject", json!({"reason": "not now"}))
        .await;
    app.settle().await;
    // An agent run for the Agents, Runs and run pages.
    let run_id = app
        .request_run_ok(
            &app.admin,
            "PersonaRouter",
            json!({"job_title": "VP of Demand Generation"}),
        )
        .await
        .id;
    app.wait_for_run(&app.admin, run_id, WAIT, |r| {
        r.status == RunStatus::Succeeded
    })
    .await;

    let browser = Browser::start(Options::new("accessibility")).await;
    let mut found: Vec<Violation> = Vec::new();
    let themes = ["light", "dark"];

    // The sign-in page, signed out.
    browser.goto(&format!("{}/sign-in", app.address)).await;
    browser.wait_for_visible("#token", WAIT).await;
    for theme in themes {
        with_theme(&browser, theme, "#token").await;
        found.extend(axe(&browser, &source, &format!("sign-in ({theme})")).await);
        print_screenshot(&browser.screenshot(&format!("a11y-sign-in-{theme}")).await);
    }

    sign_in(&browser, &app, None).await;
    let pages = [
        ("today", "/today".to_string(), "li.card"),
        ("queue", "/queue?owner=*".to_string(), ".rows .row"),
        ("item", format!("/queue/{item_id}"), ".timeline li.event"),
        (
            "agents",
            "/agents".to_string(),
            "article.agent-card .run-square",
        ),
        ("runs", "/runs".to_string(), "table.runs tbody tr"),
        ("run", format!("/runs/{run_id}"), ".timeline li.event"),
        // The dashboard with the agent run's bar charts.
        ("dashboard", "/dashboard".to_string(), ".bar-chart svg"),
        // The assistant's chat, without a language model (the page says so).
        ("chat", "/chat".to_string(), ".page-header [role=status]"),
        // Voice training: the persona and the samples (none yet).
        ("voice", "/voice".to_string(), "#voice-sample"),
    ];
    for (name, path, ready) in &pages {
        browser.goto(&format!("{}{path}", app.address)).await;
        browser.wait_for_visible(ready, WAIT).await;
        // Settled: nothing on the page is still loading.
        browser.wait_for_absent("[aria-busy=true]", WAIT).await;
        for theme in themes {
            with_theme(&browser, theme, ready).await;
            // Stats are part of every page: wait for them too.
            browser.wait_for_visible(".stats .stat", WAIT).await;
            found.extend(axe(&browser, &source, &format!("{name} ({theme})")).await);
            print_screenshot(&browser.screenshot(&format!("a11y-{name}-{theme}")).await);
            if *name == "today" {
                // A dialog over the page: r on the focused move asks for a reason.
                browser.press("r").await;
                browser.wait_for_visible("#reject-reason", WAIT).await;
                found.extend(
                    axe(
                        &browser,
                        &source,
                        &format!("today with the reject dialog ({theme})"),
                    )
                    .await,
                );
                print_screenshot(
                    &browser
                        .screenshot(&format!("a11y-today-reject-dialog-{theme}"))
                        .await,
                );
                browser.press(ESCAPE).await;
                browser.wait_for_absent(".modal", WAIT).await;
            }
        }
    }

    // The notifications bell, open over Today's Moves (the overdue move is one).
    browser.goto(&format!("{}/today", app.address)).await;
    for theme in themes {
        with_theme(&browser, theme, "li.card").await;
        let bell = browser.wait_for_visible("button.bell .badge", WAIT).await;
        browser.click(&bell).await;
        browser
            .wait_for_visible("#notifications tbody tr", WAIT)
            .await;
        browser.wait_for_absent("[aria-busy=true]", WAIT).await;
        found.extend(axe(&browser, &source, &format!("the open bell ({theme})")).await);
        print_screenshot(&browser.screenshot(&format!("a11y-bell-{theme}")).await);
    }

    // Today at 375 px.
    browser.set_viewport(375, 800).await;
    browser.goto(&format!("{}/today", app.address)).await;
    for theme in themes {
        with_theme(&browser, theme, "li.card").await;
        browser.wait_for_visible(".stats .stat", WAIT).await;
        found.extend(axe(&browser, &source, &format!("today at 375 px ({theme})")).await);
        print_screenshot(&browser.screenshot(&format!("a11y-today-375-{theme}")).await);
    }

    assert_no_serious_violations(&found);
}

#[tokio::test]
async fn the_layout_works_at_375_pixels() {
    let app = app().await;
    propose(
        &app,
        json!({"action_type": "send_email",
               "title": "Send Dana Lee at Acme Incorporated the revised multi-year pricing proposal",
               "target": {"contact": {"id": "c-101", "name": "Dana Lee", "email": "dana.lee@acme-incorporated.example"},
                          "deal": {"id": "d-7", "name": "Acme expansion, multi-year"}},
               "rationale": "She asked for it on Tuesday's call and the quarter closes Friday",
               "due_by": (chrono::Utc::now() - chrono::Duration::hours(3)).to_rfc3339()}),
    )
    .await;
    propose_titled(&app, "book_meeting", "Book the kickoff").await;

    let browser = open_today(&app, Options::new("layout-375").size(375, 800), 2).await;
    let viewport = browser
        .execute("return [window.innerWidth, window.innerHeight]", vec![])
        .await;
    assert_eq!(viewport, json!([375, 800]), "the viewport is 375 × 800");

    let layout = browser
        .execute(
            "const buttons = Array.from(document.querySelectorAll('button'))
                .filter(b => b.checkVisibility())
                .map(b => ({label: (b.getAttribute('aria-label') || b.innerText).trim(),
                            height: b.getBoundingClientRect().height,
                            width: b.getBoundingClientRect().width}));
             return {buttons,
                     scrollWidth: document.documentElement.scrollWidth,
                     clientWidth: document.documentElement.clientWidth};",
            vec![],
        )
        .await;
    let buttons = layout["buttons"].as_array().expect("buttons");
    assert!(buttons.len() >= 8, "the page has its buttons: {layout}");
    let heights: Vec<f64> = buttons
        .iter()
        .map(|b| b["height"].as_f64().unwrap_or_default())
        .collect();
    println!(
        "{} visible buttons, heights {:.1}–{:.1} px; scrollWidth {} px, clientWidth {} px \
         (beside the vertical scrollbar)",
        buttons.len(),
        heights.iter().cloned().fold(f64::INFINITY, f64::min),
        heights.iter().cloned().fold(0.0, f64::max),
        layout["scrollWidth"],
        layout["clientWidth"]
    );
    let small: Vec<&Value> = buttons
        .iter()
        .filter(|b| b["height"].as_f64().unwrap_or_default() < 44.0)
        .collect();
    assert!(small.is_empty(), "buttons under 44 px tall: {small:?}");
    let scroll_width = layout["scrollWidth"].as_i64().expect("scrollWidth");
    let client_width = layout["clientWidth"].as_i64().expect("clientWidth");
    assert!(
        scroll_width <= 375 && scroll_width <= client_width,
        "the page scrolls sideways: scrollWidth {scroll_width} px, clientWidth {client_width} px \
         at 375 px"
    );
    print_screenshot(&browser.screenshot("layout-375").await);
}

/// A script returning the number of squares in the mini timeline of `agent`'s card.
fn card_squares(agent: &str) -> String {
    format!(
        "const card = Array.from(document.querySelectorAll('article.agent-card'))
            .find(c => c.querySelector('h3') && c.querySelector('h3').textContent.trim() === '{agent}');
         return card ? card.querySelectorAll('.run-strip .run-square').length : -1;"
    )
}

#[tokio::test]
async fn running_an_agent_from_its_card_shows_the_result_and_updates_its_history() {
    let app = app().await;
    let browser = Browser::start(Options::new("run-agent")).await;
    sign_in(&browser, &app, Some("/agents")).await;
    browser
        .wait_for_path("the Agents page", WAIT, |p| p == "/agents")
        .await;
    browser
        .wait_for_js(
            "twelve agent cards",
            WAIT,
            "return document.querySelectorAll('article.agent-card').length >= 12;",
            vec![],
        )
        .await;
    let before = browser
        .execute(&card_squares("PersonaRouter"), vec![])
        .await;
    assert_eq!(before, json!(0), "no runs yet");

    // Open the card's form, fill it and run.
    let run_button = browser
        .wait_for_visible("button[aria-label='Run PersonaRouter']", WAIT)
        .await;
    browser.click(&run_button).await;
    browser.wait_for_visible("form.run-form", WAIT).await;
    let field = browser
        .wait_for_js(
            "the job title field",
            WAIT,
            "const label = Array.from(document.querySelectorAll('form.run-form label'))
                .find(l => l.textContent.toLowerCase().includes('job_title') ||
                           l.textContent.toLowerCase().includes('job title'));
             return label ? document.getElementById(label.htmlFor) : null;",
            vec![],
        )
        .await;
    let field = crate::support::webdriver::Element(
        field[crate::support::webdriver::ELEMENT_KEY]
            .as_str()
            .expect("an input")
            .to_string(),
    );
    browser.type_into(&field, "VP of Demand Generation").await;
    browser.screenshot("agents-run-form").await;
    let submit = browser
        .wait_for_visible("form.run-form button[type=submit]", WAIT)
        .await;
    let clicked = Instant::now();
    browser.click(&submit).await;

    // The card shows progress, then the result badge, and its timeline gains the run.
    let result = browser
        .wait_for_js(
            "the card's result badge",
            LIVE_WAIT,
            "const card = Array.from(document.querySelectorAll('article.agent-card'))
                .find(c => c.querySelector('h3').textContent.trim() === 'PersonaRouter');
             const badge = card && card.querySelector('.run-result .run-status');
             return badge ? badge.textContent.trim() : null;",
            vec![],
        )
        .await;
    println!(
        "result badge {result} {} ms after clicking Run",
        clicked.elapsed().as_millis()
    );
    assert!(
        result.as_str().unwrap_or_default().contains("succeeded"),
        "badge: {result}"
    );
    browser
        .wait_for_js(
            "the run in the card's timeline",
            LIVE_WAIT,
            &format!(
                "return (() => {{ {} }})() === 1;",
                card_squares("PersonaRouter")
            ),
            vec![],
        )
        .await;
    let shot = browser.screenshot("agents-after-run").await;
    print_screenshot(&shot);

    // The server recorded one manual run with the input typed into the form.
    let page: AgentRunListResponse = app
        .get_ok("/api/agents/PersonaRouter/runs", &app.admin)
        .await;
    let runs = &page.runs;
    assert_eq!(runs.len(), 1, "{page:?}");
    assert_eq!(runs[0].status, RunStatus::Succeeded);
    assert_eq!(runs[0].trigger, RunTrigger::Manual);
    let id = runs[0].id;
    let run = app.agent_run(&app.admin, id).await;
    assert_eq!(run.input["job_title"], "VP of Demand Generation");
    assert_eq!(
        run.output.clone().unwrap_or_default()["persona"],
        "demand_gen",
        "{run:#?}"
    );

    // The run's page shows its output and audit timeline.
    let view = browser
        .wait_for_visible("article.agent-card .run-result a", WAIT)
        .await;
    browser.click(&view).await;
    browser
        .wait_for_path("the run's page", WAIT, |p| p == format!("/runs/{id}"))
        .await;
    browser
        .wait_for_js(
            "the output and the audit timeline",
            WAIT,
            "const text = document.body.innerText;
             return text.includes('demand_gen') && text.includes('AgentRunSucceeded');",
            vec![],
        )
        .await;
    let shot = browser.screenshot("run-detail").await;
    print_screenshot(&shot);
}

/// The contact id a link on the page points to (`/contacts/{id}`), found by `selector`.
async fn contact_id_of(browser: &Browser, selector: &str) -> String {
    let href = browser
        .wait_for_js(
            &format!("a contact link at {selector}"),
            WAIT,
            "const a = document.querySelector(arguments[0]);
             return a ? a.getAttribute('href') : null;",
            vec![json!(selector)],
        )
        .await;
    href.as_str()
        .and_then(|h| h.strip_prefix("/contacts/"))
        .unwrap_or_else(|| panic!("{selector} is no contact link: {href}"))
        .to_string()
}

/// Waits until no skeleton is left on the page, then runs axe on it and takes a screenshot.
async fn check_page(browser: &Browser, source: &str, name: &str, found: &mut Vec<Violation>) {
    browser
        .wait_for_js(
            &format!("{name} loaded"),
            WAIT,
            "return document.querySelector('.skeleton') === null",
            vec![],
        )
        .await;
    found.extend(axe(browser, source, name).await);
    print_screenshot(&browser.screenshot(&format!("contacts-{name}")).await);
}

#[tokio::test]
async fn importing_reviewing_a_pair_merging_with_a_per_field_choice_and_unmerging() {
    let source = axe_source();
    let app = app().await;
    let browser = Browser::start(Options::new("contacts-flow")).await;
    let mut found = Vec::new();

    // Import a small file with one person twice: same phone and company, another address.
    sign_in(&browser, &app, Some("/contacts/import")).await;
    browser
        .wait_for_path("the import page", WAIT, |p| p == "/contacts/import")
        .await;
    let csv = "first_name,last_name,email,phone,company,job_title\n\
               Dana,Lee,dana@acme.io,+1 415 555 0100,Acme,CEO\n\
               Dana,Lee,dana.lee@acme.io,(415) 555-0100,Acme,Chief Executive\n\
               Sam,Roe,not-an-email,,Acme,CTO\n";
    let paste = browser.wait_for_visible("#import-text", WAIT).await;
    browser.type_into(&paste, csv).await;
    let upload = browser
        .wait_for_visible("form.import-form button[type=submit]", WAIT)
        .await;
    browser.click(&upload).await;
    browser
        .wait_for_js(
            "the import to complete with 2 created and line 4 failed",
            WAIT,
            "const counts = document.querySelector('.import-counts');
             const status = document.querySelector('[role=status] .chip');
             const failed = Array.from(document.querySelectorAll('table.data tbody tr'))
                 .find(r => r.cells[0] && r.cells[0].textContent === '4');
             return counts && status && status.textContent.includes('completed')
                 && counts.textContent.includes('Created2') && counts.textContent.includes('Failed1')
                 && failed && failed.cells[1].textContent.includes('email');",
            vec![],
        )
        .await;
    check_page(&browser, &source, "import-done", &mut found).await;

    // DuplicateWatcher finds the pair (it reads the contacts read model: both are there first).
    let started = Instant::now();
    while app.get_json("/api/contacts", &app.admin).await.1["total"] != json!(2) {
        assert!(
            started.elapsed() < WAIT,
            "the two contacts are not listed within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let run = app
        .request_run_ok(&app.admin, "DuplicateWatcher", json!({}))
        .await;
    app.wait_for_run(&app.admin, run.id, WAIT, |r| r.status.is_finished())
        .await;
    let started = Instant::now();
    loop {
        let (status, pairs) = app.get_json("/api/hygiene/duplicates", &app.admin).await;
        assert_eq!(status, 200, "{pairs}");
        if pairs["total"] == json!(1) {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "DuplicateWatcher's pair is not listed within {WAIT:?}: {pairs}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Review it: the first record stays primary; take the second one's job title (the pair's
    // order is by id, so which title that is depends on the run), preview, merge.
    browser
        .goto(&format!("{}/hygiene/duplicates", app.address))
        .await;
    browser
        .wait_for_visible("table.compare tbody tr", WAIT)
        .await;
    check_page(&browser, &source, "duplicates", &mut found).await;
    let first = contact_id_of(&browser, "table.compare thead th:nth-child(2) a").await;
    let second = contact_id_of(&browser, "table.compare thead th:nth-child(3) a").await;
    let mut titles = HashMap::new();
    for id in [&first, &second] {
        let (_, contact) = app
            .get_json(&format!("/api/contacts/{id}"), &app.admin)
            .await;
        let contact = contact.get("contact").unwrap_or(&contact).clone();
        titles.insert(id.clone(), contact["fields"]["job_title"].clone());
    }
    let kept = titles[&second].as_str().expect("a job title").to_string();
    let take = browser
        .wait_for_js(
            "the second record's job title",
            WAIT,
            "const row = Array.from(document.querySelectorAll('table.compare tbody tr'))
                 .find(r => r.querySelector('th').textContent.startsWith('Job title'));
             return row ? row.querySelector('td:nth-of-type(2) button') : null;",
            vec![],
        )
        .await;
    let take = crate::support::webdriver::Element(
        take[crate::support::webdriver::ELEMENT_KEY]
            .as_str()
            .expect("an element")
            .to_string(),
    );
    browser.click(&take).await;
    browser.press("p").await;
    browser
        .wait_for_js(
            "the preview to keep the second record's job title",
            WAIT,
            "const row = Array.from(document.querySelectorAll('table.compare tbody tr'))
                 .find(r => r.querySelector('th').textContent.startsWith('Job title'));
             return row && row.querySelector('td:nth-of-type(3)').textContent === arguments[0];",
            vec![json!(kept)],
        )
        .await;
    print_screenshot(&browser.screenshot("contacts-duplicates-preview").await);
    browser.press("m").await;
    browser.wait_for_visible("[role=alertdialog]", WAIT).await;
    found.extend(axe(&browser, &source, "merge-confirm").await);
    print_screenshot(&browser.screenshot("contacts-merge-confirm").await);
    let confirm = browser
        .wait_for_visible("[role=alertdialog] .button.primary", WAIT)
        .await;
    browser.click(&confirm).await;
    browser
        .wait_for_js(
            "the merge to be done and the pair gone",
            WAIT,
            "const n = document.querySelector('.notice');
             return n && n.textContent.includes('Merged') && document.querySelector('table.compare') === null;",
            vec![],
        )
        .await;
    print_screenshot(&browser.screenshot("contacts-merged").await);
    let (_, primary) = app
        .get_json(&format!("/api/contacts/{first}"), &app.admin)
        .await;
    let primary = primary.get("contact").unwrap_or(&primary).clone();
    assert_eq!(primary["fields"]["job_title"], json!(kept), "{primary}");

    // Unmerge from the absorbed contact's page.
    browser
        .goto(&format!("{}/contacts/{second}", app.address))
        .await;
    let unmerge = browser
        .wait_for_visible(".notice.merged button", WAIT)
        .await;
    check_page(&browser, &source, "contact-merged", &mut found).await;
    browser.click(&unmerge).await;
    browser
        .wait_for_visible("[role=alertdialog] input[type=checkbox]", WAIT)
        .await;
    found.extend(axe(&browser, &source, "unmerge-confirm").await);
    print_screenshot(&browser.screenshot("contacts-unmerge-confirm").await);
    let confirm = browser
        .wait_for_visible("[role=alertdialog] .button.primary", WAIT)
        .await;
    browser.click(&confirm).await;
    browser.wait_for_absent(".notice.merged", WAIT).await;
    check_page(&browser, &source, "contact-unmerged", &mut found).await;
    for id in [&first, &second] {
        let (_, contact) = app
            .get_json(&format!("/api/contacts/{id}"), &app.admin)
            .await;
        let contact = contact.get("contact").unwrap_or(&contact).clone();
        assert_eq!(contact["status"], json!("active"), "{contact}");
        assert_eq!(contact["fields"]["job_title"], titles[id], "{contact}");
    }

    // The list finds both by a search, and the hygiene page counts the day's pair and merge.
    browser
        .goto(&format!("{}/contacts?q=dana", app.address))
        .await;
    browser
        .wait_for_js(
            "two contacts listed",
            WAIT,
            "return document.querySelectorAll('table.data tbody tr').length === 2",
            vec![],
        )
        .await;
    check_page(&browser, &source, "list", &mut found).await;
    browser.goto(&format!("{}/hygiene", app.address)).await;
    browser
        .wait_for_js(
            "today's report with one pair found and one merge",
            WAIT,
            "const rows = Array.from(document.querySelectorAll('table.data tbody tr'));
             return rows.some(r => Array.from(r.cells).map(c => c.textContent).slice(1, 3).join() === '1,1')
                 && document.querySelector('svg.chart') !== null;",
            vec![],
        )
        .await;
    check_page(&browser, &source, "hygiene", &mut found).await;

    assert_no_serious_violations(&found);
}

/// Prints every violation axe found and fails on any serious or critical one.
fn assert_no_serious_violations(found: &[Violation]) {
    println!("axe found {} violation(s) over all pages:", found.len());
    for v in found {
        println!(
            "  [{}] {} on {} ({} element(s)): {}",
            v.impact,
            v.id,
            v.page,
            v.nodes.len(),
            v.help
        );
        for node in v.nodes.iter().take(5) {
            println!("      {node}");
        }
    }
    let serious: Vec<String> = found
        .iter()
        .filter(|v| v.impact == "serious" || v.impact == "critical")
        .map(|v| {
            format!(
                "[{}] {} on {}: {} — {:?}",
                v.impact, v.id, v.page, v.help, v.nodes
            )
        })
        .collect();
    assert!(
        serious.is_empty(),
        "serious or critical accessibility violations:\n{}",
        serious.join("\n")
    );
}

/// Creates a deal owned by `admin` through the API; returns its id.
async fn create_deal(app: &TestApp, name: &str, stage: &str, minor: i64, close: &str) -> String {
    let (status, body) = app
        .post_json(
            "/api/deals",
            &app.admin,
            &json!({"name": name, "stage": stage, "owner": "admin", "close_date": close,
                    "amount": {"minor": minor, "currency": "USD"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["deal"]["id"].as_str().expect("a deal id").to_string()
}

/// The text of the forecast's total weighted cell (the owners' table's footer).
const TOTAL_WEIGHTED: &str =
    "const cells = document.querySelectorAll('table.forecast-table tfoot td');
     return cells.length > 5 ? cells[5].textContent.trim() : null;";

#[tokio::test]
async fn moving_deals_on_the_board_changes_the_forecast_and_dashboard_live_and_as_of_shows_earlier_numbers(
) {
    let source = axe_source();
    let app = app().await;
    // The current quarter, as the server counts it: the deals close on its last day.
    let (_, forecast) = app.get_json("/api/forecast", &app.admin).await;
    let period = forecast["period"].as_str().expect("a period").to_string();
    let close = forecast["range"]["last"]
        .as_str()
        .expect("a range")
        .to_string();
    let acme = create_deal(
        &app,
        "Acme renewal",
        "appointmentscheduled",
        5_000_000,
        &close,
    )
    .await;
    let globex = create_deal(
        &app,
        "Globex expansion",
        "qualifiedtobuy",
        3_000_000,
        &close,
    )
    .await;
    let (status, body) = app
        .post_json(
            "/api/quotas",
            &app.admin,
            &json!({"owner": "admin", "period": period, "amount": {"minor": 10_000_000, "currency": "USD"}}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let move_id = propose_titled(&app, "check_in", "Check in with Acme").await;
    app.settle().await;
    // An instant after the deals were made and before any moved.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before_moves = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let browser = Browser::start(Options::new("deals-flow")).await;
    let mut found = Vec::new();

    // Signing in without `next` lands on the dashboard, the home; its top moves approve with
    // one click, and `t` opens Today's Moves.
    sign_in(&browser, &app, None).await;
    browser.wait_for_visible("#dashboard-title", WAIT).await;
    assert_eq!(browser.path().await, "/");
    let approve = browser.wait_for_visible(".top-moves button", WAIT).await;
    browser.click(&approve).await;
    browser
        .wait_for_js(
            "the approved move to leave the top moves",
            WAIT,
            "return document.querySelector('.top-moves') === null
                && document.body.innerText.includes('No moves waiting')",
            vec![],
        )
        .await;
    let item = app.queue_item(&move_id).await;
    assert_eq!(item.status, QueueStatus::Approved, "approved on the server");
    browser.press("t").await;
    browser
        .wait_for_path("Today's Moves", WAIT, |p| p == "/today")
        .await;

    // The board: a column per open stage with the server's numbers, a card per deal.
    let pipeline_link = browser
        .find("nav a.nav-link[href='/pipeline']")
        .await
        .expect("the Pipeline link");
    set_marker(&browser).await;
    browser.click(&pipeline_link).await;
    browser
        .wait_for_js(
            "two cards on the board",
            WAIT,
            "return document.querySelectorAll('li.deal-card').length === 2",
            vec![],
        )
        .await;
    let sums = browser
        .execute(
            "return document.querySelector('.stage-column[data-stage=appointmentscheduled] .stage-sums').textContent",
            vec![],
        )
        .await;
    assert_eq!(
        sums,
        json!("1 deal · $50,000 · weighted $10,000"),
        "the column's count, total and weighted"
    );
    check_page(&browser, &source, "board", &mut found).await;

    // By keyboard: focus Acme's card, press ] to move it one stage on.
    browser
        .execute(
            "document.querySelector(`li.deal-card[data-id='${arguments[0]}']`).focus()",
            vec![json!(acme)],
        )
        .await;
    let started = Instant::now();
    browser.press("]").await;
    browser
        .wait_for_js(
            "Acme in qualifiedtobuy",
            WAIT,
            "const c = document.querySelector(`.stage-column[data-stage=qualifiedtobuy] li.deal-card[data-id='${arguments[0]}']`);
             return c !== null;",
            vec![json!(acme)],
        )
        .await;
    println!(
        "keyboard move shown after {} ms",
        started.elapsed().as_millis()
    );
    let notice = browser.texts(".notice[role=status]").await;
    assert!(
        notice
            .iter()
            .any(|n| n == "Moved Acme renewal to Qualified to buy."),
        "{notice:?}"
    );
    let (_, acme_now) = app
        .get_json(&format!("/api/deals/{acme}"), &app.admin)
        .await;
    assert_eq!(acme_now["deal"]["stage"]["id"], json!("qualifiedtobuy"));
    // The moved card has the focus again, in its new column: ] and [ can go on.
    browser
        .wait_for_js(
            "the focus back on Acme's card",
            WAIT,
            "return document.activeElement !== null && document.activeElement.dataset.id === arguments[0]
                && document.activeElement.dataset.stage === 'qualifiedtobuy';",
            vec![json!(acme)],
        )
        .await;

    // By dragging Globex's card to "Presentation scheduled" (HTML drag and drop events; WebDriver
    // actions do not drive the browser's native drag).
    browser
        .execute(
            "const card = document.querySelector(`li.deal-card[data-id='${arguments[0]}']`);
             card.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: new DataTransfer()}));",
            vec![json!(globex)],
        )
        .await;
    browser
        .execute(
            "const column = document.querySelector('.stage-column[data-stage=presentationscheduled]');
             column.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: new DataTransfer()}));
             column.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: new DataTransfer()}));",
            vec![],
        )
        .await;
    browser
        .wait_for_js(
            "Globex in presentationscheduled",
            WAIT,
            "return document.querySelector(`.stage-column[data-stage=presentationscheduled] li.deal-card[data-id='${arguments[0]}']`) !== null;",
            vec![json!(globex)],
        )
        .await;
    print_screenshot(&browser.screenshot("deals-board-after-moves").await);
    assert_no_reload(&browser).await;

    // A move the server refuses (a stage the pipeline does not have, put into the menu by
    // hand) says so with its code, and the card stays where it was.
    browser
        .execute(
            "const select = document.getElementById(`move-${arguments[0]}`);
             select.add(new Option('Nowhere', 'nowhere'));
             select.value = 'nowhere';
             select.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(globex)],
        )
        .await;
    let refusal = browser
        .wait_for_js(
            "the refusal",
            WAIT,
            "const a = document.querySelector('[role=alert]'); return a && a.innerText;",
            vec![],
        )
        .await;
    let refusal = refusal.as_str().unwrap_or_default().to_string();
    println!("a refused move shows: {refusal:?}");
    assert!(
        refusal.starts_with("The move was refused; the deal stays where it was.")
            && refusal.contains("Code "),
        "{refusal}"
    );
    let (_, globex_now) = app
        .get_json(&format!("/api/deals/{globex}"), &app.admin)
        .await;
    assert_eq!(
        globex_now["deal"]["stage"]["id"],
        json!("presentationscheduled")
    );
    assert!(browser
        .find(&format!(
            ".stage-column[data-stage=presentationscheduled] li.deal-card[data-id='{globex}']"
        ))
        .await
        .is_some());
    print_screenshot(&browser.screenshot("deals-board-refused-move").await);

    // The forecast: weighted is 50,000 × 40% + 30,000 × 60% = $38,000.
    let forecast_link = browser
        .find("nav a.nav-link[href='/forecast']")
        .await
        .expect("the Forecast link");
    browser.click(&forecast_link).await;
    let weighted = browser
        .wait_for_js("the forecast's total", WAIT, TOTAL_WEIGHTED, vec![])
        .await;
    assert_eq!(weighted, json!("$38,000"));
    check_page(&browser, &source, "forecast", &mut found).await;

    // Another client moves Acme to decisionmakerboughtin (80%): the forecast follows live.
    let (status, body) = app
        .post_json(
            &format!("/api/deals/{acme}/move"),
            &app.admin,
            &json!({"stage": "decisionmakerboughtin"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let started = Instant::now();
    browser
        .wait_for_js(
            "the forecast to follow the move",
            LIVE_WAIT,
            &format!("const t = (() => {{ {TOTAL_WEIGHTED} }})(); return t === '$58,000';"),
            vec![],
        )
        .await;
    println!(
        "forecast followed a move by another client after {} ms",
        started.elapsed().as_millis()
    );
    assert_no_reload(&browser).await;
    print_screenshot(&browser.screenshot("deals-forecast-live").await);
    // The waterfall since a week ago: both deals are new, each row drills down to its deals.
    let new_row = browser
        .wait_for_js(
            "the waterfall's New row",
            WAIT,
            "const row = Array.from(document.querySelectorAll('table.waterfall-table tbody tr'))
                .find(r => r.querySelector('th').textContent === 'New');
             return row ? Array.from(row.querySelectorAll('a')).map(a => a.getAttribute('href')) : null;",
            vec![],
        )
        .await;
    let links: Vec<String> = serde_json::from_value(new_row).expect("links");
    assert!(
        links.contains(&format!("/deals/{acme}")) && links.contains(&format!("/deals/{globex}")),
        "the New row links both deals: {links:?}"
    );
    browser
        .execute(
            "document.querySelector('figure.waterfall').scrollIntoView()",
            vec![],
        )
        .await;
    print_screenshot(&browser.screenshot("deals-forecast-waterfall").await);

    // The dashboard follows live too: Globex moves to contractsent.
    let dashboard_link = browser
        .find("nav a.nav-link[href='/dashboard']")
        .await
        .expect("the Dashboard link");
    browser.click(&dashboard_link).await;
    browser.wait_for_visible(".pipeline-health", WAIT).await;
    check_page(&browser, &source, "dashboard", &mut found).await;
    let (status, body) = app
        .post_json(
            &format!("/api/deals/{globex}/move"),
            &app.admin,
            &json!({"stage": "contractsent"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    browser
        .wait_for_js(
            "the dashboard to count Globex in Contract sent",
            LIVE_WAIT,
            "const row = Array.from(document.querySelectorAll('.pipeline-health tbody tr'))
                .find(r => r.querySelector('th').textContent.startsWith('Contract sent'));
             return row !== undefined && row.cells[1].textContent === '1';",
            vec![],
        )
        .await;
    assert_no_reload(&browser).await;
    print_screenshot(&browser.screenshot("deals-dashboard-live").await);

    // The dashboard as it stood before the moves: Acme still in its first stage, marked
    // historical with the position.
    browser
        .goto(&format!(
            "{}/dashboard?as_of={}",
            app.address,
            before_moves.replace('+', "%2B")
        ))
        .await;
    browser
        .wait_for_js(
            "the earlier dashboard",
            WAIT,
            "const row = Array.from(document.querySelectorAll('.pipeline-health tbody tr'))
                .find(r => r.querySelector('th').textContent.startsWith('Appointment scheduled'));
             const notice = document.querySelector('.notice.historical');
             return row !== undefined && row.cells[1].textContent === '1'
                 && notice !== null && notice.textContent.includes('position');",
            vec![],
        )
        .await;
    print_screenshot(&browser.screenshot("deals-dashboard-as-of").await);

    // The forecast as it stood before the moves: the earlier numbers, marked historical.
    browser
        .goto(&format!(
            "{}/forecast?as_of={}",
            app.address,
            before_moves.replace('+', "%2B")
        ))
        .await;
    let weighted = browser
        .wait_for_js("the earlier forecast", WAIT, TOTAL_WEIGHTED, vec![])
        .await;
    assert_eq!(
        weighted,
        json!("$22,000"),
        "50,000 × 20% + 30,000 × 40% before the moves"
    );
    let historical = browser.texts(".notice.historical").await;
    assert!(
        historical.iter().any(|t| t.starts_with("Historical view")),
        "{historical:?}"
    );
    check_page(&browser, &source, "forecast-as-of", &mut found).await;
    // Last Monday, one click: before these deals existed.
    let last_monday = browser
        .find_xpath("//button[normalize-space()='Last Monday']")
        .await
        .expect("a Last Monday button");
    browser.click(&last_monday).await;
    browser
        .wait_for_js(
            "last Monday's forecast",
            WAIT,
            &format!("return location.search.includes('as_of=') && !location.search.includes('{}') && (() => {{ {TOTAL_WEIGHTED} }})() === null && document.querySelector('.skeleton') === null
                 && document.querySelector('.notice.historical') !== null
                 && document.body.innerText.includes('No deals or quotas in this period')",
                &before_moves[..10]),
            vec![],
        )
        .await;
    print_screenshot(&browser.screenshot("deals-forecast-last-monday").await);

    // The deal page: header, score factors, flags, the timeline newest first.
    browser.goto(&format!("{}/deals/{acme}", app.address)).await;
    browser
        .wait_for_visible(".deal-timeline li.event", WAIT)
        .await;
    let first_event = browser.texts(".deal-timeline li.event strong").await;
    assert_eq!(
        first_event.first().map(String::as_str),
        Some("DealStageChanged"),
        "newest first: {first_event:?}"
    );
    check_page(&browser, &source, "deal", &mut found).await;

    // The new pages in the dark theme, then at 375 px.
    let pages = [
        ("dashboard", "/dashboard".to_string(), ".pipeline-health"),
        ("board", "/pipeline".to_string(), "li.deal-card"),
        ("forecast", "/forecast".to_string(), "table.forecast-table"),
        ("deal", format!("/deals/{acme}"), ".deal-timeline li.event"),
    ];
    for (width, theme) in [(1280, "dark"), (375, "light")] {
        browser.set_viewport(width, 800).await;
        for (name, path, ready) in &pages {
            browser.goto(&format!("{}{path}", app.address)).await;
            with_theme(&browser, theme, ready).await;
            let page = format!("{name} ({theme}, {width} px)");
            found.extend(axe(&browser, &source, &page).await);
            let widths = browser
                .execute(
                    "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]",
                    vec![],
                )
                .await;
            assert!(
                widths[0].as_i64() <= widths[1].as_i64(),
                "{page} scrolls sideways: [scrollWidth, clientWidth] = {widths}"
            );
            print_screenshot(
                &browser
                    .screenshot(&format!("deals-{name}-{theme}-{width}"))
                    .await,
            );
        }
    }

    assert_no_serious_violations(&found);
}

/// The loop in the browser: an admin connects HubSpot with its private-app token on the
/// Connectors page, approves an email on Today's Moves, watches its execution run on the
/// move's page (Gmail's message id shown) and its outcome arrive; the Signals and
/// Auto-approval pages show, and axe finds nothing serious on any of them.
#[tokio::test]
async fn connecting_approving_and_watching_a_move_execute_and_its_outcome_arrive() {
    use caseyos_domain::connectors::ConnectorName;
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let source = axe_source();
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crm/objects/2026-03/contacts"))
        .and(query_param("limit", "1"))
        .and(header("authorization", "Bearer pat-na1-browser"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": []})))
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path("/gmail/v1/users/me/messages/send"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"id": "m-browser-1", "threadId": "t-1", "labelIds": ["SENT"]}),
            ),
        )
        .mount(&fake)
        .await;
    let dist = dist();
    let app = crate::support::providers::app_with(&fake, move |c| c.web_dir = dist).await;
    app.connect_fake(ConnectorName::Gmail, "gmail-token").await;
    let answer = app
        .request(
            reqwest::Method::PUT,
            "/api/admin/send-mode",
            Some(&app.admin),
        )
        .json(&json!({"mode": "send"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{:?}", answer.text().await);
    let item = propose(
        &app,
        json!({"action_type": "send_email", "title": "Email Dana the deck",
               "target": {"contact": {"id": "c-dana", "name": "Dana Lee", "email": "dana@acme.io"}},
               "payload": {"to": "dana@acme.io", "subject": "The deck", "body": "Hi Dana,\nthe deck."}}),
    )
    .await;
    app.settle().await;

    let browser = Browser::start(Options::new("loop")).await;
    let mut found = Vec::new();
    sign_in(&browser, &app, Some("/settings/connectors")).await;
    browser.wait_for_visible("#hubspot-token", WAIT).await;
    let token = browser
        .find("#hubspot-token")
        .await
        .expect("the token field");
    browser.type_into(&token, "pat-na1-browser").await;
    let save = browser
        .find_xpath("//button[normalize-space()='Save token']")
        .await
        .expect("Save token");
    browser.click(&save).await;
    let said = browser
        .wait_for_js(
            "HubSpot connected",
            WAIT,
            "const n = document.querySelector('p.notice[role=status]'); return n && n.innerText",
            vec![],
        )
        .await;
    assert_eq!(
        said,
        json!("HubSpot is connected with the private app's token.")
    );
    browser
        .wait_for_js(
            "Gmail and HubSpot listed as connected",
            WAIT,
            "return document.querySelectorAll('.connector-status.connected').length === 2",
            vec![],
        )
        .await;
    check_page(&browser, &source, "connectors", &mut found).await;

    // Approve on Today's Moves, then watch it run on its page.
    browser.goto(&format!("{}/today", app.address)).await;
    wait_for_cards(&browser, 1).await;
    browser.press("a").await;
    browser
        .wait_for_absent(&format!("li.card[data-id='{item}']"), WAIT)
        .await;
    let approved = Instant::now();
    browser.goto(&format!("{}/queue/{item}", app.address)).await;
    browser
        .wait_for_visible(".execution-status.succeeded", LIVE_WAIT)
        .await;
    println!(
        "approved → the panel shows it sent after {} ms",
        approved.elapsed().as_millis()
    );
    let facts = browser.texts(".execution-facts td").await;
    assert!(
        facts.iter().any(|t| t == "m-browser-1"),
        "Gmail's message id on the panel: {facts:?}"
    );
    // A sent email offers no rollback, and says why.
    let panel = browser.texts("section.execution p.muted").await;
    assert!(
        panel
            .iter()
            .any(|t| t == "No rollback: a sent email cannot be unsent."),
        "{panel:?}"
    );
    // Its outcome (email_sent) arrives without a reload.
    browser
        .wait_for_js(
            "the email_sent outcome",
            LIVE_WAIT,
            "return Array.from(document.querySelectorAll('.outcomes td'))
                .some(td => td.innerText === 'email_sent')",
            vec![],
        )
        .await;
    browser
        .execute(
            "document.querySelector('section.execution').scrollIntoView()",
            vec![],
        )
        .await;
    check_page(&browser, &source, "move-execution", &mut found).await;
    let sends = fake
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == "/gmail/v1/users/me/messages/send")
        .count();
    assert_eq!(sends, 1, "exactly one send");

    // The Signals and Auto-approval pages.
    browser.goto(&format!("{}/signals", app.address)).await;
    browser.wait_for_visible("#signals-title", WAIT).await;
    check_page(&browser, &source, "signals", &mut found).await;
    browser
        .goto(&format!("{}/settings/auto-approval", app.address))
        .await;
    let add = browser
        .wait_until("the Add a rule button", WAIT, || async {
            browser
                .find_xpath("//button[normalize-space()='Add a rule']")
                .await
        })
        .await;
    check_page(&browser, &source, "auto-approval", &mut found).await;
    // A rule added through its form shows in the list, off until turned on.
    browser.click(&add).await;
    let name = browser.wait_for_visible("#run-rule-name", WAIT).await;
    browser.type_into(&name, "Replied lately").await;
    browser
        .execute(
            "const k = document.querySelector('#run-rule-kind');
             k.value = 'replied_before'; k.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![],
        )
        .await;
    let threshold = browser
        .find("#run-rule-threshold")
        .await
        .expect("threshold");
    browser.type_into(&threshold, "30").await;
    check_page(&browser, &source, "auto-approval-rule-form", &mut found).await;
    let save = browser
        .find_xpath("//button[normalize-space()='Save the rule']")
        .await
        .expect("Save the rule");
    browser.click(&save).await;
    let listed = browser
        .wait_for_js(
            "the new rule listed",
            WAIT,
            "const t = document.querySelector('table.data');
             return t && t.innerText.includes('Replied lately') && t.innerText",
            vec![],
        )
        .await;
    let listed = listed.as_str().unwrap_or_default().to_string();
    assert!(listed.contains("Replied lately (off)"), "{listed}");
    assert!(
        listed.contains("every recipient replied within 30 days"),
        "{listed}"
    );
    assert_no_serious_violations(&found);
}

/// A fake OpenAI-compatible model for the chat: asked for the top move, it reads Today's
/// Moves (`todays_moves`); after a tool's answer, it says what it read, or what came of the
/// call; asked to approve it, it calls `approve_queue_item` with the id it read before.
fn chat_model(request: &wiremock::Request) -> wiremock::ResponseTemplate {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    // Answered as asked: streamed (the SPA asks for its answers as they come) or whole.
    let answer = |message: Value| crate::chat::completion(request, message);
    let says = |text: String| answer(json!({"role": "assistant", "content": text}));
    let calls = |id: &str, name: &str, arguments: Value| {
        answer(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": id, "type": "function", "function": {"name": name, "arguments": arguments.to_string()}}
        ]}))
    };
    let tool_answer = |m: &Value| -> Value {
        serde_json::from_str(m["content"].as_str().unwrap_or_default()).unwrap_or_default()
    };
    let last = messages.last().cloned().unwrap_or_default();
    if last["role"] == "tool" {
        let read = tool_answer(&last);
        return match read["body"]["items"][0]["title"].as_str() {
            // Slow, so that the page shows the question and the tool call before it.
            Some(title) => {
                says(format!("Your top move: {title}.")).set_delay(Duration::from_millis(1_500))
            }
            None => says(format!("Done (HTTP {}).", read["status"])),
        };
    }
    let asked = last["content"].as_str().unwrap_or_default();
    if asked.contains("top move") {
        return calls("call_top", "todays_moves", json!({"limit": 5}));
    }
    if asked.contains("approve it") {
        let read = messages
            .iter()
            .filter(|m| m["role"] == "tool")
            .find_map(|m| {
                tool_answer(m)["body"]["items"][0]["id"]
                    .as_str()
                    .map(str::to_string)
            });
        if let Some(id) = read {
            return calls(
                "call_approve",
                "approve_queue_item",
                json!({"id": id, "body": {"note": "from the chat"}}),
            );
        }
    }
    says("Noted.".into())
}

#[tokio::test]
async fn ask_the_chat_for_todays_top_move_and_approve_it_after_confirming() {
    use wiremock::matchers::{method, path};
    let model = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(chat_model)
        .mount(&model)
        .await;
    let url = format!("{}/v1", model.uri());
    let dist = dist();
    let app = spawn_app_with(move |c| {
        c.web_dir = dist;
        c.llm_base_url = Some(url);
        c.llm_api_key = Some("test-key".into());
        c.llm_model = "fake-model-1".into();
        c.llm_max_retries = 0;
    })
    .await;
    let item = propose_titled(&app, "manual_task", "Call Dana about the renewal").await;
    app.settle().await;
    let source = axe_source();
    let mut found = Vec::new();

    let browser = Browser::start(Options::new("chat")).await;
    sign_in(&browser, &app, Some("/chat")).await;
    // The language model's state, as the server says it.
    browser
        .wait_for_js(
            "the language model's state",
            WAIT,
            "return document.querySelector('.page-header [role=status]')?.textContent
                .includes('Language model: connected')",
            vec![],
        )
        .await;
    let new_chat = browser
        .wait_for_visible("nav.side button.primary", WAIT)
        .await;
    browser.click(&new_chat).await;
    browser
        .wait_for_path("the new chat", WAIT, |path| path.starts_with("/chat/"))
        .await;

    let ask = |question: &'static str| {
        let browser = &browser;
        async move {
            let field = browser.wait_for_visible("#ask", WAIT).await;
            browser.type_into(&field, question).await;
            let send = browser
                .find("form.ask button[type=submit]:not([disabled])")
                .await
                .expect("Send is enabled once there is a question");
            browser.click(&send).await;
        }
    };
    let started = Instant::now();
    ask("What is my top move today?").await;
    // The answer streams: the question (out of the box) and the model's read of Today's
    // Moves show while the model is still writing.
    browser
        .wait_for_js(
            "the question and the tool call before the answer",
            WAIT,
            "const said = document.querySelector('.messages')?.textContent ?? '';
             return said.includes('What is my top move today?') && said.includes('todays_moves')
                && !said.includes('Your top move') && document.querySelector('#ask').value === ''",
            vec![],
        )
        .await;
    browser
        .wait_for_js(
            "the assistant to name the top move",
            WAIT,
            "return document.querySelector('.messages')?.textContent
                .includes('Your top move: Call Dana about the renewal.')",
            vec![],
        )
        .await;
    println!("the top move named in {:?}", started.elapsed());

    ask("Please approve it.").await;
    let confirm = browser
        .wait_for_visible(".messages tbody button.primary", WAIT)
        .await;
    assert_eq!(browser.text(&confirm).await, "Confirm");
    let waiting = browser.texts(".messages tbody tr").await;
    assert!(
        waiting
            .iter()
            .any(|t| t.contains("approve_queue_item") && t.contains("awaiting_confirmation")),
        "the approval waits: {waiting:?}"
    );
    assert_eq!(
        app.queue_item(&item).await.status,
        QueueStatus::Pending,
        "nothing is approved before the confirmation"
    );
    browser
        .execute(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![confirm.arg()],
        )
        .await;
    print_screenshot(&browser.screenshot("chat-confirm").await);
    found.extend(axe(&browser, &source, "chat with a call to confirm").await);

    browser.click(&confirm).await;
    browser
        .wait_for_js(
            "the approval to run and the assistant to say so",
            WAIT,
            "return document.querySelector('.messages tbody button') === null
                && Array.from(document.querySelectorAll('.messages tbody tr')).some(r =>
                    r.textContent.includes('approve_queue_item') && r.textContent.includes('succeeded')
                    && r.textContent.includes('200'))
                && document.querySelector('.messages').textContent.includes('Done (HTTP 200).')",
            vec![],
        )
        .await;
    assert_eq!(app.queue_item(&item).await.status, QueueStatus::Approved);
    print_screenshot(&browser.screenshot("chat-approved").await);
    found.extend(axe(&browser, &source, "chat after the approval").await);

    // A preference said in the chat is shown beside it, and changed or forgotten there.
    ask("I prefer bullet points").await;
    let preference = |value: &'static str| {
        let browser = &browser;
        async move {
            browser
                .wait_for_js(
                    &format!("the preference to read {value:?}"),
                    WAIT,
                    "const rows = Array.from(document.querySelectorAll('[aria-label=\"Your preferences\"] tbody tr'));
                     return rows.some(r => r.textContent.includes('format') && r.textContent.includes(arguments[0]))",
                    vec![json!(value)],
                )
                .await;
        }
    };
    preference("bullet points").await;
    browser.execute("window.scrollTo(0, 0)", vec![]).await;
    print_screenshot(&browser.screenshot("chat-preferences").await);
    found.extend(axe(&browser, &source, "chat with a preference").await);
    let change = |answer: &'static str| {
        let browser = &browser;
        async move {
            browser
                .execute("window.prompt = () => arguments[0]", vec![json!(answer)])
                .await;
            let button = browser
                .find_xpath(
                    "//*[@aria-label='Your preferences']//button[normalize-space()='Change']",
                )
                .await
                .expect("a preference's Change");
            browser.click(&button).await;
        }
    };
    change("numbered lists").await;
    preference("numbered lists").await;
    let (status, body) = app.get_json("/api/chat/preferences", &app.admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["value"], "numbered lists", "{body}");
    change("").await;
    browser
        .wait_for_js(
            "the preference forgotten",
            WAIT,
            "return document.querySelector('[aria-label=\"Your preferences\"] tbody tr') === null",
            vec![],
        )
        .await;
    let (_, body) = app.get_json("/api/chat/preferences", &app.admin).await;
    assert_eq!(body["items"], json!([]), "{body}");
    assert_no_serious_violations(&found);
}

#[tokio::test]
async fn research_a_question_watch_it_run_and_read_its_report_with_citations() {
    let app = app().await;
    for (path, body) in [
        (
            "/api/contacts",
            json!({"first_name": "Dana", "last_name": "Whitfield", "job_title": "VP of Sales",
                   "emails": ["dana@northwind.example"], "company_name": "Northwind Logistics"}),
        ),
        (
            "/api/deals",
            json!({"name": "Northwind renewal", "pipeline": "default", "stage": "qualifiedtobuy",
                   "owner": "admin", "close_date": "2027-03-31"}),
        ),
    ] {
        let (status, body) = app.post_json(path, &app.admin, &body).await;
        assert_eq!(status, 201, "{body}");
    }
    app.settle().await;
    let browser = Browser::start(Options::new("research")).await;
    sign_in(&browser, &app, Some("/research")).await;
    let question = browser.wait_for_visible("#ask", WAIT).await;
    browser
        .type_into(&question, "What do we know about Northwind?")
        .await;
    let start = browser
        .find("form.ask button[type=submit]:not([disabled])")
        .await
        .expect("Research is enabled once there is a question");
    browser.click(&start).await;
    let path = browser
        .wait_for_path("the research opened", WAIT, |path| {
            path.starts_with("/research/")
        })
        .await;
    // It runs, then its report shows: cited sentences, and the sources they cite, linked.
    browser
        .wait_for_js(
            "the report with its citations and sources",
            WAIT,
            "const report = document.querySelector('article.report');
             return report !== null && /\\[1\\]/.test(report.textContent)
                && report.querySelector('ol a[href^=\"/contacts/\"], ol a[href^=\"/deals/\"]') !== null",
            vec![],
        )
        .await;
    let facts = browser.texts(".fields-table td").await.join(" | ");
    assert!(facts.starts_with("completed | standard | admin"), "{facts}");
    let steps = browser.texts("[aria-label=Progress] tbody tr").await;
    assert!(
        steps.iter().any(|s| s.contains("searching internal data"))
            && steps.iter().any(|s| s.contains("internal sources only")),
        "{steps:?}"
    );
    let report = browser.texts("article.report").await.join("");
    assert!(report.contains("Northwind"), "{report}");
    let listed = browser.texts("nav.side tbody tr").await;
    assert!(
        listed.len() == 1 && listed[0].contains("What do we know about Northwind?"),
        "{listed:?}"
    );
    let export = browser.find("a[download]").await.expect("Export Markdown");
    let id = path.trim_start_matches("/research/");
    assert_eq!(
        browser
            .execute(
                "return arguments[0].getAttribute('href')",
                vec![export.arg()]
            )
            .await,
        json!(format!("/api/research/{id}/export?format=md"))
    );
    browser
        .execute(
            "document.querySelector('article.report').scrollIntoView({block: 'start'})",
            vec![],
        )
        .await;
    print_screenshot(&browser.screenshot("research").await);
    let found = axe(&browser, &axe_source(), "a research with its report").await;

    // Opened again, it is read back, not run again.
    browser.refresh().await;
    browser.wait_for_visible("article.report", WAIT).await;
    let (status, body) = app.get_json("/api/research", &app.admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1), "{body}");
    let (status, runs) = app
        .get_json("/api/agents/StandardResearch/runs", &app.admin)
        .await;
    assert_eq!(status, 200, "{runs}");
    assert_eq!(runs["runs"].as_array().map(Vec::len), Some(1), "{runs}");
    assert_no_serious_violations(&found);
}

#[tokio::test]
async fn voice_training_takes_a_pasted_sample_rates_it_and_says_plainly_why_no_summary() {
    let app = app().await;
    let browser = Browser::start(Options::new("voice")).await;
    sign_in(&browser, &app, Some("/voice")).await;
    let paste = browser.wait_for_visible("#voice-sample", WAIT).await;
    browser.wait_for_absent("[aria-busy=true]", WAIT).await;
    let sample = "Hi Dana, thanks for the call on Tuesday. Here is the revised proposal we talked \
                  about; let me know what you think. Best, Casey";
    browser.type_into(&paste, &sample[..40]).await;
    let note = browser.texts("#voice-count").await;
    assert_eq!(note, ["40 characters: 60 more needed"]);
    assert!(
        browser
            .find("form.ask button[type=submit]:not([disabled])")
            .await
            .is_none(),
        "a sample under 100 characters cannot be added"
    );
    browser.type_into(&paste, &sample[40..]).await;
    let add = browser
        .find("form.ask button[type=submit]:not([disabled])")
        .await
        .expect("Add sample is enabled at 100 characters");
    browser.click(&add).await;
    browser
        .wait_for_js(
            "the sample in the list",
            WAIT,
            "return Array.from(document.querySelectorAll('table tbody tr'))
                .some(r => r.textContent.includes('revised proposal') && r.textContent.includes('manual'))",
            vec![],
        )
        .await;

    // Rate it 4.
    browser
        .execute(
            "const s = document.querySelector('select[aria-label=Rating]');
             s.value = '4'; s.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![],
        )
        .await;
    browser
        .wait_for_js(
            "the rating saved",
            WAIT,
            "return Array.from(document.querySelectorAll('table tbody tr'))
                .some(r => r.textContent.includes('revised proposal')
                    && r.querySelector('select').value === '4')",
            vec![],
        )
        .await;
    // The select shows 4 as soon as it is chosen; the rating is saved when the request
    // answers: wait for the server to hold it.
    let mut answer = app.get_json("/api/voice/samples", &app.admin).await;
    for _ in 0..100 {
        if answer.1["items"][0]["rating"] == json!(4) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        answer = app.get_json("/api/voice/samples", &app.admin).await;
    }
    let (status, body) = answer;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["rating"], json!(4), "{body}");

    // No language model: the summary cannot be written, and the page says so.
    let write = browser
        .find_xpath("//button[normalize-space()='Write summary']")
        .await
        .expect("Write summary");
    browser.click(&write).await;
    let error = browser.wait_for_visible("[role=alert]", WAIT).await;
    let said = browser.text(&error).await;
    assert!(said.contains("llm.not_connected"), "{said}");
    browser.execute("window.scrollTo(0, 0)", vec![]).await;
    print_screenshot(&browser.screenshot("voice").await);
    let found = axe(
        &browser,
        &axe_source(),
        "voice with a sample and the summary refused",
    )
    .await;
    assert_no_serious_violations(&found);
}
