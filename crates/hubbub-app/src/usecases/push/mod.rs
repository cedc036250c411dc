//! Web Push: each user's subscriptions, and the queue that tells them of new messages
//! while they have no live socket on any node.
//!
//! A send (or forward) stores one `push.message` job in its own transaction (`job_for`,
//! `NewMessage::outbox`: the job exists if and only if the message does). The worker of each
//! node (`worker.rs`) claims it, asks the store who of the conversation a message may
//! notify (`rules::push`), leaves out those with a socket on any node (the hub and the
//! presence directory), and enqueues one `push.send` job per subscription of the others;
//! those are encrypted and POSTed by the `PushSender`, retried with backoff on 5xx and
//! network errors, dropped with their subscription on 404/410, given up after
//! `Push::attempts_max`. The outbox's claim gives each job to one node of a cluster.

pub mod subscribe;
pub mod worker;

use crate::App;
use crate::ports::{NewJob, NewMessage, PushSender};
use crate::rules::push::SentMessage;
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

/// The fan-out job of a message about to be sent, when Web Push is on; the store enqueues
/// it in the send's own transaction (`NewMessage::outbox`), so it exists if and only if the
/// message does.
pub(crate) fn job_for(app: &App, message: &NewMessage) -> Option<NewJob> {
    app.push.sender()?;
    let sent = SentMessage {
        conversation_id: message.conversation_id,
        message_id: message.id,
        sender_id: message.sender,
        text: message.text.as_str().to_owned(),
        photo: message.photo.is_some(),
        file: message.file.is_some(),
        mentions: message.mentions.users.clone(),
    };
    let payload = serde_json::to_string(&sent).expect("a job serialises");
    Some(NewJob { kind: MESSAGE_JOB.into(), payload, run_at: message.now })
}

/// After a send with a job committed: this node's worker starts on it at once.
pub(crate) fn wake(app: &App) {
    if app.push.sender().is_some() {
        app.push.wake.notify_one();
    }
}
