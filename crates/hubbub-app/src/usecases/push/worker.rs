//! The per-node worker of the push queue: fans a sent message out to subscriptions, and
//! sends each (see the module's doc for the whole path).

use super::{MESSAGE_JOB, SEND_JOB};
use crate::App;
use crate::ports::{Job, NewJob, PushOutcome, PushSubscription};
use crate::rules::push::{self, SentMessage};
use hubbub_domain::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Jobs claimed at once.
const BATCH: u32 = 32;
/// How long a claimed job is this node's; past it (the node died) another may take it.
const LEASE: Duration = Duration::from_secs(60);

/// What a `push.send` job carries.
#[derive(Serialize, Deserialize)]
struct SendJob {
    endpoint: String,
    p256dh: String,
    auth: String,
    /// The notification's JSON, as it is encrypted.
    notification: String,
}

/// Starts this node's worker; it ends with the app (it holds a weak handle).
pub(crate) fn start(app: &Arc<App>) {
    let weak = Arc::downgrade(app);
    let wake = app.push.wake.clone();
    let poll = app.push.config().poll;
    tokio::spawn(async move {
        loop {
            if !run_once(&weak).await {
                return;
            }
            // A wake from this node's enqueue, or the poll for other nodes' jobs and retries.
            let _ = tokio::time::timeout(poll, wake.notified()).await;
        }
    });
}

/// One pass over what is due; false when the app is gone.
async fn run_once(weak: &Weak<App>) -> bool {
    let Some(app) = weak.upgrade() else { return false };
    for kind in [MESSAGE_JOB, SEND_JOB] {
        loop {
            let now = Timestamp::now();
            let lease_until = now.plus_millis(LEASE.as_millis() as i64);
            let jobs = match app.store.claim_jobs(kind, now, lease_until, BATCH).await {
                Ok(jobs) => jobs,
                Err(error) => {
                    tracing::warn!(%error, kind, "could not claim push jobs");
                    break;
                }
            };
            let full = jobs.len() == BATCH as usize;
            // The jobs of a batch run side by side: one slow push service delays no other.
            let mut runs = tokio::task::JoinSet::new();
            for job in jobs {
                let app = app.clone();
                runs.spawn(async move {
                    let result =
                        if job.kind == MESSAGE_JOB { fan_out(&app, &job).await } else { send(&app, &job).await };
                    if let Err(error) = result {
                        tracing::warn!(%error, job = job.id, "a push job failed");
                    }
                });
            }
            while runs.join_next().await.is_some() {}
            if !full {
                break;
            }
        }
    }
    true
}

/// A sent message: one `push.send` job per subscription of each member it notifies who has
/// no live socket anywhere.
async fn fan_out(app: &App, job: &Job) -> Result<(), crate::ports::StoreError> {
    let Ok(message) = serde_json::from_str::<SentMessage>(&job.payload) else {
        tracing::warn!(job = job.id, "a push.message job that is not one; given up");
        return app.store.fail_job(job.id, Timestamp::now()).await;
    };
    let audience = match app.store.push_audience(message.conversation_id, message.sender_id).await {
        Ok(audience) => audience,
        // Deleted since: nobody to tell.
        Err(crate::ports::StoreError::NotFound) => return app.store.complete_job(job.id).await,
        Err(error) => return Err(error),
    };
    let notification = serde_json::to_string(&push::notification(&audience, &message)).expect("serialises");
    let mut sends = Vec::new();
    for user in push::recipients(&audience, &message, Timestamp::now()) {
        if app.is_online(user) {
            continue;
        }
        for subscription in app.store.push_subscriptions(user).await? {
            let payload = SendJob {
                endpoint: subscription.endpoint,
                p256dh: subscription.p256dh,
                auth: subscription.auth,
                notification: notification.clone(),
            };
            sends.push(NewJob {
                kind: SEND_JOB.into(),
                payload: serde_json::to_string(&payload).expect("serialises"),
                run_at: Timestamp::now(),
            });
        }
    }
    // Enqueued before the fan-out is done: a crash in between sends twice, never not at all.
    app.store.enqueue_jobs(sends).await?;
    app.store.complete_job(job.id).await?;
    app.push.wake.notify_one();
    Ok(())
}

/// One notification to one subscription.
async fn send(app: &App, job: &Job) -> Result<(), crate::ports::StoreError> {
    let Some(sender) = app.push.sender() else { return Ok(()) };
    let Ok(data) = serde_json::from_str::<SendJob>(&job.payload) else {
        tracing::warn!(job = job.id, "a push.send job that is not one; given up");
        return app.store.fail_job(job.id, Timestamp::now()).await;
    };
    let subscription = PushSubscription { endpoint: data.endpoint, p256dh: data.p256dh, auth: data.auth };
    match sender.send(&subscription, data.notification.as_bytes(), app.push.config().ttl_seconds).await {
        PushOutcome::Delivered => app.store.complete_job(job.id).await,
        PushOutcome::Gone => {
            app.store.drop_push_subscription(&subscription.endpoint).await?;
            app.store.complete_job(job.id).await
        }
        PushOutcome::Retry(why) if job.attempts < app.push.config().attempts_max => {
            let delay = app.push.config().backoff.saturating_mul(1 << (job.attempts - 1).clamp(0, 16));
            tracing::info!(job = job.id, attempts = job.attempts, %why, "a push will be retried");
            app.store.retry_job(job.id, Timestamp::now().plus_millis(delay.as_millis() as i64)).await
        }
        PushOutcome::Retry(why) | PushOutcome::Failed(why) => {
            tracing::warn!(job = job.id, attempts = job.attempts, %why, "a push was given up");
            app.store.fail_job(job.id, Timestamp::now()).await
        }
    }
}
