//! What the component tests share: mounting a component in the test page, a move and a
//! run to show, and a stand-in for the server's answers.

use caseyos_domain::agent_run::{AgentDomain, AgentRunView, LlmUsage, RunStatus, RunTrigger};
use caseyos_domain::kernel::Actor;
use caseyos_domain::queue::aps::{Aps, ApsOverrides};
use caseyos_domain::queue::{ActionType, QueueDomain, QueueItemView, QueueStatus, Source, Target};
use yew::BaseComponent;

/// The app's context before the session is known, for components that read it.
pub fn checking_context() -> crate::infra::app_state::AppContext {
    crate::infra::app_state::AppContext {
        auth: crate::infra::app_state::Auth::Checking,
        set_auth: yew::Callback::noop(),
        live: crate::infra::live::Live::default(),
    }
}

/// Renders `C` with `props` into a fresh element of the page, once its first render is done.
pub async fn mount<C: BaseComponent>(props: C::Properties) -> web_sys::Element {
    crate::components::modal::set_views(crate::views::run);
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<C>::with_root_and_props(root.clone(), props).render();
    // Yew renders (and runs the first effects) in microtasks; a timer's callback runs only
    // after every queued microtask, so one turn of a zero timer means the first render is
    // done — whether or not it rendered anything. Later changes are waited for with `until`.
    gloo_timers::future::sleep(std::time::Duration::ZERO).await;
    root
}

/// Waits until `condition` holds, yielding to the browser between looks; panics naming
/// `what` if it has not held after 10 seconds (a loaded machine renders in milliseconds).
pub async fn until(what: &str, condition: impl Fn() -> bool) {
    let started = js_sys::Date::now();
    while !condition() {
        assert!(
            js_sys::Date::now() - started < 10_000.0,
            "waited 10 s for: {what}"
        );
        gloo_timers::future::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// A pending email move, number `n`, proposed by casey.
pub fn queue_item(n: u128) -> QueueItemView {
    let at = "2026-11-21T12:00:00Z".parse().unwrap();
    QueueItemView {
        id: uuid::Uuid::from_u128(n),
        title: format!("move {n}"),
        action_type: ActionType::SendEmail,
        domain: QueueDomain::Sales,
        status: QueueStatus::Pending,
        owner: "casey".into(),
        target: Target::default(),
        payload: serde_json::json!({}),
        due_by: None,
        expires_at: None,
        snoozed_until: None,
        aps: Aps::for_action(ActionType::SendEmail, &ApsOverrides::default()),
        rationale: None,
        source: Source::Manual,
        draft: None,
        demo: false,
        decision: None,
        proposed_at: at,
        proposed_by: Actor::user("casey"),
        updated_at: at,
        version: 1,
    }
}

/// While it lives, every `fetch` of the page answers `status` with `body` (JSON; `None`
/// for no body, as a 204 has), so a component's real API calls meet a server's answer
/// without a server. Dropping it restores `fetch`.
pub struct FetchAnswers {
    original: wasm_bindgen::JsValue,
}

impl FetchAnswers {
    pub fn install(status: u16, body: Option<&str>) -> FetchAnswers {
        use wasm_bindgen::JsValue;
        let window = web_sys::window().unwrap();
        let original = js_sys::Reflect::get(&window, &"fetch".into()).unwrap();
        let body = body.map_or(JsValue::NULL, JsValue::from);
        let answer = js_sys::Function::new_with_args(
            "status, body",
            "return () => Promise.resolve(new Response(body, \
               {status, headers: {'Content-Type': 'application/json'}}));",
        )
        .call2(&JsValue::NULL, &status.into(), &body)
        .unwrap();
        js_sys::Reflect::set(&window, &"fetch".into(), &answer).unwrap();
        FetchAnswers { original }
    }
}

impl Drop for FetchAnswers {
    fn drop(&mut self) {
        let window = web_sys::window().unwrap();
        js_sys::Reflect::set(&window, &"fetch".into(), &self.original).unwrap();
    }
}

/// A PersonaRouter run in `status`, requested by user `by`.
pub fn agent_run(status: RunStatus, by: &str) -> AgentRunView {
    let at = "2026-11-21T12:00:00Z".parse().unwrap();
    AgentRunView {
        id: uuid::Uuid::from_u128(7),
        agent: "PersonaRouter".into(),
        domain: AgentDomain::Sales,
        status,
        trigger: RunTrigger::Manual,
        requested_by: Actor::user(by),
        requested_at: at,
        input: serde_json::json!({"job_title": "CMO"}),
        output: None,
        text: None,
        error: None,
        retryable: None,
        attempts: vec![],
        max_attempts: 2,
        timeout_ms: 300_000,
        started_at: None,
        finished_at: status.is_finished().then_some(at),
        duration_ms: None,
        usage: LlmUsage::default(),
        proposed_items: vec![],
        retry_of: None,
        retried_by: vec![],
        cancel_reason: None,
        cancelled_by: None,
        dismissed_at: None,
        dismissed_by: None,
        updated_at: at,
        version: 1,
    }
}
