//! Hooks shared by pages and components: reading from the API ([`use_query`], with [`poll`]
//! for reading again on a timer), a dialog that sends a request ([`use_dialog`]), and a list
//! page's filters in the URL ([`use_filters`]).

mod action;
mod dialog;
mod filters;
mod query;

pub use action::{ask, confirm, use_action, Action};
pub use dialog::{use_dialog, DialogHandle};
pub use filters::{use_filters, Filters};
pub use query::{poll, reload_all, use_query, Query, Refresh};
