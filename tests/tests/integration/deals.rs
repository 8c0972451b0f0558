//! Pipelines, deals, quotas, the forecast and the dashboard over HTTP against the real
//! router and a real PostgreSQL: the default pipeline, every deal command and its
//! refusals, the list's filters and pages, the forecast's numbers against hand-computed
//! ones, time travel (`as_of` equals the read model as it stood then), the waterfall and
//! the dashboard.

use caseyos_domain::api::{
    AuditResponse, DashboardResponse, DealDetailResponse, DealListResponse, DealResponse,
    ForecastChangesResponse, ForecastResponse, PipelineListResponse, QuotaListResponse,
    QuotaResponse,
};
use caseyos_domain::deals::{DealStatus, RiskKind};
use caseyos_domain::forecast::MovementKind;
use caseyos_domain::pipelines::{ForecastCategory, StageKind};
use caseyos_store::now;
use caseyos_tests::{assert_error, expect_dto, spawn_app, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

/// Waits until every read model and every reactor has followed the log to its head
/// ([`caseyos_tests::settle_everything`]).
async fn settle_views(app: &TestApp) {
    caseyos_tests::settle_everything(&app.pool).await;
}

fn usd(minor: i64) -> Value {
    json!({"minor": minor, "currency": "USD"})
}

async fn create(app: &TestApp, token: &str, body: Value) -> DealResponse {
    expect_dto(&app.post_json("/api/deals", token, &body).await, 201)
}

async fn deal_command(app: &TestApp, id: Uuid, what: &str, body: Value) -> (u16, Value) {
    app.post_json(&format!("/api/deals/{id}/{what}"), &app.admin, &body)
        .await
}

async fn ok(app: &TestApp, id: Uuid, what: &str, body: Value) -> DealResponse {
    expect_dto(&deal_command(app, id, what, body).await, 200)
}

#[tokio::test]
async fn a_first_start_defines_the_default_pipeline_with_hubspots_stages() {
    let app = spawn_app().await;
    let list: PipelineListResponse = app.get_ok("/api/pipelines", &app.admin).await;
    assert_eq!(list.total, 1);
    let pipeline = &list.items[0].pipeline;
    assert_eq!(pipeline.id().as_str(), "default");
    let stages: Vec<(&str, u8, StageKind)> = pipeline
        .stages()
        .iter()
        .map(|s| (s.id.as_str(), s.probability, s.kind))
        .collect();
    assert_eq!(
        stages,
        vec![
            ("appointmentscheduled", 20, StageKind::Open),
            ("qualifiedtobuy", 40, StageKind::Open),
            ("presentationscheduled", 60, StageKind::Open),
            ("decisionmakerboughtin", 80, StageKind::Open),
            ("contractsent", 90, StageKind::Open),
            ("closedwon", 100, StageKind::Won),
            ("closedlost", 0, StageKind::Lost),
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_deal_moves_changes_closes_and_reopens_through_commands_each_an_event() {
    let app = spawn_app().await;
    let created = create(
        &app,
        &app.admin,
        json!({"name": "Acme renewal", "pipeline": "default", "stage": "qualifiedtobuy",
               "amount": usd(5_000_000), "close_date": "2026-12-15", "owner": "dana"}),
    )
    .await;
    let id = created.deal.id;
    assert_eq!(created.deal.stage.probability, 40);
    assert_eq!(created.deal.forecast_category, ForecastCategory::Pipeline);

    let moved = ok(&app, id, "move", json!({"stage": "decisionmakerboughtin"})).await;
    assert_eq!(
        moved.deal.forecast_category,
        ForecastCategory::Commit,
        "auto: 80 is commit"
    );
    // A person's choice is sticky when the stage changes.
    ok(
        &app,
        id,
        "forecast-category",
        json!({"category": "best_case"}),
    )
    .await;
    let regressed = ok(&app, id, "move", json!({"stage": "presentationscheduled"})).await;
    assert_eq!(regressed.deal.forecast_category, ForecastCategory::BestCase);
    // Twice the same move records nothing more.
    let again = ok(&app, id, "move", json!({"stage": "presentationscheduled"})).await;
    assert_eq!(again.deal.version, regressed.deal.version);

    ok(&app, id, "amount", json!({"amount": usd(4_200_000)})).await;
    ok(&app, id, "close-date", json!({"close_date": "2027-01-31"})).await;
    let pushed = ok(&app, id, "close-date", json!({"close_date": "2027-02-28"})).await;
    assert_eq!(pushed.deal.close_date_pushes, 2);
    let activity = json!({"id": Uuid::now_v7(), "kind": "call",
                          "happened_at": "2026-11-20T15:30:00Z", "summary": "Pricing call"});
    let logged = ok(&app, id, "activities", activity.clone()).await;
    let relogged = ok(&app, id, "activities", activity).await;
    assert_eq!(logged.deal.activity_counts.call, 1);
    assert_eq!(
        relogged.deal.version, logged.deal.version,
        "the same activity id twice"
    );
    assert_eq!(
        logged.deal.last_activity_at.unwrap().to_rfc3339(),
        "2026-11-20T15:30:00+00:00",
        "when it happened, not when it was recorded"
    );
    ok(
        &app,
        id,
        "next-step",
        json!({"next_step": "Send the order form"}),
    )
    .await;
    ok(&app, id, "owner", json!({"owner": "sam"})).await;

    let lost = ok(&app, id, "lost", json!({"reason": "Chose a competitor"})).await;
    assert_eq!(lost.deal.status, DealStatus::Lost);
    assert_eq!(lost.deal.stage.probability, 0);
    assert_error(
        &deal_command(&app, id, "amount", json!({"amount": usd(1)})).await,
        409,
        "deal.closed",
    );
    let reopened = ok(&app, id, "reopen", json!({})).await;
    assert_eq!(reopened.deal.status, DealStatus::Open);
    assert_eq!(reopened.deal.stage.id.as_str(), "presentationscheduled");
    let won = ok(&app, id, "won", json!({})).await;
    assert_eq!(won.deal.status, DealStatus::Won);

    let audit: AuditResponse = app
        .get_ok(&format!("/api/audit/deal/{id}"), &app.admin)
        .await;
    let types: Vec<&str> = audit.events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types.first(), Some(&"DealCreated"), "{types:?}");
    assert_eq!(types.len() as u64, won.deal.version, "{types:?}");

    let detail: DealDetailResponse = app.get_ok(&format!("/api/deals/{id}"), &app.admin).await;
    assert_eq!(detail.deal, won.deal);
    assert!(
        detail.health.score().is_none(),
        "a closed deal is not scored"
    );
    assert!(detail.risks.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn bad_deal_commands_are_refused_with_stable_codes_and_record_nothing() {
    let app = spawn_app().await;
    let unknown_stage = app
        .post_json(
            "/api/deals",
            &app.admin,
            &json!({"name": "X", "stage": "nope"}),
        )
        .await;
    assert_error(&unknown_stage, 409, "deal.unknown_stage");
    let unknown_pipeline = app
        .post_json(
            "/api/deals",
            &app.admin,
            &json!({"name": "X", "pipeline": "renewals"}),
        )
        .await;
    assert_error(&unknown_pipeline, 409, "deal.unknown_pipeline");
    let closed_stage = app
        .post_json(
            "/api/deals",
            &app.admin,
            &json!({"name": "X", "stage": "closedwon"}),
        )
        .await;
    assert_error(&closed_stage, 409, "deal.stage_not_open");
    let negative = app
        .post_json(
            "/api/deals",
            &app.admin,
            &json!({"name": "X", "amount": usd(-1)}),
        )
        .await;
    assert_error(&negative, 422, "request.validation");

    let deal = create(&app, &app.admin, json!({"name": "Globex"}))
        .await
        .deal;
    assert_eq!(
        deal.stage.id.as_str(),
        "appointmentscheduled",
        "the first open stage"
    );
    assert_error(
        &deal_command(&app, deal.id, "move", json!({"stage": "closedlost"})).await,
        409,
        "deal.lost_reason_required",
    );
    assert_error(
        &deal_command(
            &app,
            Uuid::now_v7(),
            "move",
            json!({"stage": "qualifiedtobuy"}),
        )
        .await,
        404,
        "deal.not_found",
    );
    let future = (now() + chrono::Duration::days(1)).to_rfc3339();
    assert_error(
        &deal_command(
            &app,
            deal.id,
            "activities",
            json!({"kind": "call", "happened_at": future}),
        )
        .await,
        422,
        "request.validation",
    );

    // Operators act on their own deals only; viewers on none.
    let dana = app.token("dana", "operator").await;
    let viewer = app.token("vic", "viewer").await;
    let refused = app
        .post_json(&format!("/api/deals/{}/won", deal.id), &dana, &json!({}))
        .await;
    assert_eq!(refused.0, 403, "{}", refused.1);
    let refused = app
        .post_json("/api/deals", &viewer, &json!({"name": "Mine"}))
        .await;
    assert_eq!(refused.0, 403, "{}", refused.1);
    let for_someone_else = app
        .post_json(
            "/api/deals",
            &dana,
            &json!({"name": "Sam's", "owner": "sam"}),
        )
        .await;
    assert_eq!(for_someone_else.0, 403, "{}", for_someone_else.1);
    let own = create(&app, &dana, json!({"name": "Dana's"})).await;
    assert_eq!(own.deal.owner, "dana");

    let audit: AuditResponse = app
        .get_ok(&format!("/api/audit/deal/{}", deal.id), &app.admin)
        .await;
    assert_eq!(audit.events.len(), 1, "only its creation");
    app.stop().await;
}

#[tokio::test]
async fn the_list_filters_sorts_pages_and_flags_deals_at_risk() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (name, stage, minor, close, owner) in [
        ("A", "qualifiedtobuy", 100_000, "2026-12-01", "dana"),
        ("B", "contractsent", 900_000, "2026-12-20", "dana"),
        ("C", "qualifiedtobuy", 500_000, "2027-01-10", "sam"),
        ("D", "appointmentscheduled", 300_000, "2026-10-01", "sam"),
    ] {
        let deal = create(
            &app,
            &app.admin,
            json!({"name": name, "stage": stage, "amount": usd(minor), "close_date": close, "owner": owner}),
        )
        .await;
        ids.push(deal.deal.id);
    }
    settle_views(&app).await;
    let by_amount: DealListResponse = app
        .get_ok("/api/deals?sort=-amount&limit=3", &app.admin)
        .await;
    assert_eq!(by_amount.total, 4);
    let names: Vec<&str> = by_amount
        .items
        .iter()
        .map(|i| i.deal.name.as_str())
        .collect();
    assert_eq!(names, vec!["B", "C", "D"]);
    let next = by_amount.next_cursor.expect("a second page");
    let rest: DealListResponse = app
        .get_ok(
            &format!("/api/deals?sort=-amount&limit=3&cursor={next}"),
            &app.admin,
        )
        .await;
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].deal.name, "A");
    assert!(rest.next_cursor.is_none());

    let filtered: DealListResponse = app
        .get_ok(
            "/api/deals?stage=qualifiedtobuy&owner=dana&close_from=2026-11-01&close_to=2026-12-31",
            &app.admin,
        )
        .await;
    let names: Vec<&str> = filtered
        .items
        .iter()
        .map(|i| i.deal.name.as_str())
        .collect();
    assert_eq!(names, vec!["A"]);

    // Every new deal is single-threaded and has no next step: all at risk, with a score.
    let at_risk: DealListResponse = app
        .get_ok("/api/deals?at_risk=true&sort=close_date", &app.admin)
        .await;
    assert_eq!(at_risk.total, 4);
    let d = &at_risk.items[0];
    assert_eq!(d.deal.name, "D", "soonest close date first");
    assert!(d.risks.contains(&RiskKind::PastCloseDate), "{:?}", d.risks);
    assert!(d.risks.contains(&RiskKind::SingleThreaded));
    assert!(d.score.is_some_and(|s| s <= 100));

    let bad = app.get_json("/api/deals?sort=name", &app.admin).await;
    assert_error(&bad, 400, "request.invalid_query");
    let dana = app.token("dana", "operator").await;
    let others = app.get_json("/api/deals?owner=sam", &dana).await;
    assert_eq!(others.0, 403, "{}", others.1);
    let mine: DealListResponse = app.get_ok("/api/deals", &dana).await;
    assert_eq!(mine.total, 2);
    app.stop().await;
}

/// Sets up Q4 2026 for two owners: dana has a quota of $100,000, sam none.
pub(crate) async fn q4_fixture(app: &TestApp) -> Vec<Uuid> {
    let quota: QuotaResponse = expect_dto(
        &app.post_json(
            "/api/quotas",
            &app.admin,
            &json!({"owner": "dana", "period": "2026-Q4", "amount": usd(10_000_000)}),
        )
        .await,
        200,
    );
    assert_eq!(quota.quota.owner, "dana");
    let mut ids = Vec::new();
    for (name, stage, minor, close, owner) in [
        // commit (80): weighted 24,000.00
        (
            "Commit",
            "decisionmakerboughtin",
            3_000_000,
            "2026-12-10",
            "dana",
        ),
        // best case (60): weighted 12,000.00
        (
            "Best",
            "presentationscheduled",
            2_000_000,
            "2026-11-15",
            "dana",
        ),
        // pipeline (20): weighted 2,000.00 — sam's
        (
            "Early",
            "appointmentscheduled",
            1_000_000,
            "2026-10-20",
            "sam",
        ),
        // next quarter: in no Q4 number
        ("Later", "qualifiedtobuy", 5_000_000, "2027-01-15", "dana"),
        // won below, lost below
        ("Won", "contractsent", 4_000_000, "2026-12-01", "dana"),
        ("Lost", "contractsent", 1_500_000, "2026-12-05", "sam"),
    ] {
        let deal = create(
            app,
            &app.admin,
            json!({"name": name, "stage": stage, "amount": usd(minor), "close_date": close, "owner": owner}),
        )
        .await;
        ids.push(deal.deal.id);
    }
    ok(app, ids[4], "won", json!({})).await;
    ok(app, ids[5], "lost", json!({"reason": "No budget"})).await;
    ids
}

#[tokio::test]
async fn the_forecast_matches_hand_computed_numbers_and_a_lost_deal_weighs_zero() {
    let app = spawn_app().await;
    let ids = q4_fixture(&app).await;
    settle_views(&app).await;
    let forecast: ForecastResponse = app.get_ok("/api/forecast?period=2026-Q4", &app.admin).await;
    let total = &forecast.total;
    assert_eq!(total.closed_won.total.minor, 4_000_000);
    assert_eq!(total.commit.total.minor, 3_000_000);
    assert_eq!(total.best_case.total.minor, 2_000_000);
    assert_eq!(total.pipeline.total.minor, 1_000_000);
    assert_eq!(total.closed_lost.total.minor, 1_500_000);
    assert_eq!(total.closed_lost.deals, vec![ids[5]]);
    // Σ amount × probability: 40,000×1 + 30,000×.8 + 20,000×.6 + 10,000×.2 + 15,000×0.
    assert_eq!(total.weighted.total.minor, 7_800_000);
    let lost_part = total
        .weighted
        .parts
        .iter()
        .find(|p| p.deal == ids[5])
        .expect("the lost deal is listed");
    assert_eq!(lost_part.weighted.minor, 0);
    assert_eq!(total.quota.map(|q| q.minor), Some(10_000_000));

    let dana = forecast.owners.iter().find(|o| o.owner == "dana").unwrap();
    assert_eq!(dana.row.closed_won.total.minor, 4_000_000);
    let attainment = dana.row.attainment.unwrap();
    assert_eq!(attainment.basis_points, 4_000, "40% of quota");
    let coverage = dana.row.coverage.unwrap();
    // open (30,000 + 20,000) / remaining (60,000) = 0.8333× → 8,333 basis points.
    assert_eq!(coverage.basis_points, Some(8_333));
    let sam = forecast.owners.iter().find(|o| o.owner == "sam").unwrap();
    assert_eq!(sam.row.quota, None, "no quota is not a quota of 0");
    assert_eq!(forecast.quota_missing_for, vec!["sam".to_string()]);
    assert!(
        !forecast.deals.iter().any(|d| d.id == ids[3]),
        "next quarter's deal"
    );

    let month: ForecastResponse = app
        .get_ok("/api/forecast?period=2026-11&owner=dana", &app.admin)
        .await;
    assert_eq!(month.total.best_case.total.minor, 2_000_000);
    assert_eq!(month.total.commit.total.minor, 0);

    let quotas: QuotaListResponse = app.get_ok("/api/quotas?period=2026-Q4", &app.admin).await;
    assert_eq!(quotas.total, 1);
    let bad = app
        .get_json("/api/forecast?period=2026-Q5", &app.admin)
        .await;
    assert_error(&bad, 400, "request.invalid_query");
    app.stop().await;
}

#[tokio::test]
async fn as_of_answers_what_the_read_models_said_then_and_the_waterfall_explains_the_change() {
    let app = spawn_app().await;
    let ids = q4_fixture(&app).await;
    settle_views(&app).await;
    let then: ForecastResponse = app.get_ok("/api/forecast?period=2026-Q4", &app.admin).await;
    let deal_then: DealDetailResponse = app
        .get_ok(&format!("/api/deals/{}", ids[0]), &app.admin)
        .await;
    let dashboard_then: DashboardResponse = app.get_ok("/api/dashboard", &app.admin).await;
    let instant = now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    // After the instant: the commit deal is pushed into next quarter, the best-case deal
    // grows, and a new deal arrives.
    ok(
        &app,
        ids[0],
        "close-date",
        json!({"close_date": "2027-01-20"}),
    )
    .await;
    ok(&app, ids[1], "amount", json!({"amount": usd(2_500_000)})).await;
    create(
        &app,
        &app.admin,
        json!({"name": "New", "stage": "qualifiedtobuy", "amount": usd(800_000), "close_date": "2026-12-30", "owner": "sam"}),
    )
    .await;
    settle_views(&app).await;

    let at = urlencoding(&instant.to_rfc3339());
    let as_of: ForecastResponse = app
        .get_ok(
            &format!("/api/forecast?period=2026-Q4&as_of={at}"),
            &app.admin,
        )
        .await;
    assert_eq!(as_of.position, then.position, "the same log position");
    assert_eq!(as_of.total, then.total);
    assert_eq!(as_of.owners, then.owners);
    assert_eq!(as_of.deals, then.deals);
    let deal_as_of: DealDetailResponse = app
        .get_ok(&format!("/api/deals/{}?as_of={at}", ids[0]), &app.admin)
        .await;
    assert_eq!(deal_as_of.deal, deal_then.deal);
    let dashboard_as_of: DashboardResponse = app
        .get_ok(&format!("/api/dashboard?as_of={at}"), &app.admin)
        .await;
    assert_eq!(dashboard_as_of.position, dashboard_then.position);
    assert_eq!(
        dashboard_as_of.pipelines.len(),
        dashboard_then.pipelines.len()
    );
    for (a, b) in dashboard_as_of
        .pipelines
        .iter()
        .zip(&dashboard_then.pipelines)
    {
        assert_eq!(a.stages, b.stages);
        assert_eq!(a.open_total, b.open_total);
        assert_eq!(a.weighted_total, b.weighted_total);
    }
    assert_eq!(dashboard_as_of.activity, dashboard_then.activity);
    assert!(dashboard_as_of.hygiene.is_none());

    let now_forecast: ForecastResponse =
        app.get_ok("/api/forecast?period=2026-Q4", &app.admin).await;
    let changes: ForecastChangesResponse = app
        .get_ok(
            &format!("/api/forecast/changes?period=2026-Q4&from={at}"),
            &app.admin,
        )
        .await;
    let sum: i64 = changes.movements.iter().map(|m| m.change.minor).sum();
    assert_eq!(changes.start.total.minor + sum, changes.end.total.minor);
    let forecast_total = |f: &ForecastResponse| {
        f.total.closed_won.total.minor
            + f.total.commit.total.minor
            + f.total.best_case.total.minor
            + f.total.pipeline.total.minor
    };
    assert_eq!(changes.start.total.minor, forecast_total(&then));
    assert_eq!(changes.end.total.minor, forecast_total(&now_forecast));
    let kinds: Vec<MovementKind> = changes.movements.iter().map(|m| m.kind).collect();
    assert!(kinds.contains(&MovementKind::PushedOut), "{kinds:?}");
    assert!(kinds.contains(&MovementKind::New), "{kinds:?}");
    assert!(kinds.contains(&MovementKind::AmountIncreased), "{kinds:?}");
    let pushed = changes
        .movements
        .iter()
        .find(|m| m.kind == MovementKind::PushedOut)
        .unwrap();
    assert_eq!(pushed.change.minor, -3_000_000);
    let event = pushed.deals[0].events[0];
    let cited = changes.events.iter().find(|e| e.position == event).unwrap();
    assert_eq!(cited.deal, ids[0]);
    assert_eq!(cited.event_type, "DealCloseDateChanged");
    let bad = app
        .get_json(
            &format!(
                "/api/forecast/changes?from={}&to={at}",
                urlencoding(&now().to_rfc3339())
            ),
            &app.admin,
        )
        .await;
    assert_error(&bad, 400, "forecast.reversed_instants");
    app.stop().await;
}

#[tokio::test]
async fn the_dashboard_counts_moves_deals_and_events_and_says_what_is_not_connected() {
    let app = spawn_app().await;
    app.propose_simple("Call Dana").await;
    q4_fixture(&app).await;
    settle_views(&app).await;
    let dashboard: DashboardResponse = app.get_ok("/api/dashboard", &app.admin).await;
    assert_eq!(dashboard.stats.pending_moves, 1);
    assert_eq!(dashboard.top_moves.len(), 1);
    // Open: Commit 30,000, Best 20,000, Early 10,000, Later 50,000.
    assert_eq!(dashboard.stats.open_deals, 4);
    assert_eq!(dashboard.stats.open_total.minor, 11_000_000);
    // 24,000 + 12,000 + 2,000 + 20,000 (Later at 40%).
    assert_eq!(dashboard.stats.weighted_total.minor, 5_800_000);
    let default = &dashboard.pipelines[0];
    let contract = default
        .stages
        .iter()
        .find(|s| s.stage == "decisionmakerboughtin")
        .unwrap();
    assert_eq!((contract.count, contract.total.minor), (1, 3_000_000));
    let events = caseyos_tests::query_i64(&app.pool, "select count(*) from events").await;
    assert_eq!(dashboard.activity.len() as i64, events.min(20));
    assert!(
        dashboard.activity[0].position > dashboard.activity[1].position,
        "newest first"
    );
    // The fixture's last write is a deal's; the reactors record what came of it (outcomes)
    // and decide the moves proposed before (auto-approval), maybe after it.
    assert!(
        ["deal", "outcome", "auto_approval_decision"]
            .contains(&dashboard.activity[0].aggregate_type.as_str()),
        "{:?}",
        dashboard.activity[0]
    );
    assert!(dashboard.hygiene.is_some());
    let states: Vec<(&str, &str)> = dashboard
        .connectors
        .iter()
        .map(|c| (c.name.as_str(), c.status.as_str()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("gmail", "not_connected"),
            ("google_calendar", "not_connected"),
            ("hubspot", "not_connected"),
            ("llm", "not_connected")
        ]
    );
    let stats: caseyos_domain::api::DashboardStats =
        app.get_ok("/api/dashboard/stats", &app.admin).await;
    assert_eq!(stats, dashboard.stats);
    app.stop().await;
}

/// `raw` with `+` and `:` escaped for a query string.
fn urlencoding(raw: &str) -> String {
    raw.replace('+', "%2B").replace(':', "%3A")
}

/// Runs `agent` on `input` as the admin and waits for it to finish.
async fn run_agent(
    app: &TestApp,
    agent: &str,
    input: Value,
) -> caseyos_domain::agent_run::AgentRunView {
    let run = app.request_run_ok(&app.admin, agent, input).await;
    app.wait_for_run(
        &app.admin,
        run.id,
        std::time::Duration::from_secs(30),
        |r| r.finished_at.is_some(),
    )
    .await
}

#[tokio::test]
async fn the_deal_agents_flag_advise_with_linked_moves_scored_from_the_deal_and_check_the_data() {
    let app = spawn_app().await;
    let big = create(
        &app,
        &app.admin,
        json!({"name": "Initech", "stage": "contractsent", "amount": usd(6_200_000),
               "close_date": (now() + chrono::Duration::days(3)).date_naive()}),
    )
    .await
    .deal;
    let bare = create(&app, &app.admin, json!({"name": "Umbrella"}))
        .await
        .deal;
    app.settle().await;

    let advised = run_agent(&app, "DealAdvisor", json!({"deal_id": big.id})).await;
    assert_eq!(
        advised.status,
        caseyos_domain::agent_run::RunStatus::Succeeded,
        "{advised:#?}"
    );
    let moves = advised.proposed_items.clone();
    assert!((2..=3).contains(&moves.len()), "{moves:?}");
    for id in &moves {
        let item = app.queue_item(id).await;
        let deal = item.target.deal.as_ref().expect("linked to the deal");
        assert_eq!(deal.id.as_str(), big.id.to_string());
        assert_eq!(
            item.aps.inputs.revenue.thousandths(),
            900,
            "the ≥ $50k tier"
        );
        assert_eq!(
            item.aps.inputs.urgency.thousandths(),
            950,
            "closes in 3 days"
        );
        let rationale = item.rationale.clone().unwrap_or_default();
        assert!(
            rationale.contains("from the deal's amount $62,000.00"),
            "{rationale}"
        );
        assert!(rationale.contains("closes in 3 days"), "{rationale}");
    }
    // The deal's page lists them: Today's Moves filtered by the deal.
    let listed: caseyos_domain::api::QueueListResponse = app
        .get_ok(&format!("/api/queue?deal={}", big.id), &app.admin)
        .await;
    let mut listed: Vec<Uuid> = listed.items.iter().map(|m| m.id).collect();
    let mut proposed = moves.clone();
    listed.sort();
    proposed.sort();
    assert_eq!(listed, proposed, "exactly the deal's moves");
    // No amount: revenue is the action type's default, and the reasoning marks it so.
    let advised = run_agent(&app, "DealAdvisor", json!({"deal_id": bare.id})).await;
    let item = app.queue_item(advised.proposed_items[0]).await;
    assert!(
        item.aps.reasoning.contains("Revenue") && item.aps.reasoning.contains("(default for"),
        "{}",
        item.aps.reasoning
    );
    assert!(item.rationale.unwrap_or_default().contains("no amount"));

    let risks = run_agent(&app, "DealRiskAnalyzer", json!({"pipeline": "default"})).await;
    let output = risks.output.expect("a report");
    assert_eq!(output["scanned"], 2);
    assert_eq!(
        output["at_risk"], 2,
        "both single-threaded without a next step: {output}"
    );
    let one = run_agent(&app, "DealRiskAnalyzer", json!({"deal_id": big.id})).await;
    let flags = &one.output.unwrap()["deals"][0]["flags"];
    assert!(
        flags
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "no_next_step"),
        "{flags}"
    );

    let ops = run_agent(&app, "RevenueOps", json!({})).await;
    let output = ops.output.expect("a report");
    assert_eq!(output["open_deals"], 2);
    assert_eq!(output["missing_amount"]["count"], 1);
    assert_eq!(output["missing_close_date"]["count"], 1);
    assert_eq!(output["missing_amount"]["deals"][0]["name"], "Umbrella");

    let missing = run_agent(&app, "DealAdvisor", json!({"deal_id": Uuid::now_v7()})).await;
    assert_eq!(
        missing.error.map(|e| e.code),
        Some("deal.not_found".to_string())
    );
    app.stop().await;
}

#[tokio::test]
async fn the_weekly_digest_is_a_stored_schedule_and_its_run_tells_the_weeks_pipeline() {
    let app = spawn_app().await;
    let schedules: caseyos_domain::api::ScheduleListResponse =
        app.get_ok("/api/schedules", &app.admin).await;
    let digest = schedules
        .items
        .iter()
        .find(|s| s.id == "pipeline-digest-weekly")
        .expect("the digest's default schedule");
    assert_eq!(digest.agent, "PipelineDigest");
    assert_eq!(digest.kind, caseyos_domain::api::ScheduleKind::Weekly);
    assert_eq!(
        (digest.weekday, digest.at.as_deref()),
        (Some(7), Some("20:00"))
    );
    assert_eq!(digest.cadence, "weekly on Sunday at 20:00 (UTC)");
    assert!(digest.next_run_at > now());

    q4_fixture(&app).await;
    settle_views(&app).await;
    let run = run_agent(&app, "PipelineDigest", json!({})).await;
    assert_eq!(
        run.status,
        caseyos_domain::agent_run::RunStatus::Succeeded,
        "{run:#?}"
    );
    let output = run.output.expect("the digest");
    assert_eq!(output["created"]["count"], 6);
    assert_eq!(output["won"]["count"], 1);
    assert_eq!(output["won"]["total"]["minor"], 4_000_000);
    assert_eq!(output["lost"]["count"], 1);
    assert_eq!(output["forecast"]["period"], "2026-Q4");
    assert_eq!(output["forecast"]["closed_won"]["minor"], 4_000_000);
    assert_eq!(output["forecast"]["quota"]["minor"], 10_000_000);
    assert_eq!(output["forecast"]["attainment_basis_points"], 4_000);
    assert_eq!(output["delivery"]["emailed"], false);
    let text = run.text.expect("the digest's text");
    assert!(text.contains("Not emailed"), "{text}");
    assert!(text.contains("**Won: 1 ($40,000.00)**"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn the_digest_totals_amounts_at_the_bound_instead_of_failing() {
    let app = caseyos_tests::spawn_app().await;
    for name in ["Huge one", "Huge two"] {
        let (status, body) = app
            .post_json(
                "/api/deals",
                &app.admin,
                &json!({"name": name, "pipeline": "default", "stage": "qualifiedtobuy",
                        "owner": "admin", "close_date": "2027-03-31",
                        "amount": {"minor": i64::MAX, "currency": "USD"}}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    settle_views(&app).await;
    let run = run_agent(&app, "PipelineDigest", json!({})).await;
    assert_eq!(
        run.status,
        caseyos_domain::agent_run::RunStatus::Succeeded,
        "{run:#?}"
    );
    let output = run.output.expect("the digest");
    assert_eq!(output["created"]["count"], 2, "{output}");
    assert_eq!(output["created"]["total"]["minor"], i64::MAX, "{output}");
    app.stop().await;
}

#[tokio::test]
async fn the_digest_runs_on_sunday_evening_in_the_operators_time_zone() {
    let app = caseyos_tests::spawn_app_with(|c| {
        c.default_timezone = "America/New_York".into();
        c.schedule_time_zone = "Europe/Berlin".into();
    })
    .await;
    let schedules: caseyos_domain::api::ScheduleListResponse =
        app.get_ok("/api/schedules", &app.admin).await;
    let zone = |id: &str| {
        schedules
            .items
            .iter()
            .find(|s| s.id == id)
            .and_then(|s| s.time_zone.clone())
    };
    assert_eq!(
        zone("pipeline-digest-weekly").as_deref(),
        Some("America/New_York")
    );
    assert_eq!(
        zone("duplicate-watcher-daily").as_deref(),
        Some("Europe/Berlin")
    );
    app.stop().await;
}
