//! The cluster's presence directory on a JetStream key-value bucket
//! (`hubbub_<cluster>_presence`), used with `--nats-url`.
//!
//! One key per (user, node) that holds sockets of that user: `<user uuid>.<node uuid>`. The
//! node puts it at the user's first socket, deletes it at their last, and re-puts every key
//! it holds every `refresh` (5 s), because Debian's nats-server (2.9) has no per-key TTL: the
//! bucket's max age (30 s) only garbage-collects what a dead node left behind, and expiry
//! in 2.9 tells no watcher. So each node watches the whole bucket and remembers when it last
//! heard each other (user, node) key; a key not refreshed for `stale` (20 s) is believed
//! gone. A node that crashes therefore takes its users offline within `stale` plus one sweep
//! (≤ 25 s), on every surviving node, without any node having to say so.
//!
//! Cost: every node puts one key per locally online user per `refresh` and hears every
//! other node's puts: with U users online in the cluster, U / 5 s puts and U / 5 s watch
//! messages per node (10,000 users: 2,000 small messages a second per node).
//!
//! While NATS is unreachable nothing is heard: after `stale`, this node believes the others'
//! users gone (it tells its own sockets so), and when NATS returns the next refresh of each
//! node brings them back (told as well). Puts that fail are not retried one by one: the next
//! refresh re-puts everything held.

use async_nats::jetstream::kv::{self, Operation};

use async_trait::async_trait;
use futures::StreamExt;
use hubbub_app::ports::{NodeId, PresenceDirectory, PresenceHandler};
use hubbub_domain::UserId;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How often keys are refreshed and stale ones swept, and when a key is believed gone.
#[derive(Clone, Copy, Debug)]
pub struct PresenceTiming {
    pub refresh: Duration,
    pub stale: Duration,
    /// The bucket's max age: longer than `stale`, so a live key never expires.
    pub max_age: Duration,
}

impl Default for PresenceTiming {
    fn default() -> Self {
        PresenceTiming {
            refresh: Duration::from_secs(5),
            stale: Duration::from_secs(20),
            max_age: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PresenceError {
    #[error("cannot open the presence bucket {bucket:?} on NATS JetStream: {reason}")]
    Bucket { bucket: String, reason: String },
    #[error("cannot watch the presence bucket on NATS JetStream: {0}")]
    Watch(String),
}

impl PresenceError {
    /// Stable machine code, for logs.
    pub fn code(&self) -> &'static str {
        match self {
            PresenceError::Bucket { .. } => "presence_bucket_unavailable",
            PresenceError::Watch(_) => "presence_watch_failed",
        }
    }
}

#[derive(Default)]
struct State {
    /// Users this node holds sockets of.
    here: HashSet<UserId>,
    /// Other nodes holding each user, and when each was last heard.
    elsewhere: HashMap<UserId, HashMap<NodeId, Instant>>,
    /// Users this node stopped believing in by sweeping (no node said so), so that hearing of
    /// them again is news too.
    lapsed: HashSet<UserId>,
}

struct Shared {
    node: NodeId,
    kv: kv::Store,
    timing: PresenceTiming,
    state: Mutex<State>,
    handler: OnceLock<Arc<dyn PresenceHandler>>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn key(&self, user: UserId) -> String {
        format!("{}.{}", user.0, self.node.0)
    }

    fn tell(&self, user: UserId, online: bool) {
        if let Some(handler) = self.handler.get() {
            handler.lapsed(user, online);
        }
    }

    /// Applies one watched entry. Our own keys are ours to know already.
    fn heard(&self, entry: kv::Entry) {
        let Some((user, node)) = parse_key(&entry.key) else {
            return;
        };
        if node == self.node {
            return;
        }
        let back = {
            let mut state = self.state();
            match entry.operation {
                Operation::Put => {
                    state.elsewhere.entry(user).or_default().insert(node, Instant::now());
                    state.lapsed.remove(&user)
                }
                Operation::Delete | Operation::Purge => {
                    if let Some(nodes) = state.elsewhere.get_mut(&user) {
                        nodes.remove(&node);
                        if nodes.is_empty() {
                            state.elsewhere.remove(&user);
                        }
                    }
                    false
                }
            }
        };
        if back {
            self.tell(user, true);
        }
    }

    /// Forgets (user, node) keys not refreshed for `stale`, and tells of users nobody holds
    /// any more because of it.
    fn sweep(&self) {
        let now = Instant::now();
        let mut gone = Vec::new();
        {
            let mut state = self.state();
            let State { elsewhere, lapsed, .. } = &mut *state;
            elsewhere.retain(|user, nodes| {
                nodes.retain(|_, heard| now.duration_since(*heard) < self.timing.stale);
                if nodes.is_empty() {
                    lapsed.insert(*user);
                    gone.push(*user);
                }
                !nodes.is_empty()
            });
        }
        for user in gone {
            self.tell(user, false);
        }
    }

    async fn refresh(&self) {
        let held: Vec<UserId> = self.state().here.iter().copied().collect();
        for user in held {
            if let Err(error) = self.kv.put(self.key(user), bytes::Bytes::new()).await {
                tracing::debug!(%error, "could not refresh a presence key; the next refresh retries");
                // NATS is likely down: the rest would fail the same way.
                break;
            }
        }
    }
}

fn parse_key(key: &str) -> Option<(UserId, NodeId)> {
    let (user, node) = key.split_once('.')?;
    Some((UserId(Uuid::parse_str(user).ok()?), NodeId(Uuid::parse_str(node).ok()?)))
}

/// See the module comment. Dropping it stops its tasks (its keys then age out on the
/// other nodes, as a crashed node's would).
pub struct NatsPresence {
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for NatsPresence {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl NatsPresence {
    pub(crate) async fn open(
        client: async_nats::Client,
        node: NodeId,
        cluster: &str,
        timing: PresenceTiming,
    ) -> Result<NatsPresence, PresenceError> {
        let jetstream = async_nats::jetstream::new(client);
        let bucket = format!("hubbub_{cluster}_presence");
        let failed = |reason: String| PresenceError::Bucket { bucket: bucket.clone(), reason };
        let kv = match jetstream.get_key_value(bucket.clone()).await {
            Ok(kv) => kv,
            Err(_) => {
                // The bucket's stream, made as `create_key_value` would make it. That call
                // first reads the account's info, whose reply from a 2.9 server lacks fields
                // async-nats 0.51 requires, so it cannot be used with Debian's server.
                let config = async_nats::jetstream::stream::Config {
                    name: format!("KV_{bucket}"),
                    description: Some("Hubbub: which nodes hold sockets of each user".into()),
                    subjects: vec![format!("$KV.{bucket}.>")],
                    max_messages_per_subject: 1,
                    max_age: timing.max_age,
                    storage: async_nats::jetstream::stream::StorageType::File,
                    allow_rollup: true,
                    deny_delete: true,
                    allow_direct: true,
                    num_replicas: 1,
                    discard: async_nats::jetstream::stream::DiscardPolicy::New,
                    ..Default::default()
                };
                // Another node may create it at the same moment: either way, open it after.
                let created = jetstream.get_or_create_stream(config).await.map_err(|e| e.to_string());
                match jetstream.get_key_value(bucket.clone()).await {
                    Ok(kv) => kv,
                    Err(error) => return Err(failed(created.err().unwrap_or_else(|| error.to_string()))),
                }
            }
        };
        // Watched before this returns, so no put made after it is missed.
        let watch = kv.watch_all().await.map_err(|e| PresenceError::Watch(e.to_string()))?;
        let shared =
            Arc::new(Shared { node, kv, timing, state: Mutex::new(State::default()), handler: OnceLock::new() });
        let tasks = vec![tokio::spawn(watch_loop(shared.clone(), watch)), tokio::spawn(refresh_loop(shared.clone()))];
        Ok(NatsPresence { shared, tasks })
    }
}

/// Applies every put and delete of the bucket; when the watch ends (the server went away
/// and the consumer with it), opens a new one. A new watch first replays the latest value
/// of every key, which is what this node needs to catch up.
async fn watch_loop(shared: Arc<Shared>, mut watch: kv::Watch) {
    loop {
        while let Some(entry) = watch.next().await {
            match entry {
                Ok(entry) => shared.heard(entry),
                Err(error) => {
                    tracing::debug!(%error, "the presence watch failed");
                    break;
                }
            }
        }
        loop {
            tokio::time::sleep(shared.timing.refresh).await;
            match shared.kv.watch_all().await {
                Ok(again) => {
                    watch = again;
                    break;
                }
                Err(error) => tracing::debug!(%error, "cannot watch the presence bucket yet"),
            }
        }
    }
}

async fn refresh_loop(shared: Arc<Shared>) {
    let mut ticks = tokio::time::interval(shared.timing.refresh);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        shared.refresh().await;
        shared.sweep();
    }
}

#[async_trait]
impl PresenceDirectory for NatsPresence {
    async fn set_here(&self, user: UserId, online: bool) {
        let shared = &self.shared;
        let result = if online {
            shared.state().here.insert(user);
            shared.kv.put(shared.key(user), bytes::Bytes::new()).await.map(|_| ()).map_err(|e| e.to_string())
        } else {
            shared.state().here.remove(&user);
            shared.kv.delete(shared.key(user)).await.map_err(|e| e.to_string())
        };
        if let Err(error) = result {
            // An online key is put again by the next refresh; an offline one that could not
            // be deleted ages out on the other nodes after `stale`.
            tracing::warn!(%error, "could not update presence on NATS");
        }
    }

    fn elsewhere(&self, user: UserId) -> bool {
        self.shared.state().elsewhere.get(&user).is_some_and(|nodes| !nodes.is_empty())
    }

    fn subscribe(&self, handler: Arc<dyn PresenceHandler>) {
        let _ = self.shared.handler.set(handler);
    }
}
