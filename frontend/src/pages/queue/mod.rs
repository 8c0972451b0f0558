//! The queue's pages: Today's Moves, the Queue (every move, filtered), and one move with its
//! history.

pub mod item;
pub mod list;
pub mod today;
mod today_state;
