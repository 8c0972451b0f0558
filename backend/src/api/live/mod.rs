//! `/api/events`: live updates for open pages, as server-sent events.
//!
//! Projectors notify `caseyos_projection` in the transaction that commits a batch, so every
//! backend instance hears of every change, whichever instance leads the projector. Each
//! instance keeps one LISTEN connection and fans its notifications out over a broadcast
//! channel to the streams it serves. A stream opens with `ready` (the `queue` read model's
//! checkpoint), then sends `projection` events, a keep-alive comment every 15 s, and ends
//! when the server shuts down.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use caseyos_domain::api::{ErrorEnvelope, LiveEvent};
use caseyos_domain::kernel::ConsistencyToken;
use caseyos_projections::runner::{self};
use futures::{Stream, StreamExt};
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::state::AppState;

/// How often an idle stream sends a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The read model whose checkpoint `ready` carries.
const READY_PROJECTION: &str = "queue";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(live_events))
}

/// What one stream has still to send.
struct Feed {
    receiver: broadcast::Receiver<LiveEvent>,
    pending: VecDeque<LiveEvent>,
}

impl Feed {
    /// After falling behind: the newest event of each read model still buffered. Each
    /// carries a checkpoint, so the newest says all the skipped ones said.
    fn catch_up(&mut self) {
        loop {
            match self.receiver.try_recv() {
                Ok(event) => {
                    self.pending.retain(|e| e.projection != event.projection);
                    self.pending.push_back(event);
                }
                Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Empty | TryRecvError::Closed) => return,
            }
        }
    }

    async fn next(&mut self) -> Option<LiveEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            match self.receiver.recv().await {
                Ok(event) => return Some(event),
                Err(RecvError::Lagged(_)) => self.catch_up(),
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

fn projection_event(event: &LiveEvent) -> Event {
    Event::default()
        .event("projection")
        .data(serde_json::to_string(event).unwrap_or_default())
}

/// The events of one stream: `ready`, then every `projection` event, until shutdown.
fn live_stream(
    ready: ConsistencyToken,
    receiver: broadcast::Receiver<LiveEvent>,
    shutdown: CancellationToken,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let ready = Event::default().event("ready").data(ready.to_string());
    let feed = Feed {
        receiver,
        pending: VecDeque::new(),
    };
    let updates = futures::stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((projection_event(&event), feed))
    });
    futures::stream::once(async move { ready })
        .chain(updates)
        .map(Ok)
        .take_until(shutdown.cancelled_owned())
}

/// One event of the stream as the OpenAPI document describes it (the `schema` of a
/// `text/event-stream` response describes each event): `ready` with a consistency token, or
/// `projection` with a [`LiveEvent`] as JSON.
pub(crate) fn event_schema() -> serde_json::Value {
    serde_json::json!({
        "oneOf": [
            {
                "type": "object",
                "required": ["event", "data"],
                "properties": {
                    "event": {"const": "ready"},
                    "data": {
                        "type": "string",
                        "pattern": "^[0-9]{1,18}\\.[0-9]{1,18}$",
                        "description": "The `queue` read model's consistency token when the stream opened",
                    },
                },
            },
            {
                "type": "object",
                "required": ["event", "data"],
                "properties": {
                    "event": {"const": "projection"},
                    "data": {
                        "type": "string",
                        "contentMediaType": "application/json",
                        "contentSchema": {"$ref": "#/components/schemas/LiveEvent"},
                    },
                },
            },
        ],
    })
}

/// Live updates as server-sent events (`text/event-stream`), for `EventSource` (the session
/// cookie works: EventSource cannot set headers).
///
/// - `event: ready`, `data: <consistency token>`: the `queue` read model's checkpoint when
///   the stream opened.
/// - `event: projection`, `data: {"projection": "queue", "consistency": "…"}` (a
///   `LiveEvent`): a read model moved; pass `consistency` as `?after=` to read at least
///   that state. A slow reader skips to the newest event of each read model.
/// - A comment every 15 s keeps idle connections open. The stream ends when the server
///   shuts down; reconnect (EventSource does so by itself).
#[utoipa::path(
    get,
    path = "/api/events",
    tag = "live",
    responses(
        (status = 200, description = "A stream of `ready` and `projection` events; each \
            `projection` event's data is a LiveEvent", content_type = "text/event-stream",
            body = LiveEvent),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn live_events(
    State(state): State<AppState>,
    _principal: Principal,
) -> Result<Response, ApiError> {
    // Subscribe before reading the checkpoint, so nothing falls between the two.
    let receiver = state.live.subscribe();
    let ready = runner::checkpoints(&state.pool, &[READY_PROJECTION])
        .await?
        .first()
        .copied()
        .unwrap_or_default();
    let stream = live_stream(ConsistencyToken(ready), receiver, state.shutdown.clone());
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    // Proxies such as nginx would otherwise buffer the stream.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(projection: &str, consistency: &str) -> LiveEvent {
        LiveEvent {
            projection: projection.into(),
            consistency: consistency.into(),
        }
    }

    #[tokio::test]
    async fn a_lagging_stream_skips_to_the_newest_event_of_each_read_model() {
        let (sender, receiver) = broadcast::channel(4);
        let mut feed = Feed {
            receiver,
            pending: VecDeque::new(),
        };
        for i in 1..=10 {
            sender.send(event("queue", &format!("{i}.{i}"))).unwrap();
        }
        sender.send(event("other", "11.11")).unwrap();
        assert_eq!(feed.next().await, Some(event("queue", "10.10")));
        assert_eq!(feed.next().await, Some(event("other", "11.11")));
        sender.send(event("queue", "12.12")).unwrap();
        assert_eq!(feed.next().await, Some(event("queue", "12.12")));
        drop(sender);
        assert_eq!(feed.next().await, None);
    }

    #[tokio::test]
    async fn a_stream_says_ready_first_and_ends_at_shutdown() {
        let (sender, receiver) = broadcast::channel(4);
        let shutdown = CancellationToken::new();
        let token: ConsistencyToken = "7.3".parse().unwrap();
        let mut stream = Box::pin(live_stream(token, receiver, shutdown.clone()));
        assert!(stream.next().await.is_some(), "ready");
        sender.send(event("queue", "8.4")).unwrap();
        assert!(stream.next().await.is_some(), "a projection event");
        shutdown.cancel();
        let ended = tokio::time::timeout(Duration::from_secs(10), stream.next()).await;
        assert!(matches!(ended, Ok(None)), "the stream ends at shutdown");
    }
}
