//! The agents' pages: every agent with a Run button, all runs (filtered), and one run.

pub mod agents;
pub mod run;
pub mod runs;
