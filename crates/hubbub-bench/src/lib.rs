//! `hubbub-bench`: a load generator for Hubbub's public API and the floor server it is
//! measured against. See `docs/PERFORMANCE.md` ("Server benchmarks") for how to run it.

pub mod bench;
pub mod charts;
pub mod client;
pub mod doc;
pub mod floor;
pub mod pacing;
pub mod report;
pub mod scenarios;
pub mod search;
pub mod server;
pub mod stamp;
pub mod stats;
pub mod sys;
