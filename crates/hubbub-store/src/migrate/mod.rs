//! `hubbub migrate`: copies a SQLite database into PostgreSQL, every row as it is (ids, seqs,
//! UUIDs, session token hashes), so a community moves to a cluster with one command and
//! everyone stays logged in.
//!
//! Consistency on both sides:
//! - The source is opened read-only and read inside ONE read transaction, so the copy is a
//!   snapshot even if a server still writes to it (WAL readers see the database as of their
//!   first read). Rows committed after that are not copied: stop the server first.
//! - The target is written inside ONE transaction, after its schema migrations: the tables
//!   are locked, checked for data (refused unless `force`), emptied, filled in foreign-key
//!   order, their identity sequences moved past the largest id, and the row counts compared
//!   with the source's, all before COMMIT. Any failure rolls everything back: a fresh target
//!   stays empty, a forced one keeps what it had.

mod tables;

use std::path::{Path, PathBuf};
use tables::TABLES;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};

/// The SQLite schema this binary writes; a source with a version beyond it is refused.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Empty a target that already holds Hubbub data instead of refusing it.
    pub force: bool,
    /// Rows per INSERT (capped so a batch stays under PostgreSQL's parameter limit).
    pub batch_rows: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { force: false, batch_rows: 1000 }
    }
}

/// Where the copy stands, reported after each batch (and at the start of each table).
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub table: &'static str,
    pub copied: u64,
    pub total: u64,
}

/// One table's rows in the source snapshot and in the target, counted before COMMIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableCount {
    pub table: &'static str,
    pub source: u64,
    pub target: u64,
}

#[derive(Debug)]
pub struct Report {
    /// In copy order; every entry has `source == target` (otherwise the copy failed).
    pub tables: Vec<TableCount>,
}

impl Report {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.target).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("no SQLite database at {0}")]
    SourceMissing(PathBuf),
    #[error("cannot open the SQLite database {path}: {source}")]
    SourceOpen { path: PathBuf, source: sqlx::Error },
    #[error("{0} is not a Hubbub database (it has no migration history)")]
    SourceNotHubbub(PathBuf),
    #[error(
        "the SQLite database has schema version {found}, newer than this binary knows (up to {known}); \
         migrate with the Hubbub release that wrote it"
    )]
    SourceTooNew { found: i64, known: i64 },
    #[error(
        "the SQLite database lacks schema migration(s) {missing:?}: start `hubbub serve` on it once with this \
         release (it upgrades the schema), stop it, and migrate again"
    )]
    SourceTooOld { missing: Vec<i64> },
    #[error("the SQLite database does not match the schema: {table}: {detail}")]
    SourceSchema { table: &'static str, detail: String },
    #[error("cannot read {table} from the SQLite database: {source}")]
    SourceRead { table: &'static str, source: sqlx::Error },
    #[error("{table} row {id}, column {column}: {detail}")]
    BadValue { table: &'static str, id: i64, column: &'static str, detail: String },
    #[error("cannot connect to PostgreSQL: {0}")]
    TargetConnect(#[source] sqlx::Error),
    #[error("cannot create the schema in PostgreSQL: {0}")]
    TargetSchema(#[source] sqlx::migrate::MigrateError),
    #[error(
        "the target database already holds Hubbub data ({users} users, {conversations} conversations, \
         {messages} messages); nothing was written (force replaces everything in it)"
    )]
    TargetNotEmpty { users: i64, conversations: i64, messages: i64 },
    #[error("cannot write {table} (the batch from id {first_id}) to PostgreSQL; nothing was written: {source}")]
    TargetWrite { table: &'static str, first_id: i64, source: sqlx::Error },
    #[error("PostgreSQL failed during the copy; nothing was written: {0}")]
    Target(#[source] sqlx::Error),
    #[error("row counts differ after the copy, so nothing was written: {}", describe(.0))]
    CountMismatch(Vec<TableCount>),
}

fn describe(counts: &[TableCount]) -> String {
    counts
        .iter()
        .map(|c| format!("{} {} in the source, {} copied", c.table, c.source, c.target))
        .collect::<Vec<_>>()
        .join("; ")
}

impl MigrateError {
    /// Stable machine code, for logs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            MigrateError::SourceMissing(_) => "migrate_source_missing",
            MigrateError::SourceOpen { .. } => "migrate_source_open_failed",
            MigrateError::SourceNotHubbub(_) => "migrate_source_not_hubbub",
            MigrateError::SourceTooNew { .. } => "migrate_source_schema_too_new",
            MigrateError::SourceTooOld { .. } => "migrate_source_schema_too_old",
            MigrateError::SourceSchema { .. } => "migrate_source_schema_mismatch",
            MigrateError::SourceRead { .. } => "migrate_source_read_failed",
            MigrateError::BadValue { .. } => "migrate_bad_value",
            MigrateError::TargetConnect(_) => "migrate_target_connect_failed",
            MigrateError::TargetSchema(_) => "migrate_target_schema_failed",
            MigrateError::TargetNotEmpty { .. } => "migrate_target_not_empty",
            MigrateError::TargetWrite { .. } => "migrate_target_write_failed",
            MigrateError::Target(_) => "migrate_target_failed",
            MigrateError::CountMismatch(_) => "migrate_count_mismatch",
        }
    }
}

/// The tables named in one statement, children first (for LOCK and TRUNCATE; `health` too,
/// which is emptied but not copied).
fn all_tables() -> String {
    let mut names: Vec<&str> = TABLES.iter().rev().map(|t| t.name).collect();
    names.push("health");
    names.join(", ")
}

/// Copies the SQLite database at `from` into the PostgreSQL database at `to` (see the
/// module's doc for what is guaranteed). `progress` hears after every batch.
pub async fn migrate(
    from: &Path,
    to: &str,
    options: Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, MigrateError> {
    if !from.is_file() {
        return Err(MigrateError::SourceMissing(from.to_owned()));
    }
    let source_options =
        SqliteConnectOptions::new().filename(from).read_only(true).busy_timeout(std::time::Duration::from_secs(10));
    let open_failed = |source| MigrateError::SourceOpen { path: from.to_owned(), source };
    let mut source = SqliteConnection::connect_with(&source_options).await.map_err(open_failed)?;
    // Deferred: the snapshot is taken at the first read below, and every later read of
    // this transaction sees that same state of the database.
    let mut snapshot = source.begin().await.map_err(open_failed)?;
    check_source_schema(&mut snapshot, from).await?;
    let mut plan = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let select = tables::select_list(&mut snapshot, table).await?;
        let count: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {}", table.name)))
            .fetch_one(&mut *snapshot)
            .await
            .map_err(|source| MigrateError::SourceRead { table: table.name, source })?;
        plan.push((table, select, count as u64));
    }

    let mut target = PgConnection::connect(to).await.map_err(MigrateError::TargetConnect)?;
    POSTGRES_MIGRATIONS.run(&mut target).await.map_err(MigrateError::TargetSchema)?;
    let mut tx = target.begin().await.map_err(MigrateError::Target)?;
    // Nothing else reads or writes these tables until COMMIT: the emptiness check below
    // stays true, and a server started on the target early waits instead of seeing half.
    sqlx::query(AssertSqlSafe(format!("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE", all_tables())))
        .execute(&mut *tx)
        .await
        .map_err(MigrateError::Target)?;
    let (users, conversations, messages): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM conversations), (SELECT COUNT(*) FROM messages)",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(MigrateError::Target)?;
    if users + conversations + messages > 0 && !options.force {
        return Err(MigrateError::TargetNotEmpty { users, conversations, messages });
    }
    // Also what an empty target holds: the default tenant its schema creates (the source has
    // its own), stray media records. In this transaction, so a failure restores them.
    sqlx::query(AssertSqlSafe(format!("TRUNCATE {}", all_tables())))
        .execute(&mut *tx)
        .await
        .map_err(MigrateError::Target)?;

    let batch = options.batch_rows.clamp(1, 65_000 / tables::MAX_COLUMNS);
    for (table, select, total) in &plan {
        let mut copied = 0u64;
        let mut after = i64::MIN;
        progress(Progress { table: table.name, copied, total: *total });
        loop {
            let rows = tables::read_batch(&mut snapshot, table, select, after, batch).await?;
            if rows.is_empty() {
                break;
            }
            after = tables::write_batch(&mut tx, table, &rows).await?;
            copied += rows.len() as u64;
            progress(Progress { table: table.name, copied, total: *total });
        }
    }

    let mut counts = Vec::with_capacity(plan.len());
    for (table, _, source_count) in &plan {
        // Without this the first row a PostgreSQL node inserts would take id 1 again.
        // An empty table's sequence starts over at 1 (is_called = false).
        let name = table.name;
        sqlx::query(AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {name}"
        )))
        .execute(&mut *tx)
        .await
        .map_err(MigrateError::Target)?;
        let target_count: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {name}")))
            .fetch_one(&mut *tx)
            .await
            .map_err(MigrateError::Target)?;
        counts.push(TableCount { table: name, source: *source_count, target: target_count as u64 });
    }
    let differing: Vec<TableCount> = counts.iter().copied().filter(|c| c.source != c.target).collect();
    if !differing.is_empty() {
        return Err(MigrateError::CountMismatch(differing));
    }
    tx.commit().await.map_err(MigrateError::Target)?;
    // The read transaction only ever read; ending it releases the snapshot.
    let _ = snapshot.rollback().await;
    Ok(Report { tables: counts })
}

/// Refuses a file that is not a Hubbub database, or whose schema is not exactly the one
/// this binary's tables describe (newer: unknown columns and rules; older: missing ones).
async fn check_source_schema(source: &mut SqliteConnection, path: &Path) -> Result<(), MigrateError> {
    let read_failed = |source| MigrateError::SourceRead { table: "_sqlx_migrations", source };
    let has_history: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(&mut *source)
    .await
    .map_err(read_failed)?;
    if !has_history {
        return Err(MigrateError::SourceNotHubbub(path.to_owned()));
    }
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(&mut *source)
        .await
        .map_err(read_failed)?;
    let known: Vec<i64> = SQLITE_MIGRATIONS.iter().map(|m| m.version).collect();
    let newest_known = known.iter().copied().max().unwrap_or(0);
    if let Some(found) = applied.iter().copied().find(|v| !known.contains(v)) {
        return Err(MigrateError::SourceTooNew {
            found: applied.iter().copied().max().unwrap_or(found),
            known: newest_known,
        });
    }
    let missing: Vec<i64> = known.iter().copied().filter(|v| !applied.contains(v)).collect();
    if !missing.is_empty() {
        return Err(MigrateError::SourceTooOld { missing });
    }
    Ok(())
}
