//! Writes on PostgreSQL: a transaction per write, except that waiting writes to one
//! conversation commit together.
//!
//! Why batch: a write to a conversation holds its row lock until COMMIT, and COMMIT waits
//! for the WAL flush, so one conversation alone takes at most one commit per flush (about
//! 600 a second here) however many nodes and connections there are. PostgreSQL already
//! flushes concurrent commits of *different* conversations together; for one busy
//! conversation the node has to do it: writes queue per lane (conversation id modulo
//! `LANES`), and the lane's task takes the first waiting write and every other waiting
//! write *of the same conversation* (up to `MAX_BATCH`), and runs them in one transaction,
//! each inside its own savepoint. One lock wait and one flush then carry the whole batch.
//!
//! Why only one conversation per batch: a batch locks each conversation it writes until
//! COMMIT. Two nodes batching conversations X and Y in opposite orders would deadlock
//! (PostgreSQL would abort one of them after a second); one conversation per transaction
//! locks one row, as a single write does.
//!
//! Why savepoints: the writes are independent use cases. One that fails (a refused check,
//! a constraint) rolls back to its savepoint and gets its own error; the others commit. A
//! result is handed back only after COMMIT, and if COMMIT fails every write of the batch
//! gets the error, so nobody learns of a change that did not happen.
//!
//! Order: one task per lane runs its batches one after the other and pushes each batch's
//! events to the commit feed right after its COMMIT, so a node's commits of a conversation
//! reach the feed in seq order (`Store::commit_feed`). The row lock orders writers across
//! nodes. And a write outlives its caller: a request dropped mid-write (a client that hung
//! up) cannot cancel a transaction half-way or leave a committed change unpublished, since
//! the lane's task, not the request, runs it.

use super::db;
use crate::common::Commits;
use futures::future::BoxFuture;
use hubbub_app::commit_feed::CommitSink;
use hubbub_app::ports::{Committed, StoreError, StoreResult};
use hubbub_domain::ConversationId;
use sqlx::postgres::PgPool;
use sqlx::{Connection, PgConnection};
use std::collections::VecDeque;
use std::sync::OnceLock;
use tokio::sync::{mpsc, oneshot};

/// Lanes (tasks) that run conversation writes; a conversation always uses the same one.
const LANES: usize = 64;
/// Most writes in one transaction: enough to amortise the flush, few enough that one batch
/// never holds its conversation for long.
const MAX_BATCH: usize = 64;

pub(super) type Work<T> = Box<dyn for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, StoreResult<T>> + Send>;

/// Where a lane's writes wait for its task.
type Lane = mpsc::UnboundedSender<Box<dyn Job>>;

pub(super) struct Writer {
    pool: PgPool,
    feed: CommitSink,
    /// Started on first use; each lane's task ends when the writer (its sender) is dropped.
    lanes: Box<[OnceLock<Lane>]>,
}

impl Writer {
    pub(super) fn new(pool: PgPool, feed: CommitSink) -> Writer {
        Writer { pool, feed, lanes: (0..LANES).map(|_| OnceLock::new()).collect() }
    }

    /// A write that changes no conversation's log (accounts, sessions, marks, media
    /// records): its own transaction, on its own task.
    pub(super) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Commits + Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        let job: Box<dyn Job> =
            Box::new(TypedJob { conversation: None, work: Some(Box::new(work)), result: None, reply });
        let (pool, feed) = (self.pool.clone(), self.feed.clone());
        tokio::spawn(async move { run_batch(&pool, &feed, vec![job]).await });
        result.await.map_err(|_| StoreError::Other("the write's task ended without an answer".into()))?
    }

    /// A write to conversation `id`: batched with the other waiting writes of `id`, and its
    /// commits reach the feed in seq order.
    pub(super) async fn write_in<T, F>(&self, id: ConversationId, work: F) -> StoreResult<T>
    where
        T: Commits + Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        let job: Box<dyn Job> =
            Box::new(TypedJob { conversation: Some(id), work: Some(Box::new(work)), result: None, reply });
        let lane = self.lanes[(id.0.as_u128() % LANES as u128) as usize].get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run_lane(self.pool.clone(), self.feed.clone(), rx));
            tx
        });
        lane.send(job).map_err(|_| StoreError::Other("the write lane has stopped".into()))?;
        result.await.map_err(|_| StoreError::Other("the write's task ended without an answer".into()))?
    }
}

/// One lane: waits for writes, then runs batches of one conversation each, oldest first.
async fn run_lane(pool: PgPool, feed: CommitSink, mut queue: mpsc::UnboundedReceiver<Box<dyn Job>>) {
    let mut waiting: VecDeque<Box<dyn Job>> = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match queue.recv().await {
                Some(job) => waiting.push_back(job),
                None => return,
            }
        }
        while let Ok(job) = queue.try_recv() {
            waiting.push_back(job);
        }
        // The oldest write, and every later one of the same conversation, in arrival order.
        let conversation = waiting.front().and_then(|job| job.conversation());
        let mut batch = Vec::new();
        let mut others = VecDeque::with_capacity(waiting.len());
        for job in waiting.drain(..) {
            if batch.len() < MAX_BATCH && job.conversation() == conversation {
                batch.push(job);
            } else {
                others.push_back(job);
            }
        }
        waiting = others;
        run_batch(&pool, &feed, batch).await;
    }
}

/// Runs `batch` in one transaction (each write in a savepoint when there are several),
/// commits, publishes what committed, and answers every write.
async fn run_batch(pool: &PgPool, feed: &CommitSink, mut batch: Vec<Box<dyn Job>>) {
    let outcome = async {
        let mut conn = pool.acquire().await.map_err(db)?;
        let mut tx = conn.begin().await.map_err(db)?;
        let single = batch.len() == 1;
        let mut kept = 0;
        for job in &mut batch {
            if single {
                if job.run(&mut tx).await {
                    kept += 1;
                }
                continue;
            }
            sqlx::query("SAVEPOINT write").execute(&mut *tx).await.map_err(db)?;
            let ok = job.run(&mut tx).await;
            let end = if ok { "RELEASE SAVEPOINT write" } else { "ROLLBACK TO SAVEPOINT write" };
            sqlx::query(end).execute(&mut *tx).await.map_err(db)?;
            kept += usize::from(ok);
        }
        if kept == 0 {
            // Nothing to keep (a lone write that failed rolls back whatever it did).
            tx.rollback().await.map_err(db)?;
        } else {
            tx.commit().await.map_err(db)?;
        }
        Ok::<_, StoreError>(())
    }
    .await;
    match outcome {
        Ok(()) => {
            let mut committed = Vec::new();
            for job in &batch {
                job.commits(&mut committed);
            }
            // After the connection went back to the pool (it is dropped with the block
            // above): a full feed waits for the publisher, which may need a connection to
            // fill a gap from the store.
            for event in committed {
                feed.push(event).await;
            }
            for job in batch {
                job.finish(None);
            }
        }
        Err(error) => {
            let failure =
                CommitFailure { unavailable: matches!(error, StoreError::Unavailable(_)), message: error.to_string() };
            for job in batch {
                job.finish(Some(&failure));
            }
        }
    }
}

/// Why a batch did not commit, given to each of its writes.
struct CommitFailure {
    unavailable: bool,
    message: String,
}

impl CommitFailure {
    fn error(&self) -> StoreError {
        if self.unavailable {
            StoreError::Unavailable(self.message.clone())
        } else {
            StoreError::Other(self.message.clone().into())
        }
    }
}

/// One queued write, its type erased so that writes of every result type share a lane.
trait Job: Send {
    fn conversation(&self) -> Option<ConversationId>;
    /// Runs the write's statements; true when they succeeded and should be kept.
    fn run<'c>(&'c mut self, conn: &'c mut PgConnection) -> BoxFuture<'c, bool>;
    /// The events it committed (called only after COMMIT succeeded).
    fn commits(&self, out: &mut Vec<Committed>);
    /// Answers the caller: its own result, or the batch's failure to commit.
    fn finish(self: Box<Self>, failure: Option<&CommitFailure>);
}

struct TypedJob<T> {
    conversation: Option<ConversationId>,
    work: Option<Work<T>>,
    result: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T: Commits + Send + 'static> Job for TypedJob<T> {
    fn conversation(&self) -> Option<ConversationId> {
        self.conversation
    }

    fn run<'c>(&'c mut self, conn: &'c mut PgConnection) -> BoxFuture<'c, bool> {
        let work = self.work.take().expect("a write runs once");
        Box::pin(async move {
            let result = work(conn).await;
            let ok = result.is_ok();
            self.result = Some(result);
            ok
        })
    }

    fn commits(&self, out: &mut Vec<Committed>) {
        if let Some(Ok(value)) = &self.result {
            value.commits(out);
        }
    }

    fn finish(self: Box<Self>, failure: Option<&CommitFailure>) {
        let answer = match (self.result, failure) {
            // Its own error stands whatever happened to the batch.
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(_)), Some(failure)) | (None, Some(failure)) => Err(failure.error()),
            (Some(Ok(value)), None) => Ok(value),
            (None, None) => Err(StoreError::Other("a write was never run".into())),
        };
        // The caller may have gone away; the write is done either way.
        let _ = self.reply.send(answer);
    }
}
