//! Storage adapters behind `hubbub_app::ports::Store`.
//!
//! SQL lives here and nowhere else. The SQLite adapter is the zero-configuration default;
//! the PostgreSQL adapter (for a cluster) is behind the same trait and passes the same contract tests
//! (`tests/it/contract/`, one file per area, with a check that every port method is
//! covered), which are written against the port, not against SQLite.

mod common;
pub mod migrate;
pub mod postgres;
mod rows;
mod search_sql;
pub mod sqlite;
pub mod testing;
mod view_rows;

pub use postgres::PgStore;
pub use sqlite::{Durability, SqliteStore};

use hubbub_app::ports::Store;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot open the database: {0}")]
    Direct(#[from] rusqlite::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?} (expected sqlite://PATH or postgres://...)")]
    UnsupportedUrl(String),
}

/// Picks the adapter from a database URL, once, at start-up. `sqlite://path/to/file.db`
/// (or a plain path) opens SQLite; `postgres://` (or `postgresql://`) opens PostgreSQL
/// (`durability` is SQLite's: PostgreSQL's is the server's `synchronous_commit`).
pub async fn open(url: &str, durability: Durability) -> Result<Arc<dyn Store>, OpenError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(PgStore::open(url).await?));
    }
    let path = if let Some(rest) = url.strip_prefix("sqlite://") {
        rest
    } else if url.contains("://") {
        return Err(OpenError::UnsupportedUrl(url.to_owned()));
    } else {
        url
    };
    Ok(Arc::new(SqliteStore::open(Path::new(path), durability).await?))
}
