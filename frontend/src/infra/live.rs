//! Live updates: server-sent events from `/api/events`, reconnecting by themselves. Each
//! `projection` event for a read model a view follows ([`Feed`]) bumps that feed's tick, and
//! views read again at its new checkpoint (see `hooks::use_query`).

use std::rc::Rc;
use std::time::Duration;

use caseyos_domain::api::LiveEvent;
use caseyos_domain::kernel::ConsistencyToken;
use futures::channel::oneshot;
use futures::{FutureExt, StreamExt};
use gloo_net::eventsource::futures::EventSource;
use yew::prelude::*;

/// A read model that views follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    /// The `queue` projection: Today's Moves, the queue, its stats.
    Queue,
    /// The `agent_runs` projection: agents' last runs, runs, their stats.
    AgentRuns,
    /// The `deals`, `pipelines` and `quotas` projections: the board, deals, the forecast.
    Deals,
    /// Any read model (the dashboard shows them all).
    Any,
}

impl Feed {
    fn of(projection: &str) -> Option<Feed> {
        match projection {
            "queue" => Some(Feed::Queue),
            "agent_runs" => Some(Feed::AgentRuns),
            "deals" | "pipelines" | "quotas" => Some(Feed::Deals),
            _ => None,
        }
    }
}

/// Where one read model is, as the server last announced it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Moved {
    /// Bumped each time it moved.
    pub tick: u64,
    /// Its newest checkpoint.
    pub consistency: Option<String>,
}

/// Where the read models are: bumped by server-sent events.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Live {
    pub queue: Moved,
    pub agent_runs: Moved,
    pub deals: Moved,
    pub any: Moved,
    pub connected: bool,
}

impl Live {
    pub fn of(&self, feed: Feed) -> &Moved {
        match feed {
            Feed::Queue => &self.queue,
            Feed::AgentRuns => &self.agent_runs,
            Feed::Deals => &self.deals,
            Feed::Any => &self.any,
        }
    }
}

/// A token's place in the global order; an unreadable token has none, so it comes first.
pub fn order(token: &str) -> Option<ConsistencyToken> {
    token.parse().ok()
}

/// The later of two consistency tokens (the first one when they are level).
pub fn latest(a: Option<String>, b: Option<String>) -> Option<String> {
    a.into_iter()
        .chain(b)
        .reduce(|a, b| if order(&b) > order(&a) { b } else { a })
}

pub enum LiveAction {
    Connected(bool),
    /// A read model moved: its name and its new checkpoint.
    Moved(LiveEvent),
}

#[derive(Clone, Default, PartialEq)]
pub struct LiveState(pub Live);

impl Reducible for LiveState {
    type Action = LiveAction;

    fn reduce(self: Rc<Self>, action: LiveAction) -> Rc<Self> {
        let mut live = self.0.clone();
        match action {
            LiveAction::Connected(connected) => live.connected = connected,
            LiveAction::Moved(event) => {
                let feed = match Feed::of(&event.projection) {
                    Some(Feed::Queue) => Some(&mut live.queue),
                    Some(Feed::AgentRuns) => Some(&mut live.agent_runs),
                    Some(Feed::Deals) => Some(&mut live.deals),
                    _ => None,
                };
                for moved in feed.into_iter().chain([&mut live.any]) {
                    moved.tick += 1;
                    moved.consistency = Some(event.consistency.clone());
                }
            }
        }
        Rc::new(LiveState(live))
    }
}

/// How long to wait before reconnecting after the stream closed.
const RECONNECT: Duration = Duration::from_secs(2);

/// Follows the server's events while `enabled` (signed in).
#[hook]
pub fn use_live(enabled: bool) -> Live {
    let state = use_reducer(LiveState::default);
    {
        let dispatch = state.dispatcher();
        use_effect_with(enabled, move |enabled| {
            let (stop, stopped) = oneshot::channel::<()>();
            if *enabled {
                wasm_bindgen_futures::spawn_local(follow(dispatch, stopped));
            }
            move || drop(stop)
        });
    }
    state.0.clone()
}

/// Whether the page is shown: `pagehide` (leaving, possibly into the back/forward cache)
/// and `pageshow` (back again), so a hidden page holds no event stream. Browsers allow six
/// connections per host over HTTP/1.1; cached pages holding streams would starve the rest.
fn page_visibility() -> (
    futures::channel::mpsc::UnboundedReceiver<bool>,
    Option<[gloo_events::EventListener; 2]>,
) {
    let (sender, receiver) = futures::channel::mpsc::unbounded();
    let Some(window) = web_sys::window() else {
        return (receiver, None);
    };
    let (hide, show) = (sender.clone(), sender);
    let listeners = [
        gloo_events::EventListener::new(&window, "pagehide", move |_| {
            let _ = hide.unbounded_send(false);
        }),
        gloo_events::EventListener::new(&window, "pageshow", move |_| {
            let _ = show.unbounded_send(true);
        }),
    ];
    (receiver, Some(listeners))
}

async fn follow(dispatch: UseReducerDispatcher<LiveState>, stopped: oneshot::Receiver<()>) {
    let mut stopped = stopped.fuse();
    let (mut shown, _listeners) = page_visibility();
    loop {
        let mut hidden = false;
        if let Ok(mut source) = EventSource::new("/api/events") {
            if let (Ok(ready), Ok(moved)) =
                (source.subscribe("ready"), source.subscribe("projection"))
            {
                let mut events = futures::stream::select(ready, moved).fuse();
                loop {
                    futures::select! {
                        _ = stopped => return,
                        visible = shown.next() => if visible == Some(false) {
                            hidden = true;
                            break;
                        },
                        event = events.next() => match event {
                            Some(Ok((kind, message))) => {
                                dispatch.dispatch(LiveAction::Connected(true));
                                let data = message.data().as_string().unwrap_or_default();
                                if kind == "projection" {
                                    if let Ok(event) = crate::api::json::from_str::<LiveEvent>(&data) {
                                        dispatch.dispatch(LiveAction::Moved(event));
                                    }
                                }
                            }
                            Some(Err(_)) | None => break,
                        },
                    }
                }
            }
            // Dropping the source closes the stream.
            drop(source);
        }
        dispatch.dispatch(LiveAction::Connected(false));
        if hidden {
            // Reconnect when the page is shown again.
            loop {
                futures::select! {
                    _ = stopped => return,
                    visible = shown.next() => match visible {
                        Some(true) => break,
                        Some(false) => continue,
                        None => return,
                    },
                }
            }
            continue;
        }
        futures::select! {
            _ = stopped => return,
            _ = gloo_timers::future::sleep(RECONNECT).fuse() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn moved(state: Rc<LiveState>, projection: &str, consistency: &str) -> Rc<LiveState> {
        state.reduce(LiveAction::Moved(LiveEvent {
            projection: projection.into(),
            consistency: consistency.into(),
        }))
    }

    #[wasm_bindgen_test]
    fn each_projection_bumps_its_own_tick() {
        let state = Rc::new(LiveState::default());
        let state = moved(state, "queue", "10.1");
        let state = moved(state, "agent_runs", "11.2");
        let state = moved(state, "contacts", "12.0");
        let live = &state.0;
        let at = |feed| {
            let moved = live.of(feed);
            (moved.tick, moved.consistency.as_deref())
        };
        assert_eq!(at(Feed::Queue), (1, Some("10.1")));
        assert_eq!(at(Feed::AgentRuns), (1, Some("11.2")));
    }

    #[wasm_bindgen_test]
    fn tokens_order_numerically_and_unreadable_ones_come_first() {
        let later = |a: &str, b: &str| latest(Some(a.into()), Some(b.into())).unwrap();
        assert_eq!(later("10.2", "9.99"), "10.2");
        assert_eq!(later("10.9", "10.10"), "10.10");
        assert_eq!(later("junk", "0.0"), "0.0");
        assert_eq!(later("7.1", "junk"), "7.1");
        assert!(order("junk") < order("0.0"));
        assert_eq!(latest(None, Some("3.4".into())).as_deref(), Some("3.4"));
        assert_eq!(latest(Some("junk".into()), None).as_deref(), Some("junk"));
        assert_eq!(latest(None, None), None);
    }
}
