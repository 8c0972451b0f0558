//! The assistant's tools, generated from our own OpenAPI document: each is one operation
//! (its `operationId` the tool's name, its summary the description, its path and query
//! parameters and request body one JSON schema), called through `http::dispatch` as the
//! person in the chat. An operation other than GET changes state: it waits for a
//! confirmation.

use axum::http::Method;
use serde_json::{json, Map, Value};

/// The operations the chat offers besides one run operation per agent (`run_<Agent>`).
pub const CHAT_OPERATIONS: &[&str] = &[
    "todays_moves",
    "list_queue_items",
    "get_queue_item",
    "propose_queue_item",
    "approve_queue_item",
    "reject_queue_item",
    "snooze_queue_item",
    "list_contacts",
    "get_contact",
    "list_deals",
    "get_deal",
    "list_agents",
    "list_agent_runs",
    "get_agent_run",
    "whats_up",
    "get_forecast",
    "dashboard_stats",
];

/// How deep `$ref`s are followed into a schema (deeper ones become `{}`: any value).
const MAX_DEPTH: usize = 8;

/// One operation as a tool.
#[derive(Clone, Debug, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: String,
    pub method: Method,
    /// The path template: `/api/queue/{id}/approve`.
    pub path: String,
    pub path_params: Vec<String>,
    pub query_params: Vec<String>,
    pub has_body: bool,
    /// The arguments' JSON schema: the parameters by name, the body as `body`.
    pub parameters: Value,
}

impl Tool {
    /// Whether calling it changes state (it waits for a confirmation).
    pub fn changes_state(&self) -> bool {
        self.method != Method::GET
    }

    /// As OpenAI's `tools` entry.
    pub fn as_function(&self) -> Value {
        json!({
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            }
        })
    }

    /// The request `arguments` make: method, path with query, body.
    pub fn request(&self, arguments: &Value) -> Result<(Method, String, Option<Value>), String> {
        let args = arguments
            .as_object()
            .ok_or("the arguments must be a JSON object")?;
        let mut path = self.path.clone();
        for name in &self.path_params {
            let value = args
                .get(name)
                .and_then(scalar)
                .ok_or_else(|| format!("`{name}` is required"))?;
            path = path.replace(&format!("{{{name}}}"), &encode(&value));
        }
        let query: Vec<String> = self
            .query_params
            .iter()
            .filter_map(|name| {
                let value = args.get(name).filter(|v| !v.is_null())?;
                Some(format!("{}={}", encode(name), encode(&scalar(value)?)))
            })
            .collect();
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        let body = self
            .has_body
            .then(|| args.get("body").cloned().unwrap_or_else(|| json!({})));
        Ok((self.method.clone(), path, body))
    }
}

/// A parameter's value as text (strings as they are, numbers and booleans written out).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The tools of `operations` (and, with `agents`, every `run_<Agent>` operation), by path.
pub fn catalogue(document: &Value, operations: &[&str], agents: bool) -> Vec<Tool> {
    catalogue_where(document, |id, _, _| {
        operations.contains(&id) || (agents && id.starts_with("run_"))
    })
}

/// Every public operation that takes and answers JSON, by path: all but the webhooks,
/// sign-in, the live stream, the OAuth callback and the file exports and imports.
pub fn public_catalogue(document: &Value) -> Vec<Tool> {
    catalogue_where(document, |_, path, operation| {
        let json_only = |pointer: &str| {
            operation
                .pointer(pointer)
                .and_then(Value::as_object)
                .is_none_or(|content| content.keys().all(|k| k == "application/json"))
        };
        let answers_json = operation
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(status, _)| status.starts_with('2'))
            .all(|(_, r)| {
                r.get("content")
                    .and_then(Value::as_object)
                    .is_none_or(|c| c.contains_key("application/json"))
            });
        !(path.starts_with("/api/webhooks/")
            || path.starts_with("/api/session")
            || path == "/api/events"
            || path == "/api/connectors/oauth/callback")
            && json_only("/requestBody/content")
            && answers_json
    })
}

/// The tools of the operations `wanted(operation id, path, operation)` picks, by path.
pub fn catalogue_where(document: &Value, wanted: impl Fn(&str, &str, &Value) -> bool) -> Vec<Tool> {
    let components = document
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut tools = Vec::new();
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return tools;
    };
    for (path, item) in paths {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue;
            };
            let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            if !wanted(id, path, operation) {
                continue;
            }
            tools.push(tool(id, method, path, operation, &components));
        }
    }
    tools
}

fn tool(id: &str, method: Method, path: &str, operation: &Value, components: &Value) -> Tool {
    let mut properties = Map::new();
    let mut required = Vec::new();
    let (mut path_params, mut query_params) = (Vec::new(), Vec::new());
    for parameter in operation
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(place)) = (
            parameter.get("name").and_then(Value::as_str),
            parameter.get("in").and_then(Value::as_str),
        ) else {
            continue;
        };
        // Headers (the idempotency key) and the read-your-writes knobs are ours to set.
        if place == "header" || matches!(name, "after" | "consistency" | "as_of") {
            continue;
        }
        let mut schema = resolve(parameter.get("schema").unwrap_or(&json!({})), components, 0);
        if let (Some(text), Some(obj)) = (
            parameter.get("description").and_then(Value::as_str),
            schema.as_object_mut(),
        ) {
            obj.entry("description").or_insert_with(|| text.into());
        }
        properties.insert(name.to_string(), schema);
        if place == "path" {
            path_params.push(name.to_string());
            required.push(json!(name));
        } else if place == "query" {
            query_params.push(name.to_string());
            if parameter.get("required") == Some(&json!(true)) {
                required.push(json!(name));
            }
        }
    }
    let body = operation.pointer("/requestBody/content/application~1json/schema");
    if let Some(schema) = body {
        properties.insert("body".into(), resolve(schema, components, 0));
        if operation.pointer("/requestBody/required") == Some(&json!(true)) {
            required.push(json!("body"));
        }
    }
    let summary = operation
        .get("summary")
        .or_else(|| operation.get("description"))
        .and_then(Value::as_str)
        .unwrap_or(id);
    Tool {
        name: id.to_string(),
        description: format!("{summary} ({} {path})", method.as_str()),
        method,
        path: path.to_string(),
        path_params,
        query_params,
        has_body: body.is_some(),
        parameters: json!({
            "type": "object",
            "properties": properties,
            "required": required,
        }),
    }
}

/// `schema` with its `$ref`s replaced by what they name, and examples left out.
fn resolve(schema: &Value, components: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return json!({});
    }
    match schema {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                let name = reference.rsplit('/').next().unwrap_or_default();
                return match components.get(name) {
                    Some(target) => resolve(target, components, depth + 1),
                    None => json!({}),
                };
            }
            Value::Object(
                map.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "example" | "examples"))
                    .map(|(k, v)| (k.clone(), resolve(v, components, depth + 1)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve(v, components, depth + 1))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        json!({
            "paths": {
                "/api/queue/{id}/approve": {"post": {
                    "operationId": "approve_queue_item",
                    "summary": "Approve a move",
                    "parameters": [
                        {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                        {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}
                    ],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}}}
                }},
                "/api/queue": {"get": {
                    "operationId": "list_queue_items",
                    "summary": "List moves",
                    "parameters": [
                        {"name": "status", "in": "query", "description": "Only these", "schema": {"type": "string"}},
                        {"name": "consistency", "in": "query", "schema": {"type": "string"}}
                    ]
                }},
                "/api/agents/PricingCalculator/runs": {"post": {"operationId": "run_PricingCalculator", "summary": "Run it"}},
                "/api/tokens": {"get": {"operationId": "list_api_tokens"}}
            },
            "components": {"schemas": {"Decision": {"type": "object", "properties": {"note": {"type": "string", "example": "ok"}}}}}
        })
    }

    #[test]
    fn tools_come_from_the_operations_with_their_parameters_and_body() {
        let tools = catalogue(
            &document(),
            &["approve_queue_item", "list_queue_items"],
            true,
        );
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "run_PricingCalculator",
                "list_queue_items",
                "approve_queue_item"
            ]
        );
        let approve = &tools[2];
        assert!(approve.changes_state());
        assert_eq!(
            approve.parameters,
            json!({"type": "object", "properties": {
                "id": {"type": "string"},
                "body": {"type": "object", "properties": {"note": {"type": "string"}}}
            }, "required": ["id", "body"]})
        );
        assert_eq!(
            approve.as_function()["function"]["description"],
            "Approve a move (POST /api/queue/{id}/approve)"
        );
        let list = &tools[1];
        assert!(!list.changes_state());
        assert_eq!(
            list.parameters["properties"],
            json!({"status": {"type": "string", "description": "Only these"}})
        );
    }

    #[test]
    fn arguments_make_the_request() {
        let tools = catalogue(
            &document(),
            &["approve_queue_item", "list_queue_items"],
            false,
        );
        let (list, approve) = (&tools[0], &tools[1]);
        let (method, path, body) = approve
            .request(&json!({"id": "a b/c", "body": {"note": "yes"}}))
            .unwrap();
        assert_eq!(method, Method::POST);
        assert_eq!(path, "/api/queue/a%20b%2Fc/approve");
        assert_eq!(body, Some(json!({"note": "yes"})));
        assert_eq!(approve.request(&json!({})).unwrap_err(), "`id` is required");
        assert!(approve.request(&json!([1])).is_err());
        let (_, path, body) = list.request(&json!({"status": "pending"})).unwrap();
        assert_eq!((path.as_str(), body), ("/api/queue?status=pending", None));
    }
}
