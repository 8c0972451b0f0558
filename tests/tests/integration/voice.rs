//! Voice training: samples pasted and rated, the persona computed from them, the language
//! model's summary (or a plain "not connected"), and DraftWriter following the top-rated
//! samples — visibly — unless told to use the default voice. (Collecting sent emails is
//! checked with the send itself, in `executions`.)

use caseyos_tests::{assert_error, spawn_app, spawn_app_with};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SAMPLE: &str = "Hey Sam,\n\nSaw the news about your new logistics hub in Leeds. \
    Curious how you're planning pipeline reviews as the team grows?\n\nTalk soon,\nCasey";
const SECOND: &str = "Hey Priya,\n\nYour pipeline reviews post was sharp and I'd love to \
    compare notes on forecast calls. Worth a quick call next week?\n\nTalk soon,\nCasey";

async fn add(app: &caseyos_tests::TestApp, token: &str, body: Value) -> (u16, Value) {
    app.post_json("/api/voice/samples", token, &body).await
}

async fn rate(app: &caseyos_tests::TestApp, id: &str, body: Value) -> (u16, Value) {
    let response = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/voice/samples/{id}/rating"),
            Some(&app.admin),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn samples_are_pasted_rated_and_make_the_persona_that_draftwriter_follows() {
    let app = spawn_app().await;
    // Too short, a sent email pasted, a viewer: refused, nothing kept.
    let answer = add(&app, &app.admin, json!({"content": "Hi, short."})).await;
    assert_error(&answer, 422, "request.validation");
    let answer = add(
        &app,
        &app.admin,
        json!({"content": SAMPLE, "source": "sent_email"}),
    )
    .await;
    assert_error(&answer, 422, "request.validation");
    let viewer = app.token("val", "viewer").await;
    assert_eq!(add(&app, &viewer, json!({"content": SAMPLE})).await.0, 403);

    let (status, first) = add(&app, &app.admin, json!({"content": SAMPLE})).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["source"], "manual");
    assert_eq!(first["rating"], Value::Null);
    let id = first["id"].as_str().unwrap().to_string();
    // The same text again is the same sample.
    let (status, again) = add(&app, &app.admin, json!({"content": SAMPLE})).await;
    assert_eq!((status, &again["id"]), (201, &first["id"]));
    let (status, second) = add(
        &app,
        &app.admin,
        json!({"content": SECOND, "source": "draft", "rating": 4, "feedback": "close"}),
    )
    .await;
    assert_eq!(status, 201, "{second}");

    let answer = rate(&app, &id, json!({"rating": 6})).await;
    assert_eq!(answer.0, 422, "{}", answer.1);
    let (status, rated) = rate(&app, &id, json!({"rating": 5, "feedback": "exactly me"})).await;
    assert_eq!(status, 200, "{rated}");
    assert_eq!(
        (rated["rating"].clone(), rated["feedback"].clone()),
        (json!(5), json!("exactly me"))
    );

    let (status, list) = app.get_json("/api/voice/samples", &app.admin).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    let (status, persona) = app.get_json("/api/voice/persona", &viewer).await;
    assert_eq!(status, 200, "{persona}");
    assert_eq!(persona["sample_count"], 2);
    assert_eq!(persona["top_rated_count"], 2);
    assert_eq!(persona["greeting"], "Hey");
    assert_eq!(persona["sign_off"], "Talk soon,");
    assert_eq!(persona["llm"], "not_connected");
    assert_eq!(persona["summary"], Value::Null);
    assert!(
        persona["common_phrases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["phrase"] == "pipeline reviews" && p["count"] == 2),
        "{persona}"
    );
    let casey = persona["word_frequency"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["word"] == "casey")
        .cloned();
    assert_eq!(
        casey,
        Some(json!({"word": "casey", "count": 2})),
        "{persona}"
    );
    let answer = app
        .post_json("/api/voice/persona/summary", &app.admin, &json!({}))
        .await;
    assert_error(&answer, 409, "llm.not_connected");

    // DraftWriter, trained (the default): the samples' greeting and sign-off, shown.
    let input = json!({"contact_name": "Dana Whitfield", "contact_email": "dana@northwind.example",
                       "company": "Northwind", "goal": "compare notes on pipeline reviews"});
    let run = app
        .request_run_ok(&app.admin, "DraftWriter", input.clone())
        .await;
    let run = app
        .wait_for_run(
            &app.admin,
            run.id,
            std::time::Duration::from_secs(20),
            |r| r.status.is_finished(),
        )
        .await;
    let output = run.output.expect("an output");
    let body = output["draft"]["body"].as_str().unwrap();
    assert!(body.starts_with("Hey Dana,"), "{body}");
    assert!(body.contains("Talk soon,\nCasey"), "{body}");
    assert_eq!(output["voice"]["mode"], "trained");
    assert_eq!(output["voice"]["samples_used"], 2);

    let mut default = input;
    default["voice"] = json!("default");
    let run = app.request_run_ok(&app.admin, "DraftWriter", default).await;
    let run = app
        .wait_for_run(
            &app.admin,
            run.id,
            std::time::Duration::from_secs(20),
            |r| r.status.is_finished(),
        )
        .await;
    let output = run.output.expect("an output");
    let body = output["draft"]["body"].as_str().unwrap();
    assert!(body.starts_with("Dana,"), "{body}");
    assert!(!body.contains("Talk soon"), "{body}");
    assert_eq!(output["voice"]["mode"], "default");
    assert_eq!(output["voice"]["samples_used"], 0);

    // Removed: gone from the list and from DraftWriter's examples.
    let response = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/voice/samples/{id}"),
            Some(&app.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let (_, list) = app.get_json("/api/voice/samples", &app.admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let answer = rate(&app, &id, json!({"rating": 3})).await;
    assert_eq!(answer.0, 404, "{}", answer.1);
}

#[tokio::test]
async fn the_persona_summary_is_written_by_the_model_from_the_samples_and_kept() {
    let llm = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(|request: &wiremock::Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            let user = body["messages"][1]["content"].as_str().unwrap();
            assert!(user.contains("logistics hub in Leeds"), "{user}");
            assert!(user.contains("opens with \\\"Hey\\\""), "{user}");
            ResponseTemplate::new(200).set_body_json(json!({
                "id": "c", "object": "chat.completion", "model": "fake-model-1",
                "choices": [{"index": 0, "finish_reason": "stop", "message":
                    {"role": "assistant", "content": "- Casual openings (\"Hey\")\n- Short questions"}}],
                "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}
            }))
        })
        .mount(&llm)
        .await;
    let url = format!("{}/v1", llm.uri());
    let app = spawn_app_with(move |c| {
        c.llm_base_url = Some(url);
        c.llm_model = "fake-model-1".into();
        c.llm_max_retries = 0;
    })
    .await;
    let answer = app
        .post_json("/api/voice/persona/summary", &app.admin, &json!({}))
        .await;
    assert_error(&answer, 409, "voice.no_samples");
    assert_eq!(
        add(&app, &app.admin, json!({"content": SAMPLE, "rating": 5}))
            .await
            .0,
        201
    );
    app.get_json("/api/voice/samples", &app.admin).await;
    let (status, persona) = app
        .post_json("/api/voice/persona/summary", &app.admin, &json!({}))
        .await;
    assert_eq!(status, 200, "{persona}");
    assert_eq!(persona["llm"], "connected");
    assert_eq!(
        persona["summary"]["text"],
        "- Casual openings (\"Hey\")\n- Short questions"
    );
    assert_eq!(persona["summary"]["model"], "fake-model-1");
    assert_eq!(persona["summary"]["sample_count"], 1);
    let (_, read) = app.get_json("/api/voice/persona", &app.admin).await;
    assert_eq!(read["summary"], persona["summary"]);
}

#[tokio::test]
async fn a_rating_written_as_a_whole_float_is_a_rating_and_a_fraction_is_refused() {
    let app = spawn_app().await;
    let (status, sample) = add(&app, &app.admin, json!({"content": SAMPLE, "rating": 4.0})).await;
    assert_eq!(status, 201, "{sample}");
    assert_eq!(sample["rating"], 4);
    let id = sample["id"].as_str().unwrap().to_string();
    let (status, rated) = rate(&app, &id, json!({"rating": 5.0})).await;
    assert_eq!(
        (status, rated["rating"].clone()),
        (200, json!(5)),
        "{rated}"
    );
    let answer = rate(&app, &id, json!({"rating": 4.5})).await;
    assert_eq!(answer.0, 422, "{}", answer.1);
}
