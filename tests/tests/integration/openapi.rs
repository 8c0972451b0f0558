//! The OpenAPI document agrees with the server: shared error responses where an operation
//! can answer them, one run operation per agent whose example the server accepts, and links
//! that name real operations. (`.ci/fuzz` checks the rest with schemathesis.)

use std::collections::BTreeSet;

use caseyos_tests::spawn_app;
use serde_json::Value;

#[tokio::test]
async fn every_operation_documents_the_errors_it_can_answer() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/openapi.json", &app.admin).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let statuses: BTreeSet<&str> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let has_params = op["parameters"].as_array().is_some_and(|p| !p.is_empty());
            let has_body = op.get("requestBody").is_some();
            let secured = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
            });
            let mut wanted = Vec::new();
            if has_params || has_body {
                wanted.push("400");
            }
            if secured {
                wanted.push("401");
            }
            if has_body {
                wanted.extend(["413", "415", "422"]);
            }
            for status in wanted {
                assert!(
                    statuses.contains(status),
                    "{method} {path} documents {status}: {statuses:?}"
                );
            }
        }
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(body) = op.get("requestBody") {
                // A JSON body gives an example object (an array for a webhook delivery,
                // which is one); a file upload (CSV) an example text, and its form the
                // `file` part.
                for (media, content) in body["content"].as_object().unwrap() {
                    let example = match media.as_str() {
                        "application/json" => {
                            content["example"].is_object() || content["example"].is_array()
                        }
                        "multipart/form-data" => {
                            let schema = match content["schema"]["$ref"].as_str() {
                                Some(reference) => {
                                    let name = reference.rsplit('/').next().unwrap_or_default();
                                    &doc["components"]["schemas"][name]
                                }
                                None => &content["schema"],
                            };
                            schema["properties"]["file"].is_object()
                        }
                        _ => content["example"].is_string(),
                    };
                    assert!(example, "{method} {path} gives an example {media} body");
                }
            }
        }
    }
    for name in ["BadRequest", "Unauthorized", "Forbidden", "Unprocessable"] {
        assert!(doc["components"]["responses"].get(name).is_some(), "{name}");
    }
}

#[tokio::test]
async fn each_agent_has_a_run_operation_whose_example_the_server_accepts() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/openapi.json", &app.admin).await;
    let (_, agents) = app.get_json("/api/agents", &app.admin).await;
    let agents = agents["agents"].as_array().unwrap();
    assert!(agents.len() >= 12);
    for agent in agents {
        let name = agent["name"].as_str().unwrap();
        let path = format!("/api/agents/{name}/runs");
        let op = &doc["paths"][&path]["post"];
        let content = &op["requestBody"]["content"]["application/json"];
        // An input that may be left out is documented as null or the schema.
        let input = &content["schema"]["properties"]["input"];
        let documented = match input["anyOf"].as_array() {
            Some(choices) if choices[0] == serde_json::json!({"type": "null"}) => &choices[1],
            _ => input,
        };
        let fields = |schema: &Value| -> Vec<String> {
            schema["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default()
        };
        assert_eq!(
            (fields(documented), &documented["required"]),
            (
                fields(&agent["input_schema"]),
                &agent["input_schema"]["required"]
            ),
            "{path} documents {name}'s own input schema"
        );
        let (status, body) = app.post_json(&path, &app.admin, &content["example"]).await;
        assert_eq!(
            status, 202,
            "{path}'s documented example is accepted: {body}"
        );
        assert!(
            op["responses"]["202"]["links"]["retry"].is_object(),
            "{path}"
        );
    }
    assert!(
        doc["paths"]["/api/agents/{name}/runs"]
            .get("post")
            .is_none(),
        "the generic run operation is replaced by one per agent"
    );
}

#[tokio::test]
async fn links_name_operations_that_exist() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/openapi.json", &app.admin).await;
    let mut operation_ids = BTreeSet::new();
    let mut linked = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if let Some(id) = op["operationId"].as_str() {
                operation_ids.insert(id.to_string());
            }
            for response in op["responses"].as_object().unwrap().values() {
                if let Some(links) = response["links"].as_object() {
                    linked.extend(links.values().map(|l| l["operationId"].clone()));
                }
            }
        }
    }
    for id in ["approve_queue_item", "retry_agent_run", "get_audit"] {
        assert!(linked.contains(&Value::from(id)), "a link leads to {id}");
    }
    for id in linked {
        assert!(
            operation_ids.contains(id.as_str().unwrap()),
            "{id} is an operation"
        );
    }
}

#[tokio::test]
async fn links_resolve_against_real_answers() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/openapi.json", &app.admin).await;
    let answers = [
        (
            "/api/queue",
            "201",
            app.post_json(
                "/api/queue",
                &app.admin,
                &serde_json::json!({"action_type": "send_email", "title": "linked"}),
            )
            .await,
        ),
        (
            "/api/agents/PersonaRouter/runs",
            "202",
            app.post_json(
                "/api/agents/PersonaRouter/runs",
                &app.admin,
                &serde_json::json!({"input": {"job_title": "CMO"}}),
            )
            .await,
        ),
    ];
    for (path, status, (got, body)) in answers {
        assert_eq!(got.to_string(), status, "{path}: {body}");
        let links = doc["paths"][path]["post"]["responses"][status]["links"]
            .as_object()
            .unwrap();
        for (name, link) in links {
            for expression in link["parameters"].as_object().unwrap().values() {
                let Some(pointer) = expression
                    .as_str()
                    .and_then(|e| e.strip_prefix("$response.body#"))
                else {
                    continue;
                };
                assert!(
                    body.pointer(pointer).is_some_and(Value::is_string),
                    "{path} link {name}: {pointer} in {body}"
                );
            }
        }
    }
}
