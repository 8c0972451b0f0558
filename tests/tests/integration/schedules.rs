//! Stored agent schedules: a due schedule fires exactly once however many instances look
//! (ticks racing, and two servers on one database), a downtime is caught up by one run for
//! the latest slot, a crash between the request and the row's update never makes a second
//! run, disabled schedules and unknown agents never fire, and `GET /api/schedules` shows
//! each schedule with its next slot and its last run's status.
//!
//! The agent here is the test's own, added beside the registry through `Agents::with`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use caseyos_agents::{AgentFuture, Agents, Ctx, ExtraAgent, Outcome};
use caseyos_backend::commands::agent_runs::request_run_with_id;
use caseyos_backend::workers::schedules::{run_id_of, Fired, Scheduler, DEFAULTS};
use caseyos_backend::Config;
use caseyos_domain::agent_run::{AgentRun, AgentRunEvent, RunStatus, RunTrigger};
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::api::{ScheduleListResponse, ScheduleView};
use caseyos_domain::kernel::{Actor, ActorKind};
use caseyos_domain::schedule::Cadence;
use caseyos_store::CommandMeta;
use caseyos_tests::{command_bus, dto, spawn_app_with_agents, test_config, Instance, TestApp};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

/// How long a test waits for something to happen before failing (a hang guard).
const GUARD: Duration = Duration::from_secs(60);

fn ticker<'a>(_input: &'a Value, _ctx: &'a Ctx<'a>) -> AgentFuture<'a> {
    Box::pin(async move {
        Ok(Outcome {
            output: json!({"ticked": true}),
            ..Outcome::default()
        })
    })
}

fn test_agents() -> Agents {
    Agents::registry().with(ExtraAgent::new(
        "Ticker",
        "Succeeds at once (a test agent).",
        ticker,
    ))
}

/// An app whose own scheduler is off (the test ticks by hand) and whose workers run
/// `workers` runs at once.
async fn app(workers: usize) -> TestApp {
    spawn_app_with_agents(test_agents(), |c| c.agent_workers = workers).await
}

/// A scheduler as an instance builds it, on `pool`.
fn new_scheduler(pool: &PgPool, agents: Agents) -> Scheduler {
    let mut config = test_config("postgres://unused");
    config.schedules_enabled = true;
    Scheduler::new(
        pool.clone(),
        Arc::new(command_bus(pool, 16)),
        Arc::new(config),
        agents,
    )
}

/// Stores an `every secs` schedule of `agent`, due at `due`.
async fn insert_every(
    pool: &PgPool,
    id: &str,
    agent: &str,
    input: Value,
    secs: i32,
    due: DateTime<Utc>,
    enabled: bool,
) {
    sqlx::query(
        "insert into schedules (id, agent, input, kind, every_secs, enabled, next_due_at) \
         values ($1, $2, $3, 'every', $4, $5, $6)",
    )
    .bind(id)
    .bind(agent)
    .bind(input)
    .bind(secs)
    .bind(enabled)
    .bind(due)
    .execute(pool)
    .await
    .expect("insert a schedule");
}

/// The runs requested in the log whose input's `schedule` is `tag`: (run id, trigger,
/// requester).
async fn requested_runs(pool: &PgPool, tag: &str) -> Vec<(uuid::Uuid, RunTrigger, Actor)> {
    let payloads: Vec<Value> = sqlx::query_scalar(
        "select payload from events \
         where aggregate_type = $1 and event_type = 'AgentRunRequested' \
         order by global_position",
    )
    .bind(<AgentRun as Aggregate>::TYPE)
    .fetch_all(pool)
    .await
    .expect("read the events");
    payloads
        .into_iter()
        .filter_map(|payload| match serde_json::from_value(payload) {
            Ok(AgentRunEvent::AgentRunRequested(e)) if e.input["schedule"] == tag => {
                Some((e.run_id, e.trigger, e.requested_by))
            }
            _ => None,
        })
        .collect()
}

async fn next_due_at(pool: &PgPool, id: &str) -> DateTime<Utc> {
    sqlx::query_scalar("select next_due_at from schedules where id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("the schedule")
}

async fn schedules_page(app: &TestApp) -> (Value, ScheduleListResponse) {
    let (status, body) = app.get_json("/api/schedules", &app.admin).await;
    assert_eq!(status, 200, "{body}");
    let page = dto(&body);
    (body, page)
}

fn item<'a>(page: &'a ScheduleListResponse, id: &str) -> &'a ScheduleView {
    page.items
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("schedule {id} is listed: {page:#?}"))
}

#[tokio::test]
async fn eight_ticks_racing_over_a_due_schedule_fire_it_exactly_once() {
    let app = app(0).await;
    let now = caseyos_store::now();
    insert_every(
        &app.pool,
        "race",
        "Ticker",
        json!({"schedule": "race"}),
        3600,
        now - chrono::Duration::seconds(1),
        true,
    )
    .await;
    // Eight instances' schedulers, each with its own bus, looking at the same instant.
    let schedulers: Vec<Scheduler> = (0..8)
        .map(|_| new_scheduler(&app.pool, test_agents()))
        .collect();
    let ticks = schedulers.iter().map(|s| s.tick(now));
    let fired: Vec<Fired> = futures::future::join_all(ticks)
        .await
        .into_iter()
        .flat_map(|result| result.expect("a tick"))
        .collect();

    assert_eq!(fired.len(), 1, "{fired:?}");
    let runs = requested_runs(&app.pool, "race").await;
    assert_eq!(runs.len(), 1, "one AgentRunRequested: {runs:?}");
    let (run_id, trigger, by) = &runs[0];
    assert_eq!(*run_id, fired[0].run_id);
    assert_eq!(*run_id, run_id_of("race", fired[0].slot));
    assert_eq!(*trigger, RunTrigger::Schedule);
    assert_eq!(*by, Actor::system("scheduler"));
    assert!(next_due_at(&app.pool, "race").await > now);
}

#[tokio::test]
async fn two_servers_with_schedules_on_fire_a_due_schedule_once() {
    let app = app(0).await;
    // An hourly schedule's next slot is the top of the hour: start well clear of it, so the
    // test sees one slot (CI once ran it just before 05:00 and saw the 05:00 slot fire too).
    let to_the_hour = 3600 - caseyos_store::now().timestamp().rem_euclid(3600);
    if to_the_hour < 120 {
        tokio::time::sleep(Duration::from_secs(to_the_hour.unsigned_abs() + 1)).await;
    }
    let now = caseyos_store::now();
    insert_every(
        &app.pool,
        "two-servers",
        "Ticker",
        json!({"schedule": "two-servers"}),
        3600,
        now - chrono::Duration::seconds(1),
        true,
    )
    .await;
    // Due a little later: once it has fired, both servers have looked at the first
    // schedule after it was due.
    insert_every(
        &app.pool,
        "later",
        "Ticker",
        json!({"schedule": "later"}),
        3600,
        now + chrono::Duration::seconds(2),
        true,
    )
    .await;
    let on = |config: &mut Config| {
        config.schedules_enabled = true;
        config.agent_workers = 0;
    };
    let mut first = test_config(&app.database_url);
    on(&mut first);
    let mut second = test_config(&app.database_url);
    on(&mut second);
    let one = Instance::start_with_agents(first, app.pool.clone(), test_agents()).await;
    let two = Instance::start_with_agents(second, app.pool.clone(), test_agents()).await;

    let started = Instant::now();
    while requested_runs(&app.pool, "later").await.is_empty() {
        assert!(started.elapsed() < GUARD, "the later schedule never fired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And one more look by each after that.
    tokio::time::sleep(caseyos_backend::workers::schedules::TICK).await;
    one.stop().await;
    two.stop().await;

    let runs = requested_runs(&app.pool, "two-servers").await;
    assert_eq!(runs.len(), 1, "one run for the slot: {runs:?}");
    assert_eq!(requested_runs(&app.pool, "later").await.len(), 1);
}

#[tokio::test]
async fn after_a_downtime_one_run_fires_for_the_latest_slot_and_the_next_is_in_the_future() {
    let app = app(0).await;
    let now = caseyos_store::now();
    let cadence = Cadence::every(300).unwrap();
    let latest = cadence.slot_at_or_before(now);
    // Three slots came while nothing ran: latest - 10 min, latest - 5 min, latest.
    let due = latest - chrono::Duration::seconds(600);
    insert_every(
        &app.pool,
        "downtime",
        "Ticker",
        json!({"schedule": "downtime"}),
        300,
        due,
        true,
    )
    .await;
    let scheduler = new_scheduler(&app.pool, test_agents());

    let fired = scheduler.tick(now).await.expect("a tick");
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(
        fired[0].slot, latest,
        "the latest slot, not the first missed"
    );
    assert_eq!(fired[0].slots_due, 3);
    assert!(!fired[0].existed);
    let next = next_due_at(&app.pool, "downtime").await;
    assert!(next > now, "{next} is after {now}");
    assert_eq!(next, cadence.next_after(now));
    // Looking again at the same instant fires nothing.
    assert!(scheduler.tick(now).await.expect("a tick").is_empty());
    assert_eq!(requested_runs(&app.pool, "downtime").await.len(), 1);

    app.settle().await;
    let (_, page) = schedules_page(&app).await;
    let last = item(&page, "downtime")
        .last_run
        .clone()
        .expect("a last run");
    assert_eq!(last.run_id, fired[0].run_id);
    assert_eq!(last.slot_at, latest);
    assert_eq!(last.missed_slots, 2);
}

#[tokio::test]
async fn a_crash_after_the_request_and_before_the_update_never_makes_a_second_run() {
    let app = app(0).await;
    let now = caseyos_store::now();
    let due = Cadence::every(3600).unwrap().slot_at_or_before(now);
    insert_every(
        &app.pool,
        "crash",
        "Ticker",
        json!({"schedule": "crash"}),
        3600,
        due,
        true,
    )
    .await;
    // The run of the slot was requested, then the instance died before the row moved on.
    let agents = test_agents();
    let spec = agents.find("Ticker").expect("the test agent");
    request_run_with_id(
        &command_bus(&app.pool, 16),
        &test_config(&app.database_url),
        run_id_of("crash", due),
        spec,
        json!({"schedule": "crash"}),
        RunTrigger::Schedule,
        None,
        Actor::system("scheduler"),
        &CommandMeta::system("scheduler"),
    )
    .await
    .expect("the first request");

    let fired = new_scheduler(&app.pool, test_agents())
        .tick(now)
        .await
        .expect("a tick");
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert!(fired[0].existed, "the run was there already: {fired:?}");
    assert_eq!(fired[0].run_id, run_id_of("crash", due));
    assert_eq!(requested_runs(&app.pool, "crash").await.len(), 1);
    assert!(next_due_at(&app.pool, "crash").await > now);
}

#[tokio::test]
async fn disabled_schedules_and_schedules_of_unknown_agents_never_fire() {
    let app = app(0).await;
    let now = caseyos_store::now();
    let past = Cadence::every(300).unwrap().slot_at_or_before(now) - chrono::Duration::hours(2);
    insert_every(
        &app.pool,
        "disabled",
        "Ticker",
        json!({"schedule": "disabled"}),
        300,
        past,
        false,
    )
    .await;
    insert_every(
        &app.pool,
        "unknown",
        "Vanished",
        json!({"schedule": "unknown"}),
        300,
        past,
        true,
    )
    .await;
    let scheduler = new_scheduler(&app.pool, test_agents());
    for _ in 0..3 {
        let fired = scheduler.tick(now).await.expect("a tick");
        assert!(
            fired
                .iter()
                .all(|f| f.schedule != "disabled" && f.schedule != "unknown"),
            "{fired:?}"
        );
    }
    assert!(requested_runs(&app.pool, "disabled").await.is_empty());
    assert!(requested_runs(&app.pool, "unknown").await.is_empty());
    // The unknown agent's schedule stays due, and says why.
    assert_eq!(next_due_at(&app.pool, "unknown").await, past);
    let (_, page) = schedules_page(&app).await;
    assert!(item(&page, "unknown").agent_missing);
    assert!(!item(&page, "disabled").agent_missing);
    assert!(!item(&page, "disabled").enabled);

    // An instance that has the agent fires it, once, for the latest slot.
    fn vanished<'a>(_input: &'a Value, _ctx: &'a Ctx<'a>) -> AgentFuture<'a> {
        Box::pin(async { Ok(Outcome::default()) })
    }
    let newer = test_agents().with(ExtraAgent::new("Vanished", "Back again.", vanished));
    let fired = new_scheduler(&app.pool, newer)
        .tick(now)
        .await
        .expect("a tick");
    let unknown: Vec<&Fired> = fired.iter().filter(|f| f.schedule == "unknown").collect();
    assert_eq!(unknown.len(), 1, "{fired:?}");
    assert_eq!(
        unknown[0].slots_due, 25,
        "two hours of 5-minute slots, and now's"
    );
    assert_eq!(requested_runs(&app.pool, "unknown").await.len(), 1);
}

#[tokio::test]
async fn the_schedules_list_shows_the_defaults_and_each_last_runs_status() {
    let started = caseyos_store::now();
    let app = app(1).await;
    let now = caseyos_store::now();
    insert_every(
        &app.pool,
        "listed",
        "Ticker",
        json!({"schedule": "listed"}),
        300,
        now - chrono::Duration::seconds(1),
        true,
    )
    .await;
    let (body, page) = schedules_page(&app).await;
    assert_eq!(page.total, DEFAULTS.len() as i64 + 1);
    assert_eq!(page.next_cursor, None);
    assert!(!page.scheduler_enabled, "the test harness keeps it off");
    for default in DEFAULTS {
        let listed = item(&page, default.id);
        assert_eq!(listed.agent, default.agent);
        assert_eq!(listed.input, json!({}));
        assert!(listed.enabled);
        assert!(listed.next_run_at > started, "{listed:?}");
        assert_eq!(listed.last_run, None);
        assert_eq!(
            listed.agent_missing,
            caseyos_agents::find(default.agent).is_none(),
            "{listed:?}"
        );
    }
    let watcher = item(&page, "duplicate-watcher-daily");
    assert_eq!(watcher.cadence, "daily at 06:00 (UTC)");
    assert_eq!(watcher.at.as_deref(), Some("06:00"));
    assert_eq!(watcher.time_zone.as_deref(), Some("UTC"));
    assert_eq!(item(&page, "sync-health-5m").every_secs, Some(300));
    assert_eq!(item(&page, "sync-health-5m").cadence, "every 5 minutes");
    assert_eq!(item(&page, "enrichment-hourly").minute, Some(0));
    // The wire shape, field by field.
    let listed = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "listed")
        .unwrap();
    let mut keys: Vec<&str> = listed
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "agent",
            "agent_missing",
            "at",
            "cadence",
            "enabled",
            "every_secs",
            "id",
            "input",
            "kind",
            "last_run",
            "minute",
            "next_run_at",
            "time_zone",
            "weekday"
        ]
    );
    assert_eq!(listed["kind"], "every");
    assert_eq!(listed["last_run"], Value::Null);

    // It fires, the run is executed like any other, and the list shows how it ended.
    let fired = new_scheduler(&app.pool, test_agents())
        .tick(caseyos_store::now())
        .await
        .expect("a tick");
    let run_id = fired
        .iter()
        .find(|f| f.schedule == "listed")
        .expect("the listed schedule fired")
        .run_id;
    let run = app
        .wait_for_run(&app.admin, run_id, GUARD, |run| run.status.is_finished())
        .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    assert_eq!(run.trigger, RunTrigger::Schedule);
    assert_eq!(run.requested_by.kind, ActorKind::System);
    let (body, page) = schedules_page(&app).await;
    let last = item(&page, "listed").last_run.clone().expect("a last run");
    assert_eq!(last.run_id, run_id);
    assert_eq!(last.status, Some(RunStatus::Succeeded));
    assert_eq!(last.missed_slots, 0);
    let last_json = &body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "listed")
        .unwrap()["last_run"];
    let mut keys: Vec<&str> = last_json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "missed_slots",
            "requested_at",
            "run_id",
            "slot_at",
            "status"
        ]
    );

    // Viewers read the list too.
    let viewer = app.token("vera", "viewer").await;
    let (status, _) = app.get_json("/api/schedules", &viewer).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn default_daily_schedules_follow_the_configured_time_zone() {
    let started = caseyos_store::now();
    let app = spawn_app_with_agents(test_agents(), |c| {
        c.schedule_time_zone = "America/New_York".into();
    })
    .await;
    // The next slot is 06:00 New York time, within a day.
    let is_next_slot = |view: &ScheduleView, zone: &str| {
        let cadence = Cadence::daily("06:00", zone).unwrap();
        let next = view.next_run_at;
        cadence.slot_at_or_before(next) == next
            && next > started
            && next <= caseyos_store::now() + chrono::Duration::days(1)
    };
    let (_, page) = schedules_page(&app).await;
    let watcher = item(&page, "duplicate-watcher-daily");
    assert_eq!(watcher.time_zone.as_deref(), Some("America/New_York"));
    assert_eq!(watcher.cadence, "daily at 06:00 (America/New_York)");
    assert!(is_next_slot(watcher, "America/New_York"), "{watcher:?}");

    // A restart with another zone moves the defaults that are not yet due to it.
    let mut config = test_config(&app.database_url);
    config.schedule_time_zone = "Europe/Berlin".into();
    let again = Instance::start_with_agents(config, app.pool.clone(), test_agents()).await;
    let (_, page) = schedules_page(&app).await;
    let watcher = item(&page, "duplicate-watcher-daily");
    assert_eq!(watcher.time_zone.as_deref(), Some("Europe/Berlin"));
    assert!(is_next_slot(watcher, "Europe/Berlin"), "{watcher:?}");
    again.stop().await;
}
