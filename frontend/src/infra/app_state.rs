//! App-wide state, shared through context: who is signed in, and where the read models are
//! (the live ticks that tell views a read model moved).

use caseyos_domain::api::{Role, SessionResponse};
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

impl From<SessionResponse> for Session {
    fn from(response: SessionResponse) -> Self {
        crate::api::set_csrf(&response.csrf_token);
        Session {
            user: response.user,
            role: response.role,
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
