//! This node's side of the bus: the handler that applies what arrives (to the hub, through
//! the delivery cursor, and to the session cache and limiters), and the in-process adapter,
//! the default when there is no NATS.

use super::hub::{Delivery, Hub};
use super::sequencer::{self, Identify, Offer, Sequencer};
use crate::ports::{Bus, BusHandler, BusMessage, Committed, Envelope, NodeId, Store};
use crate::ratelimit::{AddressLimiter, LoginLimiter, RoomPasswordLimiter};
use crate::session_cache::SessionCache;
use async_trait::async_trait;
use hubbub_domain::{ConversationId, Timestamp};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// How long a gap in a conversation's seqs may stay open before the node reads the missing
/// events from the store. Envelopes of two nodes cross in about a millisecond, so a gap
/// still open after this is a lost envelope, not a slow one.
const GAP_WAIT: Duration = Duration::from_millis(250);
/// After this many fills that did not close a gap, give up on it (see `Sequencer::skip_gap`).
const GAP_TRIES: u32 = 20;
/// Events read per gap fill.
const GAP_FETCH: u32 = 500;
/// How far before the moment the bus was lost the replay starts: envelopes published just
/// before may have been lost with the connection, and clocks of nodes sharing a database
/// differ a little.
const REPLAY_MARGIN_MS: i64 = 2_000;
/// The most events one replay reads; past it, clients fill the rest through `/events`.
const REPLAY_MAX: u32 = 20_000;

/// Applies envelopes to this node: deliveries to the local sockets of the audience's users
/// (the hub resolves users to sockets from its own registry), session ends to the hub and
/// the session cache, other nodes' login failures and registrations to this node's limiters.
/// Every arm only hands work on (a hub command, an update under a short lock), so it never
/// blocks whoever calls it; the store reads of gap fills and replays run in tasks of their own.
///
/// Persisted events (`Deliver`) go through the delivery cursor (`sequencer.rs`) first, so
/// each reaches the sockets once and in seq order. The sequencer's lock is held while the
/// hub is handed the event: this handler is called from two places (this node's commit feed
/// and the bus's receiving task), and handing on outside the lock could let them swap two
/// events that the cursor had put in order.
#[derive(Clone)]
pub(crate) struct NodeHandler {
    inner: Arc<Inner>,
}

struct Inner {
    node: NodeId,
    hub: Hub,
    sessions: Arc<SessionCache>,
    store: Arc<dyn Store>,
    login_limiter: Arc<LoginLimiter>,
    registration_limiter: Arc<AddressLimiter>,
    room_passwords: Arc<RoomPasswordLimiter>,
    sequencer: Mutex<Sequencer<Delivery>>,
}

pub(crate) struct NodeParts {
    pub node: NodeId,
    pub hub: Hub,
    pub sessions: Arc<SessionCache>,
    pub store: Arc<dyn Store>,
    pub login_limiter: Arc<LoginLimiter>,
    pub registration_limiter: Arc<AddressLimiter>,
    pub room_passwords: Arc<RoomPasswordLimiter>,
}

impl NodeHandler {
    pub(crate) fn new(parts: NodeParts) -> Self {
        let NodeParts { node, hub, sessions, store, login_limiter, registration_limiter, room_passwords } = parts;
        let sequencer = Mutex::new(Sequencer::new(sequencer::CAP, sequencer::IDLE));
        NodeHandler {
            inner: Arc::new(Inner {
                node,
                hub,
                sessions,
                store,
                login_limiter,
                registration_limiter,
                room_passwords,
                sequencer,
            }),
        }
    }

    /// One persisted event, from the bus, a gap fill or a replay.
    fn offer(&self, conversation: ConversationId, seq: i64, delivery: Delivery) {
        let mut sequencer = self.inner.sequencer.lock().unwrap_or_else(|e| e.into_inner());
        match sequencer.offer(conversation, seq, delivery, Instant::now()) {
            Offer::Deliver { item, more } => {
                self.inner.hub.deliver(item);
                if more {
                    while let Some(next) = sequencer.next_ready(conversation) {
                        self.inner.hub.deliver(next);
                    }
                }
            }
            Offer::Duplicate => {}
            Offer::Buffered { arm_timer } => {
                if arm_timer {
                    drop(sequencer);
                    tokio::spawn(self.clone().fill_gap(conversation));
                }
            }
        }
    }

    fn offer_committed(&self, committed: Committed) {
        let delivery = Delivery { recipients: committed.recipients, payload: committed.json, except_user: None };
        self.offer(committed.conversation_id, committed.seq, delivery);
    }

    /// The gap timer of one conversation: waits, and while the gap is open reads what
    /// follows the cursor from the store and offers it (the events already waiting come back
    /// as duplicates and are dropped; the ones missing close the gap).
    async fn fill_gap(self, conversation: ConversationId) {
        let mut tries = 0;
        loop {
            tokio::time::sleep(GAP_WAIT).await;
            let cursor = self.inner.sequencer.lock().unwrap_or_else(|e| e.into_inner()).gap_expired(conversation);
            let Some(cursor) = cursor else {
                return;
            };
            match self.inner.store.committed_after(conversation, cursor, GAP_FETCH).await {
                Ok(events) => events.into_iter().for_each(|committed| self.offer_committed(committed)),
                Err(error) => tracing::warn!(%error, "could not read the events of a gap in the bus's stream"),
            }
            if !self.inner.sequencer.lock().unwrap_or_else(|e| e.into_inner()).rearm(conversation) {
                return;
            }
            tries += 1;
            if tries >= GAP_TRIES {
                tracing::warn!(conversation = %conversation.0, "gave up on a gap in a conversation's events");
                let mut sequencer = self.inner.sequencer.lock().unwrap_or_else(|e| e.into_inner());
                sequencer.skip_gap(conversation);
                while let Some(next) = sequencer.next_ready(conversation) {
                    self.inner.hub.deliver(next);
                }
                return;
            }
        }
    }

    /// After a bus outage: every event committed since shortly before it, offered in
    /// (conversation, seq) order; the cursor drops what this node already delivered.
    async fn replay(self, lost_at: Timestamp) {
        let since = lost_at.plus_millis(-REPLAY_MARGIN_MS);
        match self.inner.store.committed_since(since, REPLAY_MAX).await {
            Ok(events) => {
                if events.len() as u64 >= u64::from(REPLAY_MAX) {
                    tracing::warn!(
                        max = REPLAY_MAX,
                        "the replay after a bus outage was cut short; clients catch up through /events"
                    );
                }
                tracing::info!(events = events.len(), "replaying what was committed while the bus was down");
                events.into_iter().for_each(|committed| self.offer_committed(committed));
            }
            Err(error) => tracing::warn!(%error, "could not replay the events committed while the bus was down"),
        }
    }
}

/// An event's identity is its bytes: a handle to them, not a copy (see `Identify`).
impl Identify for Delivery {
    type Id = bytes::Bytes;
    fn id(&self) -> bytes::Bytes {
        self.payload.clone()
    }
}

impl BusHandler for NodeHandler {
    fn handle(&self, envelope: Envelope) {
        let remote = envelope.origin != self.inner.node;
        match envelope.message {
            BusMessage::Deliver { conversation, seq, payload, audience } => {
                self.offer(conversation, seq, Delivery { recipients: audience, payload, except_user: None });
            }
            BusMessage::Ephemeral { payload, audience, except_user } => {
                self.inner.hub.deliver(Delivery { recipients: audience, payload, except_user });
            }
            // Online state stays what this node sees (the hub's registry); a cluster-wide
            // view of it is for later (presence in a shared key-value store).
            BusMessage::Presence { user, payload, audience, .. } => {
                self.inner.hub.deliver(Delivery { recipients: audience, payload, except_user: Some(user) });
            }
            BusMessage::CloseSessions(sessions) => self.inner.hub.close_sessions(sessions),
            BusMessage::ForgetSessions(sessions) => self.inner.sessions.forget(&sessions),
            // The origin counted its own already, in the use case.
            BusMessage::LoginFailed { username, address } if remote => {
                self.inner.login_limiter.record_remote_failure(&username, address, Instant::now());
            }
            BusMessage::Registered { address } if remote => {
                self.inner.registration_limiter.record_remote(address, Instant::now());
            }
            BusMessage::RoomPasswordFailed { user, room } if remote => {
                self.inner.room_passwords.record_remote_failure(user, room, Instant::now());
            }
            BusMessage::LoginFailed { .. } | BusMessage::Registered { .. } | BusMessage::RoomPasswordFailed { .. } => {}
        }
    }

    fn reconnected(&self, lost_at: Timestamp) {
        tokio::spawn(self.clone().replay(lost_at));
    }
}

/// The in-process bus: `publish` calls this node's handler directly, so a single node pays
/// one stack move per event over calling the hub itself (no serialisation, no allocation,
/// the payload `Bytes` go on as they are). Several nodes in one process (tests) share a
/// [`LocalBus::join`]ed network and hear each other synchronously, in publish order.
pub struct LocalBus {
    node: NodeId,
    own: OnceLock<Arc<dyn BusHandler>>,
    network: Arc<Network>,
}

#[derive(Default)]
struct Network {
    nodes: RwLock<Vec<(NodeId, Arc<dyn BusHandler>)>>,
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalBus {
    /// A node alone on its own network: the single-node server.
    pub fn new() -> Self {
        LocalBus { node: NodeId::generate(), own: OnceLock::new(), network: Arc::default() }
    }

    /// Another node on this one's in-process network.
    pub fn join(&self) -> Self {
        LocalBus { node: NodeId::generate(), own: OnceLock::new(), network: self.network.clone() }
    }
}

#[async_trait]
impl Bus for LocalBus {
    fn health(&self) -> crate::ports::BusHealth {
        // Every node of an in-process network is in this process: nothing to lose touch with.
        crate::ports::BusHealth::Connected
    }

    fn node(&self) -> NodeId {
        self.node
    }

    fn subscribe(&self, handler: Arc<dyn BusHandler>) {
        if self.own.set(handler.clone()).is_ok() {
            self.network.nodes.write().unwrap_or_else(|e| e.into_inner()).push((self.node, handler));
        }
    }

    async fn publish(&self, message: BusMessage) {
        let envelope = Envelope { origin: self.node, message };
        {
            let nodes = self.network.nodes.read().unwrap_or_else(|e| e.into_inner());
            // Alone on the network (the single-node server) this loop clones nothing.
            for (node, handler) in nodes.iter() {
                if *node != self.node {
                    handler.handle(envelope.clone());
                }
            }
        }
        if let Some(own) = self.own.get() {
            own.handle(envelope);
        }
    }
}

#[cfg(test)]
mod contract {
    use super::LocalBus;
    use crate::ports::Bus;
    use std::sync::Arc;

    async fn pair() -> (Arc<dyn Bus>, Arc<dyn Bus>) {
        let a = LocalBus::new();
        let b = a.join();
        (Arc::new(a), Arc::new(b))
    }

    crate::bus_contract_tests!(pair());
}
