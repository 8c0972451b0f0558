//! The queue's components: a move as a card, the dialogs that decide on it, and the "N
//! more" line under a list read a page at a time.

pub mod dialogs;
pub mod load_more;
pub mod queue_card;
