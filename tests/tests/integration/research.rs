//! Deep research: a question answered from CaseyOS's own data by full-text search and from
//! the web through the search provider (a local fake of Tavily that checks what we send),
//! the report's every `[n]` resolving to a source, progress as events, history, export and
//! delete; offline without a model or a provider, and saying so.

use std::time::Duration;

use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::research::{
    citations, ResearchSession, ResearchSessionView, ResearchStage, ResearchStatus, SourceKind,
    WebUse,
};
use caseyos_tests::{assert_error, dto, spawn_app, spawn_app_with, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn seed(app: &TestApp) -> (String, String) {
    let (status, contact) = app
        .post_json(
            "/api/contacts",
            &app.admin,
            &json!({"first_name": "Dana", "last_name": "Whitfield",
                    "emails": ["dana@northwind.example"], "job_title": "VP of Sales",
                    "company_name": "Northwind Logistics"}),
        )
        .await;
    assert_eq!(status, 201, "{contact}");
    let (status, deal) = app
        .post_json(
            "/api/deals",
            &app.admin,
            &json!({"name": "Northwind renewal", "pipeline": "default",
                    "stage": "qualifiedtobuy", "owner": "admin", "close_date": "2027-03-31",
                    "amount": {"minor": 4_800_000, "currency": "USD"}}),
        )
        .await;
    assert_eq!(status, 201, "{deal}");
    // Something that must not be found: another company's deal.
    let (status, _) = app
        .post_json(
            "/api/deals",
            &app.admin,
            &json!({"name": "Globex expansion", "pipeline": "default",
                    "stage": "qualifiedtobuy", "owner": "admin", "close_date": "2027-03-31"}),
        )
        .await;
    assert_eq!(status, 201);
    (
        contact["contact"]["id"].as_str().unwrap().to_string(),
        deal["deal"]["id"].as_str().unwrap().to_string(),
    )
}

async fn ask(app: &TestApp, token: &str, body: Value) -> ResearchSessionView {
    let (status, answer) = app.post_json("/api/research", token, &body).await;
    assert_eq!(status, 202, "{answer}");
    dto(&answer)
}

/// Waits until the research has ended.
async fn ended(app: &TestApp, id: Uuid) -> ResearchSessionView {
    for _ in 0..600 {
        let (status, body) = app
            .get_json(&format!("/api/research/{id}"), &app.admin)
            .await;
        assert_eq!(status, 200, "{body}");
        let research: ResearchSessionView = dto(&body);
        if research.status != ResearchStatus::Running {
            return research;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("research {id} did not end");
}

/// Every citation of every section resolves to a listed source, and every section cites.
fn assert_citations_resolve(research: &ResearchSessionView) {
    let report = research.report.as_ref().expect("a report");
    let numbers: Vec<u32> = report.sources.iter().map(|s| s.n).collect();
    assert_eq!(
        numbers,
        (1..=report.sources.len() as u32).collect::<Vec<_>>()
    );
    assert!(!report.sections.is_empty());
    for section in &report.sections {
        let cited = citations(&section.body);
        assert!(!cited.is_empty(), "{section:?}");
        for n in cited {
            assert!(
                numbers.contains(&n),
                "[{n}] resolves to nothing: {section:?}"
            );
        }
    }
}

#[tokio::test]
async fn offline_research_cites_caseyos_records_says_it_used_internal_sources_only_and_is_kept() {
    let app = spawn_app().await;
    let (contact, deal) = seed(&app).await;
    let asked = ask(
        &app,
        &app.admin,
        json!({"question": "What do we know about Northwind?"}),
    )
    .await;
    assert_eq!(asked.status, ResearchStatus::Running);
    assert_eq!(asked.run_id, asked.id);

    let research = ended(&app, asked.id).await;
    assert_eq!(research.status, ResearchStatus::Completed, "{research:#?}");
    assert_citations_resolve(&research);
    let report = research.report.as_ref().unwrap();
    assert_eq!(report.web, WebUse::NotConfigured);
    assert_eq!(
        (report.writer.as_str(), report.model.as_deref()),
        ("offline", None)
    );
    let links: Vec<&str> = report.sources.iter().map(|s| s.link.as_str()).collect();
    assert!(
        links.contains(&format!("/contacts/{contact}").as_str()),
        "{links:?}"
    );
    assert!(
        links.contains(&format!("/deals/{deal}").as_str()),
        "{links:?}"
    );
    assert!(
        report.sources.iter().all(|s| !s.title.contains("Globex")),
        "{links:?}"
    );
    let contact_source = report
        .sources
        .iter()
        .find(|s| s.record_type.as_deref() == Some("contact"))
        .unwrap();
    assert_eq!(contact_source.kind, SourceKind::Internal);
    assert_eq!(contact_source.title, "Dana Whitfield");
    assert!(
        contact_source.snippet.contains("Northwind"),
        "{contact_source:?}"
    );
    // A passage to read: no ids, no instants.
    let words = contact_source.snippet.split_whitespace();
    assert!(
        !contact_source.snippet.contains(&contact)
            && !words
                .into_iter()
                .any(|w| chrono::DateTime::parse_from_rfc3339(w).is_ok()),
        "{contact_source:?}"
    );

    // Its steps, as events.
    let stages: Vec<(ResearchStage, &str)> = research
        .progress
        .iter()
        .map(|p| (p.stage, p.detail.as_str()))
        .collect();
    assert_eq!(stages[0].0, ResearchStage::InternalSearch, "{stages:?}");
    assert!(stages.contains(&(
        ResearchStage::WebSearch,
        "no web search provider configured: internal sources only"
    )));
    assert_eq!(
        stages.last().unwrap().0,
        ResearchStage::Synthesis,
        "{stages:?}"
    );
    let events: Vec<String> = app
        .events_of_type(ResearchSession::TYPE, asked.id)
        .await
        .iter()
        .map(|e| e.event_type.clone())
        .collect();
    assert_eq!(events.first().map(String::as_str), Some("ResearchBegun"));
    assert_eq!(events.last().map(String::as_str), Some("ResearchCompleted"));
    // The run is tracked like any other.
    let run = app.agent_run(&app.admin, asked.id).await;
    assert_eq!(run.agent, "StandardResearch");

    // The report as Markdown beside it, for clients that show it as it is.
    let (_, raw) = app
        .get_json(&format!("/api/research/{}", asked.id), &app.admin)
        .await;
    let markdown = raw["report_markdown"]
        .as_str()
        .expect("the report as Markdown");
    assert!(markdown.contains("## Sources"), "{markdown}");
    assert!(markdown.contains(&format!("(/deals/{deal})")), "{markdown}");

    // History, reload without a rerun, export.
    let (_, list) = app.get_json("/api/research", &app.admin).await;
    assert_eq!(list["items"][0]["id"], asked.id.to_string());
    assert_eq!(list["items"][0]["source_count"], report.sources.len());
    let again = ended(&app, asked.id).await;
    assert_eq!(again, research, "reading it again changes nothing");
    let response = app
        .get(
            &format!("/api/research/{}/export?format=md", asked.id),
            &app.admin,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/markdown"));
    let md = response.text().await.unwrap();
    assert!(md.contains("## Sources"), "{md}");
    assert!(
        md.contains(&format!("[Dana Whitfield](/contacts/{contact})")),
        "{md}"
    );
    assert!(md.contains("internal sources only"), "{md}");

    // Others cannot read it; a viewer cannot ask; a bad question is refused.
    let other = app.token("sam", "operator").await;
    let answer = app
        .get_json(&format!("/api/research/{}", asked.id), &other)
        .await;
    assert_error(&answer, 404, "research.not_found");
    let viewer = app.token("val", "viewer").await;
    let answer = app
        .post_json("/api/research", &viewer, &json!({"question": "Northwind?"}))
        .await;
    assert_eq!(answer.0, 403, "{}", answer.1);
    let answer = app
        .post_json("/api/research", &app.admin, &json!({"question": "  "}))
        .await;
    assert_error(&answer, 422, "request.validation");

    // Deleted: gone from the history and from reads.
    let response = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/research/{}", asked.id),
            Some(&app.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let answer = app
        .get_json(&format!("/api/research/{}", asked.id), &app.admin)
        .await;
    assert_error(&answer, 404, "research.not_found");
    let (_, list) = app.get_json("/api/research", &app.admin).await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"] != asked.id.to_string()),
        "{list}"
    );
}

/// The request's messages.
fn messages(request: &Request) -> Vec<Value> {
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    body["messages"].as_array().cloned().unwrap_or_default()
}

fn says(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-r", "object": "chat.completion", "model": "fake-model-1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 300, "completion_tokens": 80, "total_tokens": 380}
    }))
}

/// A fake model: plans two narrower queries; writes a report citing the deal and the web
/// page by the numbers it was given, plus an uncited sentence and one citing a source
/// that does not exist (both must be dropped).
fn model(request: &Request) -> ResponseTemplate {
    let messages = messages(request);
    let system = messages[0]["content"].as_str().unwrap_or_default();
    let user = messages[1]["content"].as_str().unwrap_or_default();
    if system.starts_with("You plan research") {
        return says("Northwind renewal terms\n- Northwind funding news");
    }
    let number_of = |title: &str| {
        user.lines()
            .find_map(|l| {
                let (n, rest) = l.strip_prefix('[')?.split_once("] ")?;
                rest.starts_with(title).then(|| n.to_string())
            })
            .unwrap_or_else(|| panic!("no source titled {title} in {user}"))
    };
    let deal = number_of("Northwind renewal");
    let web = number_of("Northwind raises Series C");
    says(&format!(
        "# Northwind at a glance\n\n## Pipeline\nThe Northwind renewal is open and qualified \
         to buy [{deal}]. It is surely our biggest deal this year.\n\n## News\nNorthwind \
         raised a Series C this autumn [{web}]. Analysts expect an IPO [99].\n\n## Gossip\n\
         Nobody cites this."
    ))
}

#[tokio::test]
async fn deep_research_searches_the_web_and_keeps_only_what_its_sources_say() {
    let llm = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(model)
        .mount(&llm)
        .await;
    let tavily = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/search"))
        .and(header("authorization", "Bearer tvly-test-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "query": "northwind",
            "results": [
                {"title": "Northwind raises Series C", "url": "https://news.example/northwind-c",
                 "content": "Northwind Logistics raised $60M in a Series C led by Example Ventures.",
                 "score": 0.92},
                {"title": "Not a page", "url": "ftp://files.example/x", "content": "x", "score": 0.1}
            ],
            "response_time": 0.4
        })))
        .mount(&tavily)
        .await;
    let (llm_url, tavily_url) = (format!("{}/v1", llm.uri()), tavily.uri());
    let app = spawn_app_with(move |c| {
        c.llm_base_url = Some(llm_url);
        c.llm_api_key = Some("test-key".into());
        c.llm_model = "fake-model-1".into();
        c.llm_max_retries = 0;
        c.web_search_api_key = Some("tvly-test-key".into());
        c.web_search_base_url = tavily_url;
    })
    .await;
    let (_, deal) = seed(&app).await;
    let asked = ask(
        &app,
        &app.admin,
        json!({"question": "What do we know about Northwind?", "depth": "deep"}),
    )
    .await;
    let research = ended(&app, asked.id).await;
    assert_eq!(research.status, ResearchStatus::Completed, "{research:#?}");
    assert_citations_resolve(&research);
    let report = research.report.as_ref().unwrap();
    assert_eq!(report.web, WebUse::Used);
    assert_eq!(report.writer, "llm");
    assert_eq!(report.model.as_deref(), Some("fake-model-1"));
    assert_eq!(report.title, "Northwind at a glance");
    assert_eq!(
        report.queries,
        [
            "What do we know about Northwind?",
            "Northwind renewal terms",
            "Northwind funding news"
        ]
    );
    let bodies: Vec<(&str, &str)> = report
        .sections
        .iter()
        .map(|s| (s.heading.as_str(), s.body.as_str()))
        .collect();
    assert_eq!(
        bodies.len(),
        2,
        "the uncited section is dropped: {bodies:?}"
    );
    assert_eq!(bodies[0].0, "Pipeline");
    assert!(
        !bodies[0].1.contains("surely"),
        "an uncited claim: {bodies:?}"
    );
    assert!(
        !bodies[1].1.contains("IPO"),
        "a claim citing nothing real: {bodies:?}"
    );
    let web = report
        .sources
        .iter()
        .find(|s| s.kind == SourceKind::Web)
        .expect("a web source");
    assert_eq!(web.link, "https://news.example/northwind-c");
    assert!(web.snippet.contains("$60M"));
    assert!(report.sources.iter().all(|s| !s.link.starts_with("ftp:")));
    assert!(report
        .sources
        .iter()
        .any(|s| s.link == format!("/deals/{deal}")));

    // What we sent the provider: each query, bounded, with the key as a bearer token.
    let searches = tavily.received_requests().await.unwrap();
    let queries: Vec<String> = searches
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(body["max_results"], 4);
            assert_eq!(body["search_depth"], "basic");
            body["query"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(queries, report.queries);
    let run = app.agent_run(&app.admin, asked.id).await;
    assert_eq!(run.agent, "DeepResearch");
    assert!(run.usage.total_tokens > 0, "{:?}", run.usage);
}

#[tokio::test]
async fn a_refused_web_search_leaves_an_internal_report_that_says_so() {
    let tavily = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/search"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"detail": "bad key"})))
        .mount(&tavily)
        .await;
    let url = tavily.uri();
    let app = spawn_app_with(move |c| {
        c.web_search_api_key = Some("tvly-wrong".into());
        c.web_search_base_url = url;
    })
    .await;
    seed(&app).await;
    let asked = ask(&app, &app.admin, json!({"question": "Northwind renewal"})).await;
    let research = ended(&app, asked.id).await;
    assert_eq!(research.status, ResearchStatus::Completed, "{research:#?}");
    assert_citations_resolve(&research);
    let report = research.report.as_ref().unwrap();
    assert_eq!(report.web, WebUse::Failed);
    assert!(report
        .sources
        .iter()
        .all(|s| s.kind == SourceKind::Internal));
    let failed_step = research
        .progress
        .iter()
        .find(|p| p.stage == ResearchStage::WebSearch)
        .unwrap();
    assert!(
        failed_step.detail.contains("tavily.unauthorized"),
        "{failed_step:?}"
    );
}
