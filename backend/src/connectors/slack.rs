//! Slack's Web API (`chat.postMessage`) with the bot token, and the `response_url`s Slack
//! hands a slash command or a button press, where a later answer is posted. Slack answers
//! most refusals with HTTP 200 and `{"ok": false, "error": "<reason>"}`: those are read as
//! the failures they are (`slack.unauthorized` for a bad token, `slack.bad_request` naming
//! Slack's reason), 429 with its `Retry-After` as `slack.rate_limited`.

use reqwest::Method;
use serde_json::{json, Value};

use super::call::{self, Caller, Replay, Request, StatusHooks};
use super::{ConnectorError, Provider};
use crate::config::{CallPolicy, SlackConfig};

const SLACK: Provider = Provider::Slack;

/// The Web API with the bot token.
#[derive(Debug)]
pub struct SlackClient {
    caller: Caller,
    base: reqwest::Url,
}

/// Reads Slack's `{"ok": …}` envelope.
fn envelope(body: Value) -> Result<Value, ConnectorError> {
    if body["ok"] == json!(true) {
        return Ok(body);
    }
    let reason = body["error"]
        .as_str()
        .unwrap_or("unknown_error")
        .to_string();
    Err(match reason.as_str() {
        "invalid_auth" | "not_authed" | "token_revoked" | "account_inactive" | "token_expired" => {
            ConnectorError::Unauthorized {
                provider: SLACK,
                status: 200,
                correlation_id: None,
            }
        }
        _ => ConnectorError::BadRequest {
            provider: SLACK,
            status: 200,
            category: call::label(Some(reason)),
            correlation_id: None,
        },
    })
}

impl SlackClient {
    pub fn new(config: &SlackConfig) -> Result<Self, ConnectorError> {
        Ok(SlackClient {
            caller: Caller::new(SLACK, config.policy, Some(&config.bot_token))?,
            base: call::base_url(SLACK, &config.base_url)?,
        })
    }

    /// Posts `text` (with `blocks`, when any) to `channel`: Slack's `ts` of the message.
    pub async fn post_message(
        &self,
        channel: &str,
        text: &str,
        blocks: Option<&Value>,
    ) -> Result<String, ConnectorError> {
        let mut body = json!({"channel": channel, "text": text, "unfurl_links": false});
        if let Some(blocks) = blocks {
            body["blocks"] = blocks.clone();
        }
        let answer = self
            .caller
            .call(
                &StatusHooks(SLACK),
                Request {
                    operation: "chat.postMessage",
                    method: Method::POST,
                    url: call::url(&self.base, &["chat.postMessage"]),
                    query: &[],
                    body: Some(&body),
                    replay: Replay::OnlyIfUnsent,
                    authorization: None,
                },
            )
            .await?;
        let body = envelope(answer.json(SLACK)?)?;
        Ok(body["ts"].as_str().unwrap_or_default().to_string())
    }
}

/// Posts `message` to a `response_url` Slack gave (no token: the URL is the credential).
pub async fn respond(
    policy: &CallPolicy,
    response_url: &str,
    message: &Value,
) -> Result<(), ConnectorError> {
    let url = reqwest::Url::parse(response_url).map_err(|_| ConnectorError::Misconfigured {
        connector: "Slack",
        reason: "the response_url is not a URL".into(),
    })?;
    let caller = Caller::new(SLACK, *policy, None)?;
    caller
        .call(
            &StatusHooks(SLACK),
            Request {
                operation: "response_url",
                method: Method::POST,
                url,
                query: &[],
                body: Some(message),
                replay: Replay::OnlyIfUnsent,
                authorization: None,
            },
        )
        .await?;
    Ok(())
}
