//! The single SQLite writer, with group commit.
//!
//! SQLite allows one writer at a time; several connections taking turns would only queue on
//! the database lock (and time out under load). So every write goes to one task, which takes
//! every job that is waiting (up to `MAX_BATCH`) and runs them inside as few transactions as
//! it can, each job within its own savepoint, then commits. Under load this turns N fsyncs
//! into one, so throughput grows with concurrency instead of collapsing at one fsync per
//! message.
//!
//! Why savepoints: jobs are independent use cases. A job that fails (a unique violation, a
//! missing row) rolls back to its savepoint and reports its error, and the others in the
//! batch still commit. Why results wait for COMMIT: a caller must never learn of (or
//! publish) a change that might still be rolled back, so every job's result is held until
//! its transaction is durable, and if COMMIT fails every job in it gets the error.
//!
//! Two connections, one writer. Most jobs are written against sqlx, which runs its
//! connection on a worker thread and pays a cross-thread round trip (a futex wake and a
//! sleep on each side) for every statement. On the hot writes (sending a message, moving
//! read marks, last seen) that round trip was most of the server's CPU, so those jobs are
//! *direct*: plain synchronous code on a `rusqlite` connection with cached prepared
//! statements, run on tokio's blocking pool, one hand-off per run of jobs instead of one per
//! statement. Both connections belong to this one task and are never in a transaction at
//! the same time: a batch is cut into runs of consecutive jobs of the same kind, each run is
//! one transaction, and a run commits before the next begins. So there is still exactly one
//! writer, jobs still run (and their events still go out) in arrival order, and neither
//! connection ever waits on the other's lock.

use futures::future::BoxFuture;
use hubbub_app::ports::{Committed, StoreError, StoreResult};
use sqlx::SqliteConnection;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{Notify, mpsc, oneshot};

use super::Durability;

/// Most jobs in one transaction: enough to amortise the fsync, few enough that one
/// transaction never holds the write lock for long.
const MAX_BATCH: usize = 256;
const QUEUE_DEPTH: usize = 4096;

pub(crate) use crate::common::Commits;

/// One queued write: runs inside its run's transaction and is told that transaction's fate.
trait Job: Send {
    /// The events this job committed (called only after COMMIT succeeded).
    fn commits(&self, out: &mut Vec<Committed>);
    /// True for jobs that run on the direct (rusqlite) connection.
    fn is_direct(&self) -> bool;
    /// Runs a sqlx job's statements; true when they succeeded and should be kept.
    fn run<'c>(&'c mut self, conn: &'c mut SqliteConnection) -> BoxFuture<'c, bool>;
    /// Runs a direct job's statements; true when they succeeded and should be kept.
    fn run_direct(&mut self, conn: &rusqlite::Connection) -> bool;
    /// Delivers the job's result once its transaction has committed (or failed to).
    fn finish(self: Box<Self>, commit: Result<(), String>);
}

struct TypedJob<T, F> {
    work: Option<F>,
    result: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Commits + Send + 'static,
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
{
    fn commits(&self, out: &mut Vec<Committed>) {
        result_commits(&self.result, out);
    }

    fn is_direct(&self) -> bool {
        false
    }

    fn run<'c>(&'c mut self, conn: &'c mut SqliteConnection) -> BoxFuture<'c, bool> {
        let work = self.work.take().expect("a job runs once");
        Box::pin(async move {
            let result = work(conn).await;
            let ok = result.is_ok();
            self.result = Some(result);
            ok
        })
    }

    fn run_direct(&mut self, _conn: &rusqlite::Connection) -> bool {
        unreachable!("the writer runs sqlx jobs on the sqlx connection")
    }

    fn finish(self: Box<Self>, commit: Result<(), String>) {
        deliver(self.reply, self.result, commit);
    }
}

struct DirectJob<T, F> {
    work: Option<F>,
    result: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Job for DirectJob<T, F>
where
    T: Commits + Send + 'static,
    F: FnOnce(&rusqlite::Connection) -> StoreResult<T> + Send + 'static,
{
    fn commits(&self, out: &mut Vec<Committed>) {
        result_commits(&self.result, out);
    }

    fn is_direct(&self) -> bool {
        true
    }

    fn run<'c>(&'c mut self, _conn: &'c mut SqliteConnection) -> BoxFuture<'c, bool> {
        unreachable!("the writer runs direct jobs on the direct connection")
    }

    fn run_direct(&mut self, conn: &rusqlite::Connection) -> bool {
        let work = self.work.take().expect("a job runs once");
        let result = work(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, commit: Result<(), String>) {
        deliver(self.reply, self.result, commit);
    }
}

fn result_commits<T: Commits>(result: &Option<StoreResult<T>>, out: &mut Vec<Committed>) {
    if let Some(Ok(value)) = result {
        value.commits(out);
    }
}

fn deliver<T>(reply: oneshot::Sender<StoreResult<T>>, result: Option<StoreResult<T>>, commit: Result<(), String>) {
    let outcome = match (commit, result) {
        (Ok(()), Some(result)) => result,
        // The job's own error stands even when the transaction failed: it was rolled back anyway.
        (Err(_), Some(Err(error))) => Err(error),
        (Err(why), _) => Err(StoreError::Unavailable(why)),
        (Ok(()), None) => Err(StoreError::Unavailable("write was not run".into())),
    };
    // The caller may have gone away (request cancelled); the write stands regardless.
    let _ = reply.send(outcome);
}

#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

/// Where committed events go, in the order their transactions committed.
pub(crate) type CommitFeed = hubbub_app::commit_feed::CommitSink;

impl Writer {
    /// `commits` is signalled after every commit (the checkpointer waits for it).
    pub(crate) fn start(
        conn: SqliteConnection,
        direct: DirectConnection,
        feed: CommitFeed,
        commits: Arc<Notify>,
    ) -> Writer {
        let (jobs, receiver) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(run(conn, direct, receiver, feed, commits));
        Writer { jobs }
    }

    /// Queues `work` (sqlx) and waits until the transaction it ran in has committed.
    pub(crate) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Commits + Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.submit(Box::new(TypedJob { work: Some(work), result: None, reply }), answer).await
    }

    /// Queues `work` for the direct connection and waits until its transaction has committed.
    /// `work` is synchronous and must not block on anything but SQLite.
    pub(crate) async fn write_direct<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Commits + Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.submit(Box::new(DirectJob { work: Some(work), result: None, reply }), answer).await
    }

    async fn submit<T>(&self, job: Box<dyn Job>, answer: oneshot::Receiver<StoreResult<T>>) -> StoreResult<T> {
        let stopped = || StoreError::Unavailable("the database writer has stopped".into());
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writer's rusqlite connection, with what it takes to open it again.
pub(crate) struct DirectConnection {
    conn: rusqlite::Connection,
    path: PathBuf,
    durability: Durability,
}

impl DirectConnection {
    /// Opens the read-write rusqlite connection (after migrations have run). The pragmas are
    /// the ones the sqlx connection gets, so both see the database the same way.
    pub(crate) fn open(path: PathBuf, durability: Durability) -> rusqlite::Result<DirectConnection> {
        let conn = rusqlite::Connection::open(&path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(
            None,
            "synchronous",
            match durability {
                Durability::Normal => "NORMAL",
                Durability::Full => "FULL",
            },
        )?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Checkpoints are the checkpointer's job (`checkpoint.rs`), never a commit's.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // Every statement of the direct jobs stays prepared; there are a few dozen.
        conn.set_prepared_statement_cache_capacity(128);
        Ok(DirectConnection { conn, path, durability })
    }
}

async fn run(
    mut conn: SqliteConnection,
    direct: DirectConnection,
    mut receiver: mpsc::Receiver<Box<dyn Job>>,
    feed: CommitFeed,
    commits: Arc<Notify>,
) {
    let mut direct = Some(direct);
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    let mut committed = Vec::new();
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Cut the batch into runs of consecutive jobs for the same connection, keeping
        // arrival order; each run is one transaction and commits before the next starts.
        let mut rest = std::mem::take(&mut batch);
        while !rest.is_empty() {
            let is_direct = rest[0].is_direct();
            let len = rest.iter().take_while(|job| job.is_direct() == is_direct).count();
            let after = rest.split_off(len);
            let mut jobs = std::mem::replace(&mut rest, after);
            let commit = if is_direct {
                let (back, done, commit) = run_direct(direct.take(), jobs).await;
                direct = back;
                jobs = done;
                commit
            } else {
                run_batch(&mut conn, &mut jobs).await
            };
            match &commit {
                // The run is durable: its events go out now, in the order the jobs ran, which
                // is the order their seqs were taken. This single hand-off point is what keeps
                // every socket's view of a conversation in seq order.
                Ok(()) => {
                    for job in &jobs {
                        job.commits(&mut committed);
                    }
                    for event in committed.drain(..) {
                        feed.push(event).await;
                    }
                    commits.notify_one();
                }
                Err(why) => tracing::error!(error = %why, jobs = jobs.len(), "write batch failed"),
            }
            for job in jobs.drain(..) {
                job.finish(commit.clone());
            }
        }
    }
}

/// Runs a run of direct jobs on the blocking pool, so SQLite's work (and, with
/// `synchronous=FULL`, its fsync) never holds up the async runtime. The connection travels
/// with the jobs and comes back with them; if a job panicked, the connection went down with
/// it and a new one is opened for the next run.
async fn run_direct(
    direct: Option<DirectConnection>,
    jobs: Vec<Box<dyn Job>>,
) -> (Option<DirectConnection>, Vec<Box<dyn Job>>, Result<(), String>) {
    let Some(direct) = direct else {
        return (None, jobs, Err("the direct database connection is unavailable".into()));
    };
    let (path, durability) = (direct.path.clone(), direct.durability);
    let outcome = tokio::task::spawn_blocking(move || {
        let mut jobs = jobs;
        let commit = run_direct_batch(&direct.conn, &mut jobs);
        (direct, jobs, commit)
    })
    .await;
    match outcome {
        Ok((direct, jobs, commit)) => (Some(direct), jobs, commit),
        Err(panic) => {
            // The jobs (and their reply channels) were dropped with the panicking task: their
            // callers see "writer has stopped" and the transaction was never committed.
            tracing::error!(error = %panic, "a direct write panicked; reopening the connection");
            let reopened = DirectConnection::open(path, durability)
                .map_err(|error| tracing::error!(%error, "cannot reopen the direct database connection"))
                .ok();
            (reopened, Vec::new(), Err("a write panicked".into()))
        }
    }
}

/// The direct twin of `run_batch`: the same transaction and savepoint discipline.
fn run_direct_batch(conn: &rusqlite::Connection, batch: &mut [Box<dyn Job>]) -> Result<(), String> {
    let exec = |sql: &str| -> Result<(), String> {
        conn.prepare_cached(sql).and_then(|mut statement| statement.execute([])).map(|_| ()).map_err(|e| e.to_string())
    };
    exec("BEGIN IMMEDIATE")?;
    let alone = batch.len() == 1;
    for job in batch.iter_mut() {
        if alone {
            if !job.run_direct(conn) {
                exec("ROLLBACK")?;
                return Ok(());
            }
            continue;
        }
        if let Err(why) = exec("SAVEPOINT job") {
            let _ = exec("ROLLBACK");
            return Err(why);
        }
        let kept = job.run_direct(conn);
        let end = if kept { exec("RELEASE job") } else { exec("ROLLBACK TO job").and_then(|()| exec("RELEASE job")) };
        if let Err(why) = end {
            let _ = exec("ROLLBACK");
            return Err(why);
        }
    }
    if let Err(why) = exec("COMMIT") {
        let _ = exec("ROLLBACK");
        return Err(why);
    }
    Ok(())
}

async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> Result<(), String> {
    sqlx::query(sql).execute(&mut *conn).await.map(|_| ()).map_err(|e| e.to_string())
}

async fn run_batch(conn: &mut SqliteConnection, batch: &mut [Box<dyn Job>]) -> Result<(), String> {
    exec(conn, "BEGIN IMMEDIATE").await?;
    // A lone job needs no savepoint: if it fails, the whole (one-job) transaction is undone.
    let alone = batch.len() == 1;
    for job in batch.iter_mut() {
        if alone {
            if !job.run(conn).await {
                exec(conn, "ROLLBACK").await?;
                return Ok(());
            }
            continue;
        }
        if let Err(why) = exec(conn, "SAVEPOINT job").await {
            let _ = exec(conn, "ROLLBACK").await;
            return Err(why);
        }
        let kept = job.run(conn).await;
        let end = if kept { exec(conn, "RELEASE job").await } else { rollback_to_savepoint(conn).await };
        if let Err(why) = end {
            let _ = exec(conn, "ROLLBACK").await;
            return Err(why);
        }
    }
    if let Err(why) = exec(conn, "COMMIT").await {
        let _ = exec(conn, "ROLLBACK").await;
        return Err(why);
    }
    Ok(())
}

async fn rollback_to_savepoint(conn: &mut SqliteConnection) -> Result<(), String> {
    exec(conn, "ROLLBACK TO job").await?;
    exec(conn, "RELEASE job").await
}
