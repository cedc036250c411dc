//! Store contract tests. Every test is written against the `Store` port, and the
//! `contract_tests!` macro instantiates the whole suite for each backend: SQLite, and
//! PostgreSQL (a fresh database per test on the server at `HUBBUB_TEST_POSTGRES`).

mod contract;
mod migrate;
mod migrations;
mod postgres;
mod unknown_values;

use hubbub_app::ports::Store;
pub use hubbub_store::testing::TestDatabase as TestDb;
use std::sync::Arc;

/// A fresh SQLite store in its own temporary directory (kept alive by the returned guard).
pub async fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = hubbub_store::open(&dir.path().join("contract.db").to_string_lossy(), hubbub_store::Durability::Normal)
        .await
        .unwrap();
    (store, dir)
}

/// A fresh PostgreSQL store in a database of its own (dropped by the returned guard).
pub async fn postgres() -> (Arc<dyn Store>, TestDb) {
    let db = TestDb::create("contract").await;
    let store = hubbub_store::open(&db.url, hubbub_store::Durability::Normal).await.unwrap();
    (store, db)
}

contract_tests!(sqlite_contract, crate::sqlite);
contract_tests!(postgres_contract, crate::postgres);
