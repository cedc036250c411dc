//! Store contract tests. Every test is written against the `Store` port, and the
//! `contract_tests!` macro instantiates the whole suite for each backend, so a new adapter
//! (PostgreSQL) proves itself by adding one line.

mod contract;
mod migrate;
mod migrations;

use hubbub_app::ports::Store;
use std::sync::Arc;

/// A fresh SQLite store in its own temporary directory (kept alive by the returned guard).
pub async fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = hubbub_store::open(&dir.path().join("contract.db").to_string_lossy(), hubbub_store::Durability::Normal)
        .await
        .unwrap();
    (store, dir)
}

contract_tests!(sqlite_contract, crate::sqlite);
