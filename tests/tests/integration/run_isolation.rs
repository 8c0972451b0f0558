//! Whose agent runs who sees: operators see and act on the runs they requested only (an
//! other operator's run does not exist for them: 404, as for an unknown id); viewers see
//! every run and act on none; admins see and act on all. Every read of runs is checked —
//! lists, one agent's runs, one run, the quick-stats numbers, the Agents page's recent runs
//! and the run's history — and every command on a run.

use std::collections::BTreeSet;
use std::fmt::Display;

use caseyos_domain::agent_run::{AgentRun, AgentRunCommand, RunError, RunStatus};
use caseyos_domain::api::{
    AgentRunListResponse, AgentRunResponse, AgentRunStatsResponse, AgentsResponse, AuditResponse,
};
use caseyos_domain::kernel::Actor;
use caseyos_store::{now, CommandMeta};
use caseyos_tests::{assert_error, command_bus, expect_dto, spawn_app_with, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

/// Two operators' runs, and who is looking.
struct World {
    app: TestApp,
    olga: String,
    otto: String,
    viewer: String,
    /// Olga's: failed, running, queued (the last of another agent).
    olga_failed: Uuid,
    olga_running: Uuid,
    olga_queued: Uuid,
    /// Otto's: failed, queued.
    otto_failed: Uuid,
    otto_queued: Uuid,
}

/// Does to a run what a worker would: start its first attempt, and fail it when asked.
async fn work(app: &TestApp, id: Uuid, fail: bool) {
    let bus = command_bus(&app.pool, 3);
    let meta = CommandMeta::system("test-worker");
    let start = AgentRunCommand::Start {
        attempt: 1,
        worker: "test-worker".into(),
        at: now(),
    };
    bus.execute::<AgentRun>(id, start, &meta).await.unwrap();
    if fail {
        let failed = AgentRunCommand::Fail {
            attempt: 1,
            error: RunError {
                code: "llm.server_error".into(),
                message: "the provider failed".into(),
            },
            retryable: true,
            usage: Default::default(),
            at: now(),
        };
        bus.execute::<AgentRun>(id, failed, &meta).await.unwrap();
    }
}

/// No workers: runs stay where the test puts them.
async fn world() -> World {
    let app = spawn_app_with(|c| c.agent_workers = 0).await;
    let olga = app.token("olga", "operator").await;
    let otto = app.token("otto", "operator").await;
    let viewer = app.token("vera", "viewer").await;
    let persona = |title: &str| json!({"job_title": title});
    let run = |token: &str, agent: &str, input: Value| {
        let (app, token, agent) = (&app, token.to_string(), agent.to_string());
        async move { app.request_run_ok(&token, &agent, input).await.id }
    };
    let olga_failed = run(&olga, "PersonaRouter", persona("CMO")).await;
    let olga_running = run(&olga, "PersonaRouter", persona("VP Sales")).await;
    let olga_queued = run(
        &olga,
        "ClientHealth",
        json!({"client_name": "Acme", "engagement": 90, "payment": 100}),
    )
    .await;
    let otto_failed = run(&otto, "PersonaRouter", persona("CFO")).await;
    let otto_queued = run(&otto, "PersonaRouter", persona("Head of Growth")).await;
    work(&app, olga_failed, true).await;
    work(&app, olga_running, false).await;
    work(&app, otto_failed, true).await;
    World {
        app,
        olga,
        otto,
        viewer,
        olga_failed,
        olga_running,
        olga_queued,
        otto_failed,
        otto_queued,
    }
}

impl World {
    fn olgas(&self) -> BTreeSet<Uuid> {
        [self.olga_failed, self.olga_running, self.olga_queued].into()
    }

    fn ottos(&self) -> BTreeSet<Uuid> {
        [self.otto_failed, self.otto_queued].into()
    }

    fn everyones(&self) -> BTreeSet<Uuid> {
        self.olgas().union(&self.ottos()).copied().collect()
    }

    /// The ids a list shows `token`.
    async fn listed(&self, path: &str, token: &str) -> BTreeSet<Uuid> {
        let page: AgentRunListResponse = self.app.get_ok(path, token).await;
        page.runs.iter().map(|r| r.id).collect()
    }

    async fn get(&self, path: impl Display, token: &str) -> (u16, Value) {
        self.app.get_json(&path.to_string(), token).await
    }

    async fn command(&self, token: &str, id: Uuid, what: &str) -> (u16, Value) {
        self.app
            .post_json(&format!("/api/agent-runs/{id}/{what}"), token, &json!({}))
            .await
    }

    async fn event_count(&self, id: Uuid) -> usize {
        caseyos_store::event::read_aggregate(&self.app.pool, "agent_run", &id.to_string())
            .await
            .unwrap()
            .len()
    }
}

#[tokio::test]
async fn operators_list_only_the_runs_they_requested_viewers_and_admins_all() {
    let w = world().await;
    let admin = w.app.admin.clone();
    for path in ["/api/agent-runs", "/api/agent-runs?limit=100"] {
        assert_eq!(w.listed(path, &w.olga).await, w.olgas(), "{path} olga");
        assert_eq!(w.listed(path, &w.otto).await, w.ottos(), "{path} otto");
        assert_eq!(
            w.listed(path, &w.viewer).await,
            w.everyones(),
            "{path} viewer"
        );
        assert_eq!(w.listed(path, &admin).await, w.everyones(), "{path} admin");
    }
    // Filters narrow within what one may see, never beyond it.
    let failed = "/api/agent-runs?status=failed";
    assert_eq!(w.listed(failed, &w.olga).await, [w.olga_failed].into());
    assert_eq!(
        w.listed(failed, &w.viewer).await,
        [w.olga_failed, w.otto_failed].into()
    );
    let retries = format!("/api/agent-runs?retry_of={}", w.otto_failed);
    assert!(w.listed(&retries, &w.olga).await.is_empty());

    // One agent's runs.
    let persona = "/api/agents/PersonaRouter/runs";
    assert_eq!(
        w.listed(persona, &w.olga).await,
        [w.olga_failed, w.olga_running].into()
    );
    assert_eq!(w.listed(persona, &w.otto).await, w.ottos());
    let all_persona: BTreeSet<Uuid> = w
        .everyones()
        .into_iter()
        .filter(|id| *id != w.olga_queued)
        .collect();
    assert_eq!(w.listed(persona, &w.viewer).await, all_persona);
    assert_eq!(w.listed(persona, &admin).await, all_persona);
    // Paging through someone's own runs stays within them.
    let first: AgentRunListResponse = w.app.get_ok("/api/agent-runs?limit=2", &w.olga).await;
    let next = format!(
        "/api/agent-runs?limit=2&cursor={}",
        first.next_cursor.expect("a second page")
    );
    let mut paged: BTreeSet<Uuid> = first.runs.iter().map(|r| r.id).collect();
    paged.extend(w.listed(&next, &w.olga).await);
    assert_eq!(paged, w.olgas());
}

#[tokio::test]
async fn the_agents_page_shows_operators_their_own_recent_runs() {
    let w = world().await;
    let recent = |token: String| {
        let app = &w.app;
        async move {
            let agents: AgentsResponse = app.get_ok("/api/agents", &token).await;
            agents
                .agents
                .into_iter()
                .flat_map(|a| a.recent_runs)
                .map(|r| r.id)
                .collect::<BTreeSet<Uuid>>()
        }
    };
    assert_eq!(recent(w.olga.clone()).await, w.olgas());
    assert_eq!(recent(w.otto.clone()).await, w.ottos());
    assert_eq!(recent(w.viewer.clone()).await, w.everyones());
    assert_eq!(recent(w.app.admin.clone()).await, w.everyones());
}

#[tokio::test]
async fn another_operators_run_and_its_history_do_not_exist_for_an_operator() {
    let w = world().await;
    let unknown = Uuid::new_v4();
    // The answer to someone else's run is the answer to a run that does not exist.
    let missing = w.get(format!("/api/agent-runs/{unknown}"), &w.olga).await;
    let refused = w
        .get(format!("/api/agent-runs/{}", w.otto_failed), &w.olga)
        .await;
    assert_error(&missing, 404, "agent_run.not_found");
    assert_error(&refused, 404, "agent_run.not_found");
    assert_eq!(refused.1["error"]["message"], missing.1["error"]["message"]);
    for token in [&w.otto, &w.viewer, &w.app.admin] {
        let (status, body) = w
            .get(format!("/api/agent-runs/{}", w.otto_failed), token)
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, _) = w
        .get(format!("/api/agent-runs/{}", w.olga_failed), &w.olga)
        .await;
    assert_eq!(status, 200);

    // The run's history, likewise.
    let history = |id: Uuid| format!("/api/audit/agent_run/{id}");
    assert_error(
        &w.get(history(unknown), &w.olga).await,
        404,
        "audit.not_found",
    );
    assert_error(
        &w.get(history(w.otto_failed), &w.olga).await,
        404,
        "audit.not_found",
    );
    for token in [&w.otto, &w.viewer, &w.app.admin] {
        let answer = w.get(history(w.otto_failed), token).await;
        let audit: AuditResponse = expect_dto(&answer, 200);
        assert_eq!(audit.total_events, 3, "requested, started, failed");
    }
    let own = w.get(history(w.olga_failed), &w.olga).await;
    assert_eq!(expect_dto::<AuditResponse>(&own, 200).total_events, 3);
}

#[tokio::test]
async fn the_quick_stats_count_an_operators_own_runs_and_everyones_for_the_rest() {
    let w = world().await;
    let stats = |token: String| {
        let app = &w.app;
        async move {
            let s: AgentRunStatsResponse = app.get_ok("/api/agent-runs/stats", &token).await;
            (s.failed, s.queued, s.running)
        }
    };
    // (failed, queued, running)
    assert_eq!(stats(w.olga.clone()).await, (1, 1, 1), "olga");
    assert_eq!(stats(w.otto.clone()).await, (1, 1, 0), "otto");
    assert_eq!(stats(w.viewer.clone()).await, (2, 2, 1), "viewer");
    assert_eq!(stats(w.app.admin.clone()).await, (2, 2, 1), "admin");
}

#[tokio::test]
async fn only_the_requester_or_an_admin_may_retry_cancel_or_dismiss_a_run() {
    let w = world().await;
    // Another operator's run: refused as if it did not exist, and nothing is written.
    for (id, what) in [
        (w.otto_failed, "retry"),
        (w.otto_failed, "dismiss"),
        (w.otto_queued, "cancel"),
    ] {
        let before = w.event_count(id).await;
        assert_error(
            &w.command(&w.olga, id, what).await,
            404,
            "agent_run.not_found",
        );
        // Viewers may act on nothing.
        assert_error(&w.command(&w.viewer, id, what).await, 403, "auth.forbidden");
        assert_eq!(w.event_count(id).await, before, "{what}: nothing written");
    }
    let everyone: AgentRunListResponse = w.app.get_ok("/api/agent-runs", &w.app.admin).await;
    assert_eq!(
        everyone.runs.len(),
        5,
        "no run was added by a refused retry"
    );

    // The requester may.
    let retry = w.command(&w.otto, w.otto_failed, "retry").await;
    let retry = expect_dto::<AgentRunResponse>(&retry, 202).run;
    assert_eq!(retry.retry_of, Some(w.otto_failed));
    assert_eq!(retry.requested_by, Actor::user("otto"));
    let cancelled = w.command(&w.olga, w.olga_queued, "cancel").await;
    assert_eq!(
        expect_dto::<AgentRunResponse>(&cancelled, 200).run.status,
        RunStatus::Cancelled
    );
    // And an admin may act on anyone's.
    let dismissed = w.command(&w.app.admin, w.otto_failed, "dismiss").await;
    assert!(expect_dto::<AgentRunResponse>(&dismissed, 200)
        .run
        .dismissed_at
        .is_some());
    let cancelled = w.command(&w.app.admin, w.otto_queued, "cancel").await;
    assert_eq!(
        expect_dto::<AgentRunResponse>(&cancelled, 200).run.status,
        RunStatus::Cancelled
    );
    // The retry is Otto's: Olga does not see it either.
    assert!(!w
        .listed("/api/agent-runs", &w.olga)
        .await
        .contains(&retry.id));
}
