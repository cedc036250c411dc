//! Web Push: each user's subscriptions, and the queue that tells them of new messages
//! while they have no live socket on any node.
//!
//! A send that committed enqueues one `push.message` job (`enqueue`, right after the
//! commit: the hot send paths are the adapters' own transactions, and a job lost to a crash
//! between commit and enqueue costs a notification, never a message). The worker of each
//! node (`worker.rs`) claims it, asks the store who of the conversation a message may
//! notify (`rules::push`), leaves out those with a socket on any node (the hub and the
//! presence directory), and enqueues one `push.send` job per subscription of the others;
//! those are encrypted and POSTed by the `PushSender`, retried with backoff on 5xx and
//! network errors, dropped with their subscription on 404/410, given up after
//! `Push::attempts_max`. The outbox's claim gives each job to one node of a cluster.

pub mod subscribe;
pub mod worker;

use crate::App;
use crate::ports::{NewJob, PushSender};
use crate::rules::push::SentMessage;
use hubbub_domain::{Message, Timestamp};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;

/// The outbox kind of "a message was sent: fan it out".
pub const MESSAGE_JOB: &str = "push.message";
/// The outbox kind of "send this notification to this subscription".
pub const SEND_JOB: &str = "push.send";

/// How the queue runs.
#[derive(Clone, Copy, Debug)]
pub struct PushConfig {
    /// How often a worker looks for due jobs (other nodes' and retries).
    pub poll: Duration,
    /// Attempts of one send before it is given up.
    pub attempts_max: i64,
    /// The first retry's delay; each next one doubles it.
    pub backoff: Duration,
    /// How long the push service keeps a message for an offline device (`TTL`).
    pub ttl_seconds: u32,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            poll: Duration::from_secs(2),
            attempts_max: 5,
            backoff: Duration::from_secs(5),
            ttl_seconds: 24 * 3600,
        }
    }
}

/// The push side of `App`: the sender (none: Web Push off) and the queue's settings.
#[derive(Default)]
pub struct Push {
    on: OnceLock<(Arc<dyn PushSender>, PushConfig)>,
    /// Wakes this node's worker when this node enqueued something.
    pub(crate) wake: Arc<Notify>,
}

impl Push {
    pub fn sender(&self) -> Option<&Arc<dyn PushSender>> {
        self.on.get().map(|(sender, _)| sender)
    }

    pub fn config(&self) -> PushConfig {
        self.on.get().map(|(_, config)| *config).unwrap_or_default()
    }

    /// Turns Web Push on; a second call is ignored (false).
    pub(crate) fn set_sender(&self, sender: Arc<dyn PushSender>, config: PushConfig) -> bool {
        self.on.set((sender, config)).is_ok()
    }
}

/// After a send committed: enqueues its fan-out, when Web Push is on. A failure is logged,
/// never the send's: the message is stored.
pub(crate) async fn enqueue(app: &App, message: &Message) {
    if app.push.sender().is_none() || message.deleted {
        return;
    }
    let payload = serde_json::to_string(&SentMessage::of(message)).expect("a job serialises");
    let job = NewJob { kind: MESSAGE_JOB.into(), payload, run_at: Timestamp::now() };
    match app.store.enqueue_jobs(vec![job]).await {
        Ok(()) => app.push.wake.notify_one(),
        Err(error) => tracing::warn!(%error, message = %message.id.0, "could not enqueue the push of a message"),
    }
}
