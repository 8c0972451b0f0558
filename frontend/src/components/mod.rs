pub mod dialogs;
pub mod layout;
pub mod modal;
pub mod palette;
pub mod queue_card;
pub mod status;
