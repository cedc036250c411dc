//! For tests of every crate that need a real PostgreSQL: a database of their own, created
//! on the server at `HUBBUB_TEST_POSTGRES` (default: the local one, user postgres, trust
//! auth) and dropped when the guard is, passing or failing.

use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// The PostgreSQL server tests use, as a URL without a database.
pub fn postgres_server() -> String {
    std::env::var("HUBBUB_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// Whether the tests of this run use PostgreSQL where they can (`HUBBUB_TEST_DATABASE=postgres`;
/// SQLite otherwise), so one suite runs on both backends.
pub fn postgres_selected() -> bool {
    std::env::var("HUBBUB_TEST_DATABASE").is_ok_and(|value| value == "postgres")
}

/// A database of its own; `url` opens it.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// Creates `hubbub_<purpose>_<uuid>`. Panics when the server is out of reach: a test
    /// that needs PostgreSQL cannot pass without it.
    pub async fn create(purpose: &str) -> TestDatabase {
        let name = format!("hubbub_{purpose}_{}", uuid::Uuid::now_v7().simple());
        let admin_url = format!("{}/postgres", postgres_server());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {admin_url} (set HUBBUB_TEST_POSTGRES): {e}"));
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        TestDatabase { url: format!("{}/{name}", postgres_server()), name }
    }

    /// `create` for code that is not async (or must not block its runtime).
    pub fn create_blocking(purpose: &str) -> TestDatabase {
        let purpose = purpose.to_owned();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(TestDatabase::create(&purpose))
        })
        .join()
        .expect("creating the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run inside a runtime, which cannot be blocked on: a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&format!("{}/postgres", postgres_server())).await {
                    // FORCE: a store's pool (and writes still on their tasks) may hold
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
