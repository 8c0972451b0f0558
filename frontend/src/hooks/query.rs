//! The one way a view reads from the API. A query shows loading, failed or ready ([`Load`]),
//! reads again on "Try again" ([`Query::reload`]), and follows a read model: when the server
//! says it moved, the query reads again at its new checkpoint. A read is always at least as
//! far as the newest of that checkpoint and what a write made here reached
//! ([`Query::read_after`]), so a view never shows less than what its user just did.

use std::cell::Cell;
use std::future::Future;
use std::ops::Deref;
use std::rc::Rc;

use futures::future::LocalBoxFuture;
use gloo_timers::callback::Interval;
use yew::prelude::*;

use crate::api::ApiError;
use crate::components::status::Load;
use crate::infra::app_state::use_app;
use crate::infra::live::{latest, Feed};

/// When a query of `T` reads again, besides when its key changes and on reload.
pub struct Refresh<T> {
    feed: Option<Feed>,
    every_ms: Option<u32>,
    poll_while: Option<fn(&T) -> bool>,
    after: Option<String>,
    keep_on_failure: bool,
}

impl<T> Refresh<T> {
    /// Only when the key changes or on reload.
    pub fn never() -> Self {
        Refresh {
            feed: None,
            every_ms: None,
            poll_while: None,
            after: None,
            keep_on_failure: false,
        }
    }

    /// Whenever the read model `feed` moves, at its new checkpoint.
    pub fn on(feed: Feed) -> Self {
        Refresh {
            feed: Some(feed),
            ..Refresh::never()
        }
    }

    /// Also every `ms` milliseconds (a turn is skipped while the last poll still runs, and a
    /// poll that ends after polling stopped is dropped).
    pub fn every(self, ms: u32) -> Self {
        Refresh {
            every_ms: Some(ms),
            ..self
        }
    }

    /// Polls (see [`every`](Self::every)) only while what was read says so, e.g. while a run
    /// is in progress.
    pub fn while_ready(self, polling: fn(&T) -> bool) -> Self {
        Refresh {
            poll_while: Some(polling),
            ..self
        }
    }

    /// Reads at least as far as `token` from the first read on (the `?after=` of a page
    /// opened right after a write).
    pub fn after(self, token: Option<String>) -> Self {
        Refresh {
            after: token,
            ..self
        }
    }

    /// A failed read after a good one keeps showing what was read (the error still reaches
    /// [`AppContext::check`](crate::infra::app_state::AppContext::check)).
    pub fn keep_on_failure(self) -> Self {
        Refresh {
            keep_on_failure: true,
            ..self
        }
    }
}

/// What a query shows, and how to make it read again. Derefs to its [`Load`].
pub struct Query<T: 'static> {
    view: UseReducerHandle<View<T>>,
    /// Reads again now, as far as the query reads ("Try again").
    pub reload: Callback<()>,
    after: Callback<String>,
}

impl<T> Clone for Query<T> {
    fn clone(&self) -> Self {
        Query {
            view: self.view.clone(),
            reload: self.reload.clone(),
            after: self.after.clone(),
        }
    }
}

impl<T> Deref for Query<T> {
    type Target = Load<T>;

    fn deref(&self) -> &Load<T> {
        &self.view.0
    }
}

impl<T> Query<T> {
    /// Shows `value` until the next read (a command answers with the resource as it now is).
    pub fn set(&self, value: T) {
        self.view.dispatch(Answer {
            result: Ok(value),
            keep_on_failure: false,
        });
    }

    /// A write made here reached `token`: read again now, and from now on, at least that far.
    pub fn read_after(&self, token: String) {
        self.after.emit(token);
    }
}

/// The view of a query; it changes as answers come.
struct View<T>(Load<T>);

impl<T> View<T> {
    fn loading() -> Self {
        View(Load::Loading)
    }
}

struct Answer<T> {
    result: Result<T, ApiError>,
    keep_on_failure: bool,
}

impl<T> Reducible for View<T> {
    type Action = Answer<T>;

    fn reduce(self: Rc<Self>, answer: Answer<T>) -> Rc<Self> {
        match answer.result {
            Ok(value) => Rc::new(View(Load::Ready(value))),
            Err(_) if answer.keep_on_failure && matches!(self.0, Load::Ready(_)) => self,
            Err(error) => Rc::new(View(Load::Failed(error))),
        }
    }
}

/// A read whose answer is not applied yet: applying it shows the answer (or the error).
pub type Read = LocalBoxFuture<'static, Box<dyn FnOnce()>>;

/// Reads with `fetch(key, consistency)` on first render and whenever `key` changes, on
/// reload, and as `refresh` says. `consistency` is the token to read at least as far as
/// (`?after=`), if any. An error is shown as `Failed` and reported to
/// [`AppContext::check`](crate::infra::app_state::AppContext::check) (an ended session signs
/// out). The `fetch` of the render that starts a read is the one used.
#[hook]
pub fn use_query<K, T, F, Fut>(refresh: Refresh<T>, key: K, fetch: F) -> Query<T>
where
    K: PartialEq + Clone + 'static,
    T: 'static,
    F: Fn(&K, Option<String>) -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    // Each key gets its own number, so that what follows depends on `T` alone (one copy of
    // it per answer type, not one per query).
    let number = *use_memo(key.clone(), key_number);
    let fetch: Fetch<T> = Rc::new(move |consistency| Box::pin(fetch(&key, consistency)));
    use_query_of(refresh, number, fetch)
}

/// A query's `fetch` with its key, its future boxed.
type Fetch<T> = Rc<dyn Fn(Option<String>) -> LocalBoxFuture<'static, Result<T, ApiError>>>;

/// [`use_query`] once the key and the fetch's types are out of the way.
#[hook]
fn use_query_of<T: 'static>(refresh: Refresh<T>, key: u64, fetch: Fetch<T>) -> Query<T> {
    let app = use_app();
    let view = use_reducer(View::<T>::loading);
    let keep_on_failure = refresh.keep_on_failure;
    let read: Rc<dyn Fn(Option<String>) -> Read> = {
        let view = view.dispatcher();
        Rc::new(move |consistency| {
            let (view, app) = (view.clone(), app.clone());
            let answer = fetch(consistency);
            Box::pin(async move {
                let result = answer.await;
                Box::new(move || {
                    if let Err(error) = &result {
                        app.check(error);
                    }
                    view.dispatch(Answer {
                        result,
                        keep_on_failure,
                    });
                }) as Box<dyn FnOnce()>
            })
        })
    };
    let polling = match (refresh.poll_while, &view.0) {
        (None, _) => true,
        (Some(polling), Load::Ready(value)) => polling(value),
        (Some(_), _) => false,
    };
    let reads = Reads {
        feed: refresh.feed,
        every_ms: refresh.every_ms.filter(|_| polling),
        after: refresh.after,
        key,
    };
    let (reload, after) = use_reads(reads, read);
    Query {
        view,
        reload,
        after,
    }
}

/// A new number for a query's key (whatever the key's value).
fn key_number<K>(_: &K) -> u64 {
    next_key()
}

fn next_key() -> u64 {
    thread_local! {
        static KEYS: Cell<u64> = const { Cell::new(0) };
    }
    KEYS.with(|keys| {
        keys.set(keys.get() + 1);
        keys.get()
    })
}

/// What [`use_reads`] needs to know of a query.
struct Reads {
    feed: Option<Feed>,
    every_ms: Option<u32>,
    after: Option<String>,
    /// The number of the query's current key.
    key: u64,
}

/// When [`use_query`] reads, and at which consistency: the part that does not depend on what
/// is read. Answers the reload and read-after callbacks.
#[hook]
fn use_reads(
    reads: Reads,
    read: Rc<dyn Fn(Option<String>) -> Read>,
) -> (Callback<()>, Callback<String>) {
    let Reads {
        feed,
        every_ms,
        after,
        key,
    } = reads;
    let app = use_app();
    let reloads = use_state(|| 0u32);
    let after = use_state(|| after);
    let moved = feed
        .map(|feed| app.live.of(feed).clone())
        .unwrap_or_default();
    let consistency = latest(moved.consistency, (*after).clone());

    {
        let read = read.clone();
        use_effect_with(
            (key, moved.tick, *reloads, consistency.clone()),
            move |(_, _, _, consistency)| {
                let read = read(consistency.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let apply = read.await;
                    apply();
                });
            },
        );
    }

    use_effect_with(
        (every_ms, key, consistency),
        move |(every_ms, _, consistency)| {
            let consistency = consistency.clone();
            let polling = every_ms.map(|ms| poll(ms, move || read(consistency.clone())));
            move || drop(polling)
        },
    );

    let reload = {
        let reloads = reloads.clone();
        Callback::from(move |_| reloads.set(*reloads + 1))
    };
    let read_after = Callback::from(move |token: String| {
        after.set(latest((*after).clone(), Some(token)));
        reloads.set(*reloads + 1);
    });
    (reload, read_after)
}

/// Reading again and again: stops when dropped.
pub struct Polling {
    alive: Rc<Cell<bool>>,
    _interval: Interval,
}

impl Drop for Polling {
    fn drop(&mut self) {
        self.alive.set(false);
    }
}

/// Starts `read` every `ms` milliseconds until the answer is dropped. A turn is skipped while
/// the last read runs, and a read that ends after polling stopped is not applied.
pub fn poll(ms: u32, read: impl Fn() -> Read + 'static) -> Polling {
    let alive = Rc::new(Cell::new(true));
    let in_flight = Rc::new(Cell::new(false));
    let interval = {
        let alive = alive.clone();
        Interval::new(ms, move || {
            if in_flight.replace(true) {
                return;
            }
            let read = read();
            let (alive, in_flight) = (alive.clone(), in_flight.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let apply = read.await;
                in_flight.set(false);
                if alive.get() {
                    apply();
                }
            });
        })
    };
    Polling {
        alive,
        _interval: interval,
    }
}

/// One "Try again" for views made of several queries.
pub fn reload_all<const N: usize>(reloads: [Callback<()>; N]) -> Callback<()> {
    Callback::from(move |_| {
        for reload in &reloads {
            reload.emit(());
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn error() -> ApiError {
        crate::api::error_from(503, "")
    }

    fn answer(view: Load<u8>, result: Result<u8, ApiError>, keep_on_failure: bool) -> Load<u8> {
        let next = Rc::new(View(view)).reduce(Answer {
            result,
            keep_on_failure,
        });
        Rc::try_unwrap(next).ok().map(|view| view.0).unwrap()
    }

    #[wasm_bindgen_test]
    fn answers_replace_the_view_unless_a_failure_may_keep_what_was_read() {
        let table = [
            (Load::Loading, Ok(1), false, Load::Ready(1)),
            (Load::Ready(1), Ok(2), true, Load::Ready(2)),
            (Load::Loading, Err(error()), true, Load::Failed(error())),
            (Load::Ready(1), Err(error()), false, Load::Failed(error())),
            (Load::Ready(1), Err(error()), true, Load::Ready(1)),
            (Load::Failed(error()), Ok(3), true, Load::Ready(3)),
        ];
        for (before, result, keep, after) in table {
            let row = format!("{before:?} + {result:?} (keep: {keep})");
            assert_eq!(answer(before, result, keep), after, "{row}");
        }
    }

    thread_local! {
        static READS: Cell<u8> = const { Cell::new(0) };
    }

    #[component]
    fn Counter() -> Html {
        let reads = use_query(Refresh::never(), (), |_, consistency| async move {
            assert_eq!(consistency, None);
            READS.with(|reads| reads.set(reads.get() + 1));
            Ok(READS.with(Cell::get))
        });
        html! {
            <button onclick={reads.reload.reform(|_| ())}>
                { match &*reads {
                    Load::Loading => "loading".to_string(),
                    Load::Ready(n) => format!("read {n}"),
                    Load::Failed(error) => error.to_string(),
                } }
            </button>
        }
    }

    #[component]
    fn Host() -> Html {
        let context = crate::test_support::checking_context();
        html! {
            <ContextProvider<crate::infra::app_state::AppContext> {context}>
                <Counter />
            </ContextProvider<crate::infra::app_state::AppContext>>
        }
    }

    #[wasm_bindgen_test]
    async fn a_query_reads_on_mount_and_again_on_reload() {
        use wasm_bindgen::JsCast;
        let root = crate::test_support::mount::<Host>(()).await;
        let button = root.query_selector("button").unwrap().unwrap();
        crate::test_support::until("the first read", || {
            button.text_content().unwrap() != "loading"
        })
        .await;
        assert_eq!(button.text_content().unwrap(), "read 1");
        button.unchecked_ref::<web_sys::HtmlElement>().click();
        crate::test_support::until("the reload read again", || {
            button.text_content().unwrap() != "read 1"
        })
        .await;
        assert_eq!(button.text_content().unwrap(), "read 2");
    }
}
