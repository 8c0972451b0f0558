//! The assistant's chat: slash commands without a model, tool calling against a fake
//! OpenAI-compatible server that checks the tools and messages we send, confirmations, a
//! viewer who cannot approve, summaries that keep references resolvable, streaming.

use caseyos_domain::api::ChatSessionResponse;
use caseyos_domain::chat::{ChatRole, ChatSessionView, ToolCallState};
use caseyos_domain::kernel::sse::take_event;
use caseyos_domain::queue::QueueStatus;
use caseyos_tests::{dto, spawn_app, spawn_app_with, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The model's answer `message` as the request asked: one completion, or (asked to
/// `stream`) OpenAI's chunks — the text a few characters at a time, each tool call's
/// arguments in two pieces, the usage last.
pub fn completion(request: &Request, message: Value) -> ResponseTemplate {
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    if body["stream"] == true {
        let chunk = |delta: Value| {
            json!({"object": "chat.completion.chunk", "model": "fake-model-1",
                   "choices": [{"index": 0, "delta": delta}]})
        };
        let mut chunks = vec![chunk(json!({"role": "assistant"}))];
        let text: Vec<char> = message["content"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .collect();
        for piece in text.chunks(4) {
            chunks.push(chunk(json!({"content": piece.iter().collect::<String>()})));
        }
        for (index, call) in message["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let arguments = call["function"]["arguments"].as_str().unwrap();
            let (first, rest) = arguments.split_at(arguments.len() / 2);
            chunks.push(chunk(
                json!({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                "function": {"name": call["function"]["name"], "arguments": first}}]}),
            ));
            chunks.push(chunk(
                json!({"tool_calls": [{"index": index, "function": {"arguments": rest}}]}),
            ));
        }
        chunks.push(
            json!({"object": "chat.completion.chunk", "model": "fake-model-1", "choices": [],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}),
        );
        let mut stream: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
        stream.push_str("data: [DONE]\n\n");
        return ResponseTemplate::new(200).set_body_raw(stream, "text/event-stream");
    }
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "fake-model-1",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    }))
}

fn says(text: &str) -> Value {
    json!({"role": "assistant", "content": text})
}

fn calls(id: &str, name: &str, arguments: Value) -> Value {
    json!({"role": "assistant", "content": null, "tool_calls": [
        {"id": id, "type": "function", "function": {"name": name, "arguments": arguments.to_string()}}
    ]})
}

/// The request's messages.
fn messages(request: &Request) -> Vec<Value> {
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    body["messages"].as_array().cloned().unwrap_or_default()
}

/// A fake model: summarises when asked to; after a tool's answer, says what it read; asked
/// for the top move, reads Today's Moves; asked to approve it, calls `approve_queue_item`
/// with the id it read. It streams when asked to.
fn model(request: &Request) -> ResponseTemplate {
    completion(request, answer(request))
}

/// What the fake model answers `request`: its message.
fn answer(request: &Request) -> Value {
    let messages = messages(request);
    let system = messages[0]["content"].as_str().unwrap_or_default();
    if system.starts_with("Summarise") {
        return says("Casey asked about Acme Corp (acme.io): revenue $12M in 2025.");
    }
    let last = messages.last().cloned().unwrap_or_default();
    if last["role"] == "tool" {
        let answer: Value =
            serde_json::from_str(last["content"].as_str().unwrap()).unwrap_or_default();
        return match answer["body"]["items"][0]["title"].as_str() {
            Some(title) => says(&format!("Your top move: {title}.")),
            None => says(&format!("Done (HTTP {}).", answer["status"])),
        };
    }
    let asked = last["content"].as_str().unwrap_or_default();
    if asked.contains("top move") {
        return calls(
            "call_top",
            "todays_moves",
            json!({"limit": 5, "owner": "*"}),
        );
    }
    if asked.contains("approve it") {
        let read = messages
            .iter()
            .filter(|m| m["role"] == "tool")
            .find_map(|m| {
                let v: Value = serde_json::from_str(m["content"].as_str()?).ok()?;
                v["body"]["items"][0]["id"].as_str().map(str::to_string)
            })
            .expect("the move read before");
        return calls(
            "call_approve",
            "approve_queue_item",
            json!({"id": read, "body": {"note": "from the chat"}}),
        );
    }
    says("Noted.")
}

async fn fake_model() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(model)
        .mount(&server)
        .await;
    server
}

async fn app_with_model(server: &MockServer, window: u32) -> TestApp {
    let url = format!("{}/v1", server.uri());
    spawn_app_with(move |c| {
        c.llm_base_url = Some(url);
        c.llm_api_key = Some("test-key".into());
        c.llm_model = "fake-model-1".into();
        c.llm_max_retries = 0;
        c.llm_context_tokens = window;
    })
    .await
}

async fn start(app: &TestApp, token: &str) -> uuid::Uuid {
    let (status, body) = app.post_json("/api/chat/sessions", token, &json!({})).await;
    assert_eq!(status, 201, "{body}");
    dto::<ChatSessionResponse>(&body).session.id
}

async fn say(app: &TestApp, token: &str, chat: uuid::Uuid, content: &str) -> ChatSessionView {
    let (status, body) = app
        .post_json(
            &format!("/api/chat/sessions/{chat}/messages"),
            token,
            &json!({ "content": content }),
        )
        .await;
    assert_eq!(status, 200, "{content}: {body}");
    dto::<ChatSessionResponse>(&body).session
}

fn last_answer(session: &ChatSessionView) -> &caseyos_domain::chat::ChatMessageView {
    let m = session.messages.last().unwrap();
    assert_eq!(m.role, ChatRole::Assistant);
    m
}

#[tokio::test]
async fn without_a_model_the_chat_says_so_and_slash_commands_still_work() {
    let app = spawn_app().await;
    let first = app.propose_simple("Call Dana about the renewal").await.item;
    let second = app.propose_simple("Send Bo the case study").await.item;
    let chat = start(&app, &app.admin).await;

    let session = say(&app, &app.admin, chat, "What's Acme's revenue?").await;
    assert_eq!(session.title, "What's Acme's revenue?");
    // The configured model (the default, gpt-4o-mini) has a tokenizer: the question is
    // counted with it, as is the answer.
    let question = &session.messages[0];
    assert_eq!(
        (question.tokens, question.tokens_method.clone()),
        caseyos_backend::api::chat::tokens::count("gpt-4o-mini", "What's Acme's revenue?")
    );
    assert_eq!(question.tokens_method, "tiktoken:o200k_base");
    let answer = last_answer(&session);
    assert_eq!(answer.tokens_method, "tiktoken:o200k_base");
    assert!(answer.offline);
    assert!(
        answer
            .content
            .starts_with("No language model is configured"),
        "{}",
        answer.content
    );

    let session = say(&app, &app.admin, chat, "/today").await;
    let listed = last_answer(&session);
    assert!(
        listed.content.contains("1. Call Dana about the renewal")
            || listed.content.contains("1. Send Bo the case study"),
        "{}",
        listed.content
    );
    let top = listed.tool_calls[0].result.as_ref().unwrap()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = if top == first.id.to_string() {
        second.id
    } else {
        first.id
    };

    let session = say(&app, &app.admin, chat, "/approve 1").await;
    let approved = last_answer(&session);
    assert!(
        approved.content.starts_with("Approved: "),
        "{}",
        approved.content
    );
    let call = &approved.tool_calls[0];
    assert_eq!(
        (call.tool.as_str(), call.state, call.status),
        ("approve_queue_item", ToolCallState::Succeeded, Some(200))
    );
    assert_eq!(
        call.request.as_deref(),
        Some(format!("POST /api/queue/{top}/approve").as_str())
    );
    assert_eq!(app.queue_item(&top).await.status, QueueStatus::Approved);
    // The approval is the person's own, correlated with their chat message.
    let approval = app
        .events_of(&top)
        .await
        .into_iter()
        .find(|e| e.event_type == "QueueItemApproved")
        .unwrap();
    assert_eq!(
        approval.metadata["actor"], "user:admin",
        "{:?}",
        approval.metadata
    );
    let said = app
        .events_of_type("chat_session", chat)
        .await
        .into_iter()
        .rev()
        .find(|e| e.event_type == "ChatMessageAdded")
        .unwrap();
    assert_eq!(
        approval.metadata["correlation_id"], said.metadata["correlation_id"],
        "one request's work"
    );

    let session = say(&app, &app.admin, chat, "/reject 2").await;
    assert_eq!(
        last_answer(&session).content,
        "`/reject N reason`: say why."
    );
    let session = say(&app, &app.admin, chat, "/reject 2 not this week").await;
    assert!(last_answer(&session).content.starts_with("Rejected: "));
    assert_eq!(app.queue_item(other).await.status, QueueStatus::Rejected);

    let session = say(
        &app,
        &app.admin,
        chat,
        r#"/run PricingCalculator {"services": [{"service": "strategy", "hours": 10}]}"#,
    )
    .await;
    let run = last_answer(&session);
    assert!(
        run.content
            .starts_with("Started a run of PricingCalculator"),
        "{}",
        run.content
    );
    assert_eq!(
        (run.tool_calls[0].state, run.tool_calls[0].status),
        (ToolCallState::Succeeded, Some(202))
    );
    let session = say(&app, &app.admin, chat, "/help").await;
    assert!(last_answer(&session).content.starts_with("Slash commands:"));

    // The export tells the whole story.
    let response = app
        .get(
            &format!("/api/chat/sessions/{chat}/export?format=md"),
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
    let text = response.text().await.unwrap();
    assert!(text.starts_with("# What's Acme's revenue?\n"), "{text}");
    assert!(text.contains(&format!("`approve_queue_item` POST /api/queue/{top}/approve — succeeded, HTTP 200, decided by admin")), "{text}");
    let (status, _) = app
        .get_json(
            &format!("/api/chat/sessions/{chat}/export?format=pdf"),
            &app.admin,
        )
        .await;
    assert_eq!(status, 400);

    // Listed for its owner only; another user is told it does not exist.
    let olive = app.token("olive", "operator").await;
    let (_, list) = app.get_json("/api/chat/sessions", &app.admin).await;
    assert_eq!(list["items"][0]["id"], json!(chat));
    let (_, theirs) = app.get_json("/api/chat/sessions", &olive).await;
    assert_eq!(theirs["items"], json!([]));
    let (status, body) = app
        .get_json(&format!("/api/chat/sessions/{chat}"), &olive)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("chat.not_found"))
    );
    let (status, _) = app
        .post_json(
            &format!("/api/chat/sessions/{chat}/messages"),
            &olive,
            &json!({"content": "/today"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, body) = app
        .post_json(
            &format!("/api/chat/sessions/{chat}/messages"),
            &app.admin,
            &json!({"content": "  "}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("request.validation"))
    );

    // Deleted: gone from the list and the reads, kept in the audit history.
    let status = app
        .request(
            Method::DELETE,
            &format!("/api/chat/sessions/{chat}"),
            Some(&app.admin),
        )
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 204);
    let (status, _) = app
        .get_json(&format!("/api/chat/sessions/{chat}"), &app.admin)
        .await;
    assert_eq!(status, 404);
    let (status, audit) = app
        .get_json(&format!("/api/audit/chat_session/{chat}"), &app.admin)
        .await;
    assert_eq!(status, 200, "{audit}");
    app.stop().await;
}

#[tokio::test]
async fn a_viewers_chat_cannot_approve() {
    let app = spawn_app().await;
    let item = app.propose_simple("Call Dana").await.item;
    let viewer = app.token("vera", "viewer").await;
    let chat = start(&app, &viewer).await;
    let session = say(&app, &viewer, chat, "/today").await;
    assert_eq!(
        last_answer(&session).content,
        "Nothing is waiting in Today's Moves."
    );
    let session = say(&app, &viewer, chat, "/today all").await;
    assert!(last_answer(&session).content.contains("1. Call Dana"));
    let session = say(&app, &viewer, chat, "/approve 1").await;
    let refused = last_answer(&session);
    assert!(
        refused.content.starts_with("Could not approve Call Dana:"),
        "{}",
        refused.content
    );
    let call = &refused.tool_calls[0];
    assert_eq!(
        (call.state, call.status),
        (ToolCallState::Failed, Some(403))
    );
    assert_eq!(app.queue_item(item.id).await.status, QueueStatus::Pending);
    app.stop().await;
}

#[tokio::test]
async fn the_model_reads_with_tools_at_once_and_approves_only_after_a_confirmation() {
    let server = fake_model().await;
    let app = app_with_model(&server, 128_000).await;
    let item = app.propose_simple("Call Dana about the renewal").await.item;
    let chat = start(&app, &app.admin).await;

    let session = say(&app, &app.admin, chat, "What is my top move today?").await;
    // The model read Today's Moves (at once: it only reads) and answered from it.
    let read = &session.messages[1];
    assert_eq!(read.tool_calls[0].tool, "todays_moves");
    assert_eq!(read.tool_calls[0].state, ToolCallState::Succeeded);
    let request = read.tool_calls[0].request.as_deref().unwrap();
    assert!(request.starts_with("GET /api/queue/today?"), "{request}");
    assert!(
        request.contains("owner=%2A") && request.contains("limit=5"),
        "{request}"
    );
    assert_eq!(
        last_answer(&session).content,
        "Your top move: Call Dana about the renewal."
    );
    assert_eq!(last_answer(&session).tokens_method, "provider");

    // What we sent: our own operations as tools, and the tool's answer quoted back.
    let requests = server.received_requests().await.unwrap();
    let first: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(requests[0].headers["authorization"], "Bearer test-key");
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    for name in [
        "todays_moves",
        "approve_queue_item",
        "reject_queue_item",
        "propose_queue_item",
        "list_contacts",
        "list_deals",
        "list_agent_runs",
        "run_PricingCalculator",
    ] {
        assert!(tools.contains(&name), "{name} in {tools:?}");
    }
    assert!(
        !tools.contains(&"create_api_token"),
        "only the chat's operations"
    );
    let approve = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["function"]["name"] == "approve_queue_item")
        .unwrap();
    assert_eq!(approve["function"]["parameters"]["required"], json!(["id"]));
    let second = messages(&requests[1]);
    assert_eq!(second[0]["role"], "system");
    assert_eq!(
        second[1],
        json!({"role": "user", "content": "What is my top move today?"})
    );
    assert_eq!(second[2]["tool_calls"][0]["id"], "call_top");
    assert_eq!(second[3]["role"], "tool");
    assert_eq!(second[3]["tool_call_id"], "call_top");
    assert!(second[3]["content"]
        .as_str()
        .unwrap()
        .contains("Call Dana about the renewal"));

    // Approving waits for the person.
    let session = say(&app, &app.admin, chat, "Yes, approve it").await;
    let asked = last_answer(&session);
    let call = &asked.tool_calls[0];
    assert_eq!(
        (call.tool.as_str(), call.state),
        ("approve_queue_item", ToolCallState::AwaitingConfirmation)
    );
    assert_eq!(
        call.request.as_deref(),
        Some(format!("POST /api/queue/{}/approve", item.id).as_str())
    );
    assert_eq!(
        asked.content,
        "This needs your confirmation before it runs."
    );
    assert_eq!(
        app.queue_item(item.id).await.status,
        QueueStatus::Pending,
        "not before the confirmation"
    );
    let (_, list) = app
        .get_json("/api/chat/sessions?consistency=strong", &app.admin)
        .await;
    assert_eq!(list["items"][0]["awaiting"], 1);

    let confirm = format!("/api/chat/sessions/{chat}/tool-calls/call_approve/confirm");
    let (status, body) = app.post_json(&confirm, &app.admin, &json!({})).await;
    assert_eq!(status, 200, "{body}");
    let session = dto::<ChatSessionResponse>(&body).session;
    let (_, call) = session.tool_call("call_approve").unwrap();
    assert_eq!(
        (call.state, call.status),
        (ToolCallState::Succeeded, Some(200))
    );
    assert_eq!(
        call.decided_by.as_ref().map(|a| a.id.as_str()),
        Some("admin")
    );
    assert_eq!(last_answer(&session).content, "Done (HTTP 200).");
    let approved = app.queue_item(item.id).await;
    assert_eq!(approved.status, QueueStatus::Approved);
    // Confirming again runs nothing twice; rejecting now is refused.
    let (status, _) = app.post_json(&confirm, &app.admin, &json!({})).await;
    assert_eq!(status, 200);
    let approvals = app
        .events_of(item.id)
        .await
        .into_iter()
        .filter(|e| e.event_type == "QueueItemApproved")
        .count();
    assert_eq!(approvals, 1);
    let (status, body) = app
        .post_json(
            &format!("/api/chat/sessions/{chat}/tool-calls/call_approve/reject"),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("chat.tool_call_decided"))
    );
    let (status, _) = app
        .post_json(
            &format!("/api/chat/sessions/{chat}/tool-calls/nope/confirm"),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_viewer_is_offered_no_tool_that_changes_state_and_a_rejected_call_never_runs() {
    let server = fake_model().await;
    let app = app_with_model(&server, 128_000).await;
    let item = app.propose_simple("Call Dana").await.item;
    let viewer = app.token("vera", "viewer").await;
    let chat = start(&app, &viewer).await;
    say(&app, &viewer, chat, "What is my top move today?").await;
    let session = say(&app, &viewer, chat, "approve it").await;
    let (_, call) = session.tool_call("call_approve").unwrap();
    // The model heard why, and said so.
    assert_eq!(last_answer(&session).content, "Done (HTTP null).");
    // Not offered to a viewer: the call fails without reaching the API.
    assert_eq!(
        (call.state, call.request.as_deref()),
        (ToolCallState::Failed, None)
    );
    let requests = server.received_requests().await.unwrap();
    let offered: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let names: Vec<&str> = offered["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"todays_moves") && !names.contains(&"approve_queue_item"),
        "{names:?}"
    );
    assert_eq!(app.queue_item(item.id).await.status, QueueStatus::Pending);

    // An operator rejects what the model asked: it never runs.
    let chat = start(&app, &app.admin).await;
    say(&app, &app.admin, chat, "What is my top move today?").await;
    say(&app, &app.admin, chat, "approve it").await;
    let (status, body) = app
        .post_json(
            &format!("/api/chat/sessions/{chat}/tool-calls/call_approve/reject"),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let session = dto::<ChatSessionResponse>(&body).session;
    assert_eq!(
        session.tool_call("call_approve").unwrap().1.state,
        ToolCallState::Rejected
    );
    let (status, _) = app
        .post_json(
            &format!("/api/chat/sessions/{chat}/tool-calls/call_approve/confirm"),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(app.queue_item(item.id).await.status, QueueStatus::Pending);
    app.stop().await;
}

#[tokio::test]
async fn a_long_conversation_is_summarised_and_the_model_can_still_resolve_their() {
    let server = fake_model().await;
    // A 1,024-token window: the summary comes after about 768 tokens of history.
    let app = app_with_model(&server, 1_024).await;
    let chat = start(&app, &app.admin).await;
    say(
        &app,
        &app.admin,
        chat,
        "What's Acme's revenue? Acme Corp, acme.io, the one we met in Lisbon.",
    )
    .await;
    let filler = "Some notes on the pipeline review. ".repeat(20);
    for n in 0..6 {
        say(&app, &app.admin, chat, &format!("Note {n}: {filler}")).await;
    }
    let session = say(&app, &app.admin, chat, "And their employee count?").await;
    let summary = session.summary.clone().expect("a summary");
    assert!(summary.text.contains("Acme Corp"), "{summary:?}");
    assert_eq!(summary.model.as_deref(), Some("fake-model-1"));

    // The question went to the model with the summary naming Acme, and the last five
    // messages as they were.
    let requests = server.received_requests().await.unwrap();
    let last = messages(requests.last().unwrap());
    assert!(
        last[1]["content"]
            .as_str()
            .unwrap()
            .starts_with("The conversation so far, summarised: Casey asked about Acme Corp"),
        "{:?}",
        last[1]
    );
    assert_eq!(last.last().unwrap()["content"], "And their employee count?");
    let verbatim: Vec<&Value> = last
        .iter()
        .filter(|m| m["role"] == "user" || m["role"] == "assistant")
        .collect();
    assert!(verbatim.len() >= 5, "{last:#?}");
    let kept: Vec<&str> = session
        .unsummarised()
        .iter()
        .map(|m| m.content.as_str())
        .collect();
    let sent: Vec<&str> = verbatim
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        sent,
        kept[..kept.len() - 1],
        "what follows the summary, as it was"
    );
    assert!(
        !sent.iter().any(|m| m.contains("Lisbon")),
        "the first question is in the summary only"
    );
    // The summarising request asked to keep what pronouns refer to.
    let asked = requests
        .iter()
        .map(messages)
        .find(|m| m[0]["content"].as_str().unwrap().starts_with("Summarise"))
        .unwrap();
    assert!(asked[0]["content"].as_str().unwrap().contains("\"their\""));
    assert!(asked[1]["content"]
        .as_str()
        .unwrap()
        .contains("What's Acme's revenue?"));
    app.stop().await;
}

#[tokio::test]
async fn an_answer_streams_as_server_sent_events() {
    let server = fake_model().await;
    let app = app_with_model(&server, 128_000).await;
    app.propose_simple("Call Dana").await;
    let chat = start(&app, &app.admin).await;
    let response = app
        .post(
            &format!("/api/chat/sessions/{chat}/messages"),
            &app.admin,
            &json!({"content": "What is my top move today?"}),
        )
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    let mut bytes = text.clone().into_bytes();
    let events: Vec<(String, Value)> = std::iter::from_fn(|| take_event(&mut bytes, &mut 0))
        .map(|e| (e.event, serde_json::from_str(&e.data).unwrap()))
        .collect();
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    // The question; the model's read of Today's Moves (its tool call put together from the
    // streamed pieces); the answer's text piece by piece as the model wrote it, then whole.
    let pieces = "Your top move: Call Dana.".chars().count().div_ceil(4);
    let mut expected = vec!["message", "message"];
    expected.extend(std::iter::repeat_n("delta", pieces));
    expected.extend(["message", "done"]);
    assert_eq!(names, expected, "{text}");
    assert_eq!(
        events[1].1["tool_calls"][0]["tool"], "todays_moves",
        "{text}"
    );
    assert_eq!(events[1].1["tool_calls"][0]["state"], "succeeded", "{text}");
    let streamed: String = events
        .iter()
        .filter(|(name, _)| name == "delta")
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(streamed, "Your top move: Call Dana.");
    let whole = &events[events.len() - 2].1;
    assert_eq!(whole["content"], "Your top move: Call Dana.");
    assert_eq!(
        (whole["tokens"].as_u64(), whole["tokens_method"].as_str()),
        (Some(20), Some("provider"))
    );
    // What we asked: a stream, with the usage.
    let sent = server.received_requests().await.unwrap();
    let first: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(first["stream"], true);
    assert_eq!(first["stream_options"], json!({"include_usage": true}));
    app.stop().await;
}

#[tokio::test]
async fn a_stated_preference_is_stored_shown_editable_and_given_to_the_model() {
    let server = fake_model().await;
    let app = app_with_model(&server, 128_000).await;
    let chat = start(&app, &app.admin).await;
    say(
        &app,
        &app.admin,
        chat,
        "I prefer bullet points, and always CET please",
    )
    .await;
    let (status, prefs) = app.get_json("/api/chat/preferences", &app.admin).await;
    assert_eq!(status, 200, "{prefs}");
    let items: Vec<(String, String)> = prefs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["key"].as_str().unwrap().into(),
                p["value"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        items,
        vec![
            ("format".into(), "bullet points".into()),
            ("timezone".into(), "CET".into())
        ]
    );
    assert!(prefs["items"][0]["stated_in"].is_string(), "{prefs}");
    // Edited by hand, removed, and the next question carries what is left.
    let set = app
        .request(
            reqwest::Method::PUT,
            "/api/chat/preferences/length",
            Some(&app.admin),
        )
        .json(&json!({"value": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let set: Value = set.json().await.unwrap();
    assert_eq!(set["items"][1]["key"], "length");
    assert_eq!(set["items"][1]["stated_in"], Value::Null, "set by hand");
    let removed = app
        .request(
            reqwest::Method::DELETE,
            "/api/chat/preferences/timezone",
            Some(&app.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 200);
    let missing = app
        .request(
            reqwest::Method::DELETE,
            "/api/chat/preferences/timezone",
            Some(&app.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    say(&app, &app.admin, chat, "What is my top move today?").await;
    let requests = server.received_requests().await.unwrap();
    let last = messages(requests.last().unwrap());
    assert_eq!(
        last[1]["content"],
        "admin's preferences for every answer: format: bullet points; length: short."
    );
    // Another user's are their own.
    let olive = app.token("olive", "operator").await;
    let (_, theirs) = app.get_json("/api/chat/preferences", &olive).await;
    assert_eq!(theirs["items"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn without_a_model_a_stated_preference_is_still_noted() {
    let app = spawn_app().await;
    let chat = start(&app, &app.admin).await;
    let session = say(&app, &app.admin, chat, "Keep it short.").await;
    assert!(
        last_answer(&session)
            .content
            .starts_with("Noted your preference: length = short"),
        "{}",
        last_answer(&session).content
    );
    app.stop().await;
}
