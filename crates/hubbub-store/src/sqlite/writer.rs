//! The single SQLite writer, with group commit.
//!
//! SQLite allows one writer at a time; several connections taking turns would only queue on
//! the database lock (and time out under load). So every write goes to one task that owns
//! the only read-write connection. Writes are queued as jobs; when the task wakes it takes
//! every job that is waiting (up to `MAX_BATCH`) and runs them all inside one transaction,
//! each within its own savepoint, then commits once. Under load this turns N fsyncs into
//! one, so throughput grows with concurrency instead of collapsing at one fsync per message.
//!
//! Why savepoints: jobs are independent use cases. A job that fails (a unique violation, a
//! missing row) rolls back to its savepoint and reports its error, and the others in the
//! batch still commit. Why results wait for COMMIT: a caller must never learn of (or
//! publish) a change that might still be rolled back, so every job's result is held until
//! the whole batch is durable, and if COMMIT fails every job in the batch gets the error.
//!
//! sqlx runs each SQLite connection on its own worker thread, so the writer never blocks
//! the async runtime while SQLite works or fsyncs.

use futures::future::BoxFuture;
use hubbub_app::ports::{Committed, StoreError, StoreResult};
use sqlx::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

/// Most jobs in one transaction: enough to amortise the fsync, few enough that one
/// transaction never holds the write lock for long.
const MAX_BATCH: usize = 256;
const QUEUE_DEPTH: usize = 4096;

/// What a write's result says it committed, so the writer can hand those events on in
/// commit order. Results that carry no event report none.
pub(crate) trait Commits {
    fn commits(&self, _out: &mut Vec<Committed>) {}
}

/// One queued write: runs inside the batch transaction and is told the batch's fate.
trait Job: Send {
    /// The events this job committed (called only after COMMIT succeeded).
    fn commits(&self, out: &mut Vec<Committed>);
    /// Runs the job's statements; true when they succeeded and should be kept.
    fn run<'c>(&'c mut self, conn: &'c mut SqliteConnection) -> BoxFuture<'c, bool>;
    /// Delivers the job's result once the batch has committed (or failed to).
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
        if let Some(Ok(value)) = &self.result {
            value.commits(out);
        }
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

    fn finish(self: Box<Self>, commit: Result<(), String>) {
        let outcome = match (commit, self.result) {
            (Ok(()), Some(result)) => result,
            // The job's own error stands even when the batch failed: it was rolled back anyway.
            (Err(_), Some(Err(error))) => Err(error),
            (Err(why), _) => Err(StoreError::Unavailable(why)),
            (Ok(()), None) => Err(StoreError::Unavailable("write was not run".into())),
        };
        // The caller may have gone away (request cancelled); the write stands regardless.
        let _ = self.reply.send(outcome);
    }
}

#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

/// Where committed events go, in the order their transactions committed.
pub(crate) type CommitFeed = mpsc::UnboundedSender<Committed>;

impl Writer {
    pub(crate) fn start(conn: SqliteConnection, feed: CommitFeed) -> Writer {
        let (jobs, receiver) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(run(conn, receiver, feed));
        Writer { jobs }
    }

    /// Queues `work` and waits until the transaction it ran in has committed.
    pub(crate) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Commits + Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(TypedJob { work: Some(work), result: None, reply });
        self.jobs.send(job).await.map_err(|_| StoreError::Unavailable("the database writer has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Unavailable("the database writer has stopped".into()))?
    }
}

async fn run(mut conn: SqliteConnection, mut receiver: mpsc::Receiver<Box<dyn Job>>, feed: CommitFeed) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    let mut committed = Vec::new();
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let commit = run_batch(&mut conn, &mut batch).await;
        match &commit {
            // The batch is durable: its events go out now, in the order the jobs ran, which
            // is the order their seqs were taken. This single hand-off point is what keeps
            // every socket's view of a conversation in seq order.
            Ok(()) => {
                for job in &batch {
                    job.commits(&mut committed);
                }
                for event in committed.drain(..) {
                    let _ = feed.send(event);
                }
            }
            Err(why) => tracing::error!(error = %why, jobs = batch.len(), "write batch failed"),
        }
        for job in batch.drain(..) {
            job.finish(commit.clone());
        }
    }
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
