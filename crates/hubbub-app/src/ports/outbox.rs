//! The durable outbox: work to do after a commit, outside any request (Web Push now,
//! webhooks later), kept in the database so that it survives a restart and is done by one
//! node of a cluster at a time. A job is `kind` + `payload` (JSON text, the kind's own
//! format); a worker claims due jobs of its kind with a lease, then completes, retries
//! (with the next time) or gives up on each. A lease that runs out (a node died mid-job)
//! makes the job claimable again: delivery is at least once.

use super::*;

/// A job to enqueue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    pub kind: String,
    pub payload: String,
    /// Not claimed before then.
    pub run_at: Timestamp,
}

/// A claimed job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// Claims so far, this one included (1 on the first).
    pub attempts: i64,
}

#[async_trait]
pub trait Outbox: Send + Sync {
    /// Stores jobs; each is claimable from its `run_at`.
    async fn enqueue_jobs(&self, jobs: Vec<NewJob>) -> StoreResult<()>;
    /// Claims up to `limit` jobs of `kind` that are due (`run_at` / next attempt at or before
    /// `now`), not leased (or their lease ran out) and not given up, oldest due first:
    /// leases them until `lease_until` and counts the attempt. Two claims at once (two
    /// nodes) never get the same job.
    async fn claim_jobs(&self, kind: &str, now: Timestamp, lease_until: Timestamp, limit: u32)
    -> StoreResult<Vec<Job>>;
    /// Done: the job is deleted. An unknown id is no error (done already).
    async fn complete_job(&self, id: i64) -> StoreResult<()>;
    /// Try again at `next_attempt_at`: the lease ends.
    async fn retry_job(&self, id: i64, next_attempt_at: Timestamp) -> StoreResult<()>;
    /// Given up: kept, never claimed again.
    async fn fail_job(&self, id: i64, now: Timestamp) -> StoreResult<()>;
}
