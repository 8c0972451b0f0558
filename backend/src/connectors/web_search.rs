//! Research's web search: one provider interface, [`WebSearch`], and its one provider,
//! Tavily (`POST {base}/search` with `Authorization: Bearer <key>`, body `{"query",
//! "max_results", "search_depth": "basic"}`, answered `{"results": [{"title", "url",
//! "content", "score"}]}`). Another provider is one more implementation of the trait and a
//! configuration switch.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};

use super::call::{self, Caller, Replay, Request, StatusHooks};
use super::{ConnectorError, Provider};
use crate::config::WebSearchConfig;

const TAVILY: Provider = Provider::Tavily;
/// Longest snippet kept from a result, in characters.
const MAX_SNIPPET_CHARS: usize = 600;

/// A web page a search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebResult {
    pub title: String,
    pub url: String,
    pub snippet: String,
}

/// A web search provider.
#[async_trait]
pub trait WebSearch: Send + Sync {
    /// The provider's name, as reports and errors show it.
    fn name(&self) -> &'static str;
    /// At most `limit` results for `query`, best first.
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<WebResult>, ConnectorError>;
}

/// Tavily's search API.
#[derive(Debug)]
pub struct Tavily {
    caller: Caller,
    base: reqwest::Url,
}

impl Tavily {
    pub fn new(config: &WebSearchConfig) -> Result<Self, ConnectorError> {
        Ok(Tavily {
            caller: Caller::new(TAVILY, config.policy, Some(&config.api_key))?,
            base: call::base_url(TAVILY, &config.base_url)?,
        })
    }
}

#[async_trait]
impl WebSearch for Tavily {
    fn name(&self) -> &'static str {
        TAVILY.name()
    }

    async fn search(&self, query: &str, limit: usize) -> Result<Vec<WebResult>, ConnectorError> {
        let body = json!({"query": query, "max_results": limit, "search_depth": "basic"});
        let answer = self
            .caller
            .call(
                &StatusHooks(TAVILY),
                Request {
                    operation: "search",
                    method: Method::POST,
                    url: call::url(&self.base, &["search"]),
                    query: &[],
                    body: Some(&body),
                    // A search changes nothing: safe to ask again.
                    replay: Replay::Safe,
                    authorization: None,
                },
            )
            .await?;
        Ok(results(&answer.json(TAVILY)?, limit))
    }
}

/// The results of an answer: those with a title and an http(s) URL, the snippet on one line.
fn results(answer: &Value, limit: usize) -> Vec<WebResult> {
    let Some(items) = answer["results"].as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let url = item["url"].as_str()?.trim();
            let title = item["title"].as_str()?.trim();
            let web = url.starts_with("https://") || url.starts_with("http://");
            (web && !title.is_empty()).then(|| WebResult {
                title: title.to_string(),
                url: url.to_string(),
                snippet: item["content"]
                    .as_str()
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .chars()
                    .take(MAX_SNIPPET_CHARS)
                    .collect(),
            })
        })
        .take(limit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_titled_web_pages_on_one_line() {
        let answer = json!({"results": [
            {"title": "Acme raises", "url": "https://news.example/acme", "content": "Acme\n raised  $20M."},
            {"title": "", "url": "https://x.example"},
            {"title": "Script", "url": "javascript:alert(1)", "content": "x"},
            {"title": "Second", "url": "http://b.example", "content": null}
        ]});
        assert_eq!(
            results(&answer, 5),
            vec![
                WebResult {
                    title: "Acme raises".into(),
                    url: "https://news.example/acme".into(),
                    snippet: "Acme raised $20M.".into()
                },
                WebResult {
                    title: "Second".into(),
                    url: "http://b.example".into(),
                    snippet: String::new()
                },
            ]
        );
        assert_eq!(results(&answer, 1).len(), 1);
        assert!(results(&json!({}), 5).is_empty());
    }
}
