//! The app's plumbing: who is signed in ([`app_state`]), the live event stream and
//! consistency tokens ([`live`]), the keyboard ([`keys`]), form fields ([`dom`]), light and
//! dark ([`theme`]), how times and numbers read ([`format`]), and which addresses stay on
//! this site ([`links`]).

pub mod app_state;
pub mod dom;
pub mod format;
pub mod keys;
pub mod links;
pub mod live;
pub mod theme;
