//! App-wide state, shared through context: who is signed in, and where the read models are
//! (the live ticks that tell views a read model moved).

use caseyos_domain::api::Role;
use serde_json::Value;
use yew::prelude::*;

use super::live::Live;
use crate::api::ApiError;

#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub user: String,
    pub role: Role,
}

impl Session {
    /// Viewers read; operators and admins decide.
    pub fn can_decide(&self) -> bool {
        self.role >= Role::Operator
    }
}

/// A session as the server answers it (`{user, role, csrf_token, expires_at}`, read as
/// JSON): remembers its CSRF token. An unknown role reads as a viewer's (the least).
impl From<Value> for Session {
    fn from(response: Value) -> Self {
        let text = |key: &str| {
            response
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        crate::api::set_csrf(text("csrf_token"));
        Session {
            user: text("user").to_string(),
            role: match text("role") {
                "admin" => Role::Admin,
                "operator" => Role::Operator,
                _ => Role::Viewer,
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Auth {
    /// Asking the server whether the browser has a session.
    Checking,
    SignedIn(Session),
    /// `expired` when a session ended while in use (the sign-in page says so).
    SignedOut {
        expired: bool,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct AppContext {
    pub auth: Auth,
    pub set_auth: Callback<Auth>,
    pub live: Live,
}

impl AppContext {
    pub fn session(&self) -> Option<&Session> {
        match &self.auth {
            Auth::SignedIn(session) => Some(session),
            _ => None,
        }
    }

    /// Every page reports API errors here: an ended session sends the user to sign in (and
    /// back afterwards); anything else stays with the page to show.
    pub fn check(&self, error: &ApiError) {
        if error.needs_sign_in() {
            self.set_auth.emit(Auth::SignedOut { expired: true });
        }
    }
}

#[hook]
pub fn use_app() -> AppContext {
    use_context::<AppContext>().expect("AppContext is provided at the root")
}
