//! A button's request outside a dialog: busy while it runs, its error kept to show, and the
//! answer (JSON) handed on. One copy for every such button (the futures are boxed).

use std::future::Future;

use futures::future::LocalBoxFuture;
use serde_json::Value;
use yew::prelude::*;

use crate::api::ApiError;
use crate::infra::app_state::{use_app, AppContext};

/// The state of a page's (or panel's) buttons that send requests.
#[derive(Clone, PartialEq)]
pub struct Action {
    pub busy: UseStateHandle<bool>,
    pub error: UseStateHandle<Option<ApiError>>,
    app: AppContext,
}

#[hook]
pub fn use_action() -> Action {
    Action {
        busy: use_state(bool::default),
        error: use_state(Option::default),
        app: use_app(),
    }
}

impl Action {
    /// Runs `request` (the buttons busy meanwhile); its answer goes to `done`, its error is
    /// kept to show (and an ended session signs out).
    pub fn run(
        &self,
        request: impl Future<Output = Result<Value, ApiError>> + 'static,
        done: impl FnOnce(Value) + 'static,
    ) {
        self.start(Box::pin(request), Box::new(done));
    }

    fn start(
        &self,
        request: LocalBoxFuture<'static, Result<Value, ApiError>>,
        done: Box<dyn FnOnce(Value)>,
    ) {
        let this = self.clone();
        this.busy.set(true);
        this.error.set(None);
        wasm_bindgen_futures::spawn_local(async move {
            let answer = request.await;
            this.busy.set(false);
            match answer {
                Ok(value) => done(value),
                Err(error) => {
                    this.app.check(&error);
                    this.error.set(Some(error));
                }
            }
        });
    }
}

/// Asks the browser's confirmation (`question`, OK or Cancel); no window is a no.
pub fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(false)
}

/// Asks for a line of text (`question`); `None` when cancelled.
pub fn ask(question: &str) -> Option<String> {
    web_sys::window()?.prompt_with_message(question).ok()?
}
