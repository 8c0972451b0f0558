//! The MCP server, end to end with the official SDK's client: over streamable HTTP at
//! `/mcp` and over stdio (`caseyos mcp` as a child process). Its tools are our operations,
//! called with the client's API token: a viewer's approval is refused as in the API.

use caseyos_domain::queue::QueueStatus;
use caseyos_tests::{spawn_app, TestApp};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ReadResourceRequestParams, ResourceContents,
};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};

use crate::support::process::caseyos;

async fn over_http(app: &TestApp, token: &str) -> RunningService<RoleClient, ()> {
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", app.address))
        .auth_header(token.to_string());
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("an MCP session over HTTP")
}

async fn over_stdio(app: &TestApp, token: &str) -> RunningService<RoleClient, ()> {
    let mut command = tokio::process::Command::from(caseyos(None));
    command
        .arg("mcp")
        .env("CASEYOS_URL", &app.address)
        .env("CASEYOS_TOKEN", token);
    let transport = TokioChildProcess::new(command).expect("start caseyos mcp");
    ().serve(transport)
        .await
        .expect("an MCP session over stdio")
}

async fn call(
    client: &RunningService<RoleClient, ()>,
    tool: &str,
    arguments: Value,
) -> CallToolResult {
    let arguments = arguments.as_object().cloned().unwrap();
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
        .await
        .expect("a tool result")
}

fn answer(result: &CallToolResult) -> &Value {
    result
        .structured_content
        .as_ref()
        .expect("structured content")
}

#[tokio::test]
async fn mcp_over_http_needs_a_token_and_acts_as_its_user() {
    let app = spawn_app().await;
    // Without a token, or with a wrong one: refused before the protocol.
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "probe", "version": "1"}}});
    let bare = app
        .client
        .post(format!("{}/mcp", app.address))
        .header("accept", "application/json, text/event-stream")
        .json(&initialize)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);
    assert!(bare.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let wrong = app
        .client
        .post(format!("{}/mcp", app.address))
        .bearer_auth("cos_not_a_token")
        .header("accept", "application/json, text/event-stream")
        .json(&initialize)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let item = app.propose_simple("Call Dana").await.item;
    let client = over_http(&app, &app.admin).await;
    let info = client.peer_info().expect("the server's info");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("caseyos")
    );
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for name in [
        "todays_moves",
        "approve_queue_item",
        "list_deals",
        "get_forecast",
        "run_PricingCalculator",
        "whats_up",
        "list_api_tokens",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    for absent in [
        "sign_in",
        "live_events",
        "export_queue_items",
        "oauth_callback",
    ] {
        assert!(!names.contains(&absent), "{absent} is not a tool");
    }
    let approve = tools
        .iter()
        .find(|t| t.name == "approve_queue_item")
        .unwrap();
    assert_eq!(approve.input_schema["required"], json!(["id"]));
    assert!(approve.input_schema["properties"]["idempotency_key"].is_object());

    let today = call(&client, "todays_moves", json!({})).await;
    assert_ne!(today.is_error, Some(true));
    assert_eq!(answer(&today)["status"], 200);
    assert_eq!(answer(&today)["body"]["items"][0]["title"], "Call Dana");

    let approved = call(
        &client,
        "approve_queue_item",
        json!({"id": item.id, "body": {"note": "via MCP"}, "idempotency_key": "k1"}),
    )
    .await;
    assert_ne!(approved.is_error, Some(true), "{approved:?}");
    assert_eq!(answer(&approved)["body"]["item"]["status"], "approved");
    let again = call(
        &client,
        "approve_queue_item",
        json!({"id": item.id, "body": {"note": "via MCP"}, "idempotency_key": "k1"}),
    )
    .await;
    assert_eq!(
        answer(&again)["status"],
        200,
        "a retry with the same key is the first answer"
    );
    let events = app.events_of(item.id).await;
    let approvals: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "QueueItemApproved")
        .collect();
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].metadata["actor"], "user:admin");

    // A call the API refuses is a tool error carrying the API's answer.
    let missing = call(&client, "get_queue_item", json!({"id": uuid::Uuid::nil()})).await;
    assert_eq!(missing.is_error, Some(true));
    assert_eq!(answer(&missing)["status"], 404);
    let malformed = call(&client, "get_queue_item", json!({})).await;
    assert_eq!(malformed.is_error, Some(true));
    assert_eq!(answer(&malformed)["error"], "`id` is required");

    let resources = client.list_all_resources().await.unwrap();
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(uris, vec!["caseyos://todays-moves", "caseyos://dashboard"]);
    let read = client
        .read_resource(ReadResourceRequestParams::new("caseyos://dashboard"))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("text contents");
    };
    let dashboard: Value = serde_json::from_str(text).unwrap();
    assert!(dashboard["stats"].is_object(), "{dashboard}");
    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn mcp_over_stdio_calls_the_running_caseyos_and_a_viewers_approval_is_refused() {
    let app = spawn_app().await;
    let item = app.propose_simple("Call Dana").await.item;
    let viewer = app.token("vera", "viewer").await;

    let client = over_stdio(&app, &viewer).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "approve_queue_item"));
    let listed = call(&client, "list_queue_items", json!({"owner": "*"})).await;
    assert_eq!(answer(&listed)["body"]["items"][0]["id"], json!(item.id));
    let refused = call(&client, "approve_queue_item", json!({"id": item.id})).await;
    assert_eq!(refused.is_error, Some(true), "{refused:?}");
    assert_eq!(answer(&refused)["status"], 403);
    assert_eq!(app.queue_item(item.id).await.status, QueueStatus::Pending);
    client.cancel().await.unwrap();

    // As an admin, the same tool approves.
    let client = over_stdio(&app, &app.admin).await;
    let approved = call(&client, "approve_queue_item", json!({"id": item.id})).await;
    assert_ne!(approved.is_error, Some(true), "{approved:?}");
    assert_eq!(app.queue_item(item.id).await.status, QueueStatus::Approved);
    client.cancel().await.unwrap();

    // Without a token it does not start, and says why.
    let out = caseyos(None)
        .arg("mcp")
        .env("CASEYOS_URL", &app.address)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CASEYOS_TOKEN"));
    app.stop().await;
}
