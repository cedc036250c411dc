//! A real three-node cluster behind haproxy (see `harness.rs`), driven only through the
//! load balancer: cross-node realtime (`tests.rs`) and failures of a node or of NATS
//! (`faults.rs`).

mod client;
mod faults;
mod harness;
// The same haproxy configuration as `cargo xtask cluster`.
#[path = "../../../../../xtask/src/haproxy.rs"]
mod haproxy;
mod tests;
