//! The bus contract suite on the NATS adapter, against the nats-server at
//! `HUBBUB_TEST_NATS_URL` (default `nats://127.0.0.1:4222`).

mod contract;
mod outage;
mod presence;
