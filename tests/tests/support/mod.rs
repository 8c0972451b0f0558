//! Helpers shared by the tests that run CaseyOS as a real process.
//!
//! Each test file includes this module and uses only part of it.
#![allow(dead_code)]

pub mod process;
pub mod webdriver;
