//! The queue's components: a move as a card, and the dialogs that decide on it.

pub mod dialogs;
pub mod queue_card;
