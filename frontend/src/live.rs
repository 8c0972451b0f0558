//! Live updates: server-sent events from `/api/events`, reconnecting by themselves. Each
//! `projection` event for `queue` bumps the live tick that open pages refetch on.

use std::rc::Rc;
use std::time::Duration;

use caseyos_domain::api::LiveEvent;
use futures::channel::oneshot;
use futures::{FutureExt, StreamExt};
use gloo_net::eventsource::futures::EventSource;
use yew::prelude::*;

use crate::app_state::Live;

pub enum LiveAction {
    Connected(bool),
    Moved(String),
}

#[derive(Clone, Default, PartialEq)]
pub struct LiveState(pub Live);

impl Reducible for LiveState {
    type Action = LiveAction;

    fn reduce(self: Rc<Self>, action: LiveAction) -> Rc<Self> {
        let mut live = self.0.clone();
        match action {
            LiveAction::Connected(connected) => live.connected = connected,
            LiveAction::Moved(consistency) => {
                live.tick += 1;
                live.consistency = Some(consistency);
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

async fn follow(dispatch: UseReducerDispatcher<LiveState>, stopped: oneshot::Receiver<()>) {
    let mut stopped = stopped.fuse();
    loop {
        if let Ok(mut source) = EventSource::new("/api/events") {
            if let (Ok(ready), Ok(moved)) =
                (source.subscribe("ready"), source.subscribe("projection"))
            {
                let mut events = futures::stream::select(ready, moved).fuse();
                loop {
                    futures::select! {
                        _ = stopped => return,
                        event = events.next() => match event {
                            Some(Ok((kind, message))) => {
                                dispatch.dispatch(LiveAction::Connected(true));
                                let data = message.data().as_string().unwrap_or_default();
                                if kind == "projection" {
                                    if let Ok(event) = serde_json::from_str::<LiveEvent>(&data) {
                                        if event.projection == "queue" {
                                            dispatch.dispatch(LiveAction::Moved(event.consistency));
                                        }
                                    }
                                }
                            }
                            Some(Err(_)) | None => break,
                        },
                    }
                }
            }
            drop(source);
        }
        dispatch.dispatch(LiveAction::Connected(false));
        futures::select! {
            _ = stopped => return,
            _ = gloo_timers::future::sleep(RECONNECT).fuse() => {}
        }
    }
}
