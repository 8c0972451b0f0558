//! A dialog that sends a request: which one is open, and its buttons busy while the request
//! runs. On success the dialog closes and the page gets the answer; otherwise the error shows
//! in the dialog (and an ended session signs out).

use std::future::Future;

use futures::future::LocalBoxFuture;
use yew::prelude::*;

use crate::api::ApiError;
use crate::infra::app_state::{use_app, AppContext};

/// The dialog open on a page (`D` says which, and for what), with its request's state.
pub struct DialogHandle<D: 'static> {
    open: UseStateHandle<Option<D>>,
    busy: UseStateHandle<bool>,
    error: UseStateHandle<Option<ApiError>>,
    app: AppContext,
}

impl<D> Clone for DialogHandle<D> {
    fn clone(&self) -> Self {
        DialogHandle {
            open: self.open.clone(),
            busy: self.busy.clone(),
            error: self.error.clone(),
            app: self.app.clone(),
        }
    }
}

#[hook]
pub fn use_dialog<D: 'static>() -> DialogHandle<D> {
    DialogHandle {
        open: use_state(Option::default),
        busy: use_state(bool::default),
        error: use_state(Option::default),
        app: use_app(),
    }
}

impl<D> DialogHandle<D> {
    /// The open dialog, if any.
    pub fn shown(&self) -> Option<&D> {
        self.open.as_ref()
    }

    pub fn show(&self, dialog: D) {
        self.open.set(Some(dialog));
    }

    /// A callback that opens `dialog`.
    pub fn opener<E>(&self, dialog: D) -> Callback<E>
    where
        D: Clone,
    {
        let open = self.open.clone();
        Callback::from(move |_| open.set(Some(dialog.clone())))
    }

    /// Whether its request is running.
    pub fn busy(&self) -> bool {
        *self.busy
    }

    /// What went wrong with its last request.
    pub fn error(&self) -> Option<ApiError> {
        (*self.error).clone()
    }

    /// Closes it (Cancel, Escape, the backdrop), forgetting any error.
    pub fn close(&self) -> Callback<()> {
        let (open, busy, error) = (self.open.clone(), self.busy.clone(), self.error.clone());
        Callback::from(move |_| {
            open.set(None);
            busy.set(false);
            error.set(None);
        })
    }

    /// Sends its request: the buttons are busy meanwhile; on success the dialog closes and
    /// `done` gets the answer.
    pub fn run<T: 'static>(
        &self,
        request: impl Future<Output = Result<T, ApiError>> + 'static,
        done: impl FnOnce(T) + 'static,
    ) {
        send(
            self.busy.clone(),
            self.error.clone(),
            self.close(),
            self.app.clone(),
            answered(Box::pin(request), Box::new(done)),
        );
    }
}

/// `request`, whose answer goes to `done`: one copy per answer type, not one per request.
fn answered<T: 'static>(
    request: LocalBoxFuture<'static, Result<T, ApiError>>,
    done: Box<dyn FnOnce(T)>,
) -> LocalBoxFuture<'static, Result<Box<dyn FnOnce()>, ApiError>> {
    Box::pin(async move {
        request
            .await
            .map(|answer| Box::new(move || done(answer)) as Box<dyn FnOnce()>)
    })
}

/// [`DialogHandle::run`] once the answer's type is out of the way.
fn send(
    busy: UseStateHandle<bool>,
    error: UseStateHandle<Option<ApiError>>,
    close: Callback<()>,
    app: AppContext,
    request: LocalBoxFuture<'static, Result<Box<dyn FnOnce()>, ApiError>>,
) {
    busy.set(true);
    error.set(None);
    wasm_bindgen_futures::spawn_local(async move {
        match request.await {
            Ok(done) => {
                close.emit(());
                done();
            }
            Err(e) => {
                app.check(&e);
                busy.set(false);
                error.set(Some(e));
            }
        }
    });
}
