//! Helpers shared by the tests that run CaseyOS as a real process or drive a browser.

pub mod process;
pub mod providers;
pub mod webdriver;
