//! Store contract tests. Every test is written against the `Store` port, and the
//! `contract_tests!` macro instantiates the whole suite for each backend: SQLite, and
//! PostgreSQL (a fresh database per test on the server at `HUBBUB_TEST_POSTGRES`).

mod contract;
mod migrate;
mod migrations;

use hubbub_app::ports::Store;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
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

/// The PostgreSQL server the tests use: `HUBBUB_TEST_POSTGRES` (a server URL without a
/// database), by default the local one with trust auth.
fn postgres_server() -> String {
    std::env::var("HUBBUB_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// A database of its own, dropped when the test ends, passing or failing.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create(purpose: &str) -> TestDb {
        let name = format!("hubbub_{purpose}_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::connect(&format!("{}/postgres", postgres_server())).await.unwrap();
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
        TestDb { url: format!("{}/{name}", postgres_server()), name }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&format!("{}/postgres", postgres_server())).await {
                    // FORCE: the store's pool (and writes still on their tasks) may hold
                    // connections to it.
                    let _ = sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}
