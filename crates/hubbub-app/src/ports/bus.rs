//! The cluster ports: the bus that carries what crosses nodes, and the presence directory.

use super::*;

/// One node of a cluster (one running `hubbub serve`). Fresh at every start: it only tells a
/// node's own envelopes from the others'.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(pub Uuid);

impl NodeId {
    pub fn generate() -> Self {
        NodeId(Uuid::now_v7())
    }
}

/// Everything one node's actions must do on every node. The audience is a list of users,
/// never of sockets: each node resolves it against its own registry (its hub delivers to the
/// local sockets of those users), so no node needs to know where anyone is connected.
/// Payloads are the event JSON, serialised once; every socket shares the same `Bytes`.
#[derive(Clone, Debug, PartialEq)]
pub enum BusMessage {
    /// A persisted event, published by the commit feed after COMMIT, in commit order.
    Deliver { conversation: ConversationId, seq: i64, payload: Bytes, audience: Arc<[UserId]> },
    /// An event nothing stores: typing, receipts, profile changes. `except_user`'s own
    /// devices do not get it (a typist does not see themself typing).
    Ephemeral { payload: Bytes, audience: Arc<[UserId]>, except_user: Option<UserId> },
    /// A user's first device came online or last one went offline on the origin node; the
    /// payload is the `presence` event for `audience` (the user's contacts).
    Presence { user: UserId, online: bool, payload: Bytes, audience: Arc<[UserId]> },
    /// These sessions ended (logout, password change): close their sockets everywhere.
    CloseSessions(Vec<SessionId>),
    /// These sessions ended: forget them in every node's session cache, so no node keeps
    /// accepting their token from its cache.
    ForgetSessions(Vec<SessionId>),
    /// A login failed on the origin node: every other node counts it in its own login
    /// limiter, so the limits hold whichever node a client reaches. `username` is the
    /// limiter's key (normalised; empty for a malformed name), `address` the client's.
    LoginFailed { username: String, address: std::net::IpAddr },
    /// A registration attempt was counted on the origin node; every other node counts it too.
    Registered { address: std::net::IpAddr },
    /// A wrong password for a room was counted on the origin node; every other node counts
    /// it too, so the limit per user and room holds cluster-wide.
    RoomPasswordFailed { user: UserId, room: ConversationId },
}

/// What crosses nodes: a message and the node that published it.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    pub origin: NodeId,
    pub message: BusMessage,
}

/// Applies what arrives from the bus to this node (its hub, its session cache). Called from
/// the bus's receiving side, so it must never block or await: it only hands work on.
pub trait BusHandler: Send + Sync + 'static {
    fn handle(&self, envelope: Envelope);
    /// The bus was cut off from the other nodes at `lost_at` and is connected again (its
    /// subscription confirmed): envelopes published meanwhile may never arrive, so the node
    /// replays from the store what was committed since. An in-process bus never calls it.
    fn reconnected(&self, lost_at: Timestamp) {
        let _ = lost_at;
    }
}

/// The cluster bus: the one way a node's actions reach the sockets, session caches and
/// presence of every node, this one included. Chosen once at start-up (in-process, or NATS)
/// and held as `Arc<dyn Bus>`.
///
/// Rule for a node's own messages: `publish` applies them to this node's handler at once,
/// in the caller's order, and the node ignores its own envelopes when they come back from
/// the network. So local sockets never wait for a round trip, a broker that is down does
/// not stop a node serving its own sockets, and per conversation a node's events reach its
/// sockets in commit order. Publishing never fails the use case that caused it: the change
/// is already committed, and a node that missed an event gets it from the store (a gap
/// fill, or the replay after `BusHandler::reconnected`).
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// This node's id, the origin of every envelope it publishes.
    fn node(&self) -> NodeId;
    /// Starts delivering to `handler`: this node's own messages and, from now on, every
    /// other node's, each once, in each origin's publish order. Called once, at start-up;
    /// later calls are ignored.
    fn subscribe(&self, handler: Arc<dyn BusHandler>);
    async fn publish(&self, message: BusMessage);
    /// Whether other nodes hear this one right now (for `/api/health`). While they do not,
    /// the node keeps serving its own sockets (see the rule above).
    fn health(&self) -> BusHealth;
}

/// What `Bus::health` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusHealth {
    /// In-process, or connected to the broker.
    Connected,
    /// Cut off from the other nodes: why, for the operator.
    Disconnected(String),
}

/// The cluster-wide side of presence: which other nodes hold sockets of a user. Chosen with
/// the bus, once, at start-up (NATS key-value with `--nats-url`, else [`LocalPresence`]) and
/// held as `Arc<dyn PresenceDirectory>`.
///
/// A user is online while any of their devices is connected to any node. Each node tells the
/// directory when it gets a user's first socket and loses their last; the directory keeps
/// that known to the other nodes (refreshing it, so that a node that dies stops being
/// believed) and answers, from what it last heard, whether a user is online elsewhere.
///
/// [`LocalPresence`]: crate::realtime::LocalPresence
#[async_trait]
pub trait PresenceDirectory: Send + Sync + 'static {
    /// This node now holds sockets of `user` (`true`: its first one) or none any more.
    /// Never fails the caller: a directory that cannot be reached right now catches up.
    async fn set_here(&self, user: UserId, online: bool);
    /// Whether another node holds sockets of `user`, as this node last heard. Cheap (no
    /// I/O): views call it for every user they show.
    fn elsewhere(&self, user: UserId) -> bool;
    /// Starts telling `handler` of users that changed state without any node saying so:
    /// every device of theirs went away with a node that stopped refreshing (a crash, or a
    /// node cut off), or such a user was heard of again. Called once, at start-up.
    fn subscribe(&self, handler: Arc<dyn PresenceHandler>);
}

/// Hears the changes a [`PresenceDirectory`] found out by itself. Must not block.
pub trait PresenceHandler: Send + Sync + 'static {
    /// `user` is online (`true`) or offline elsewhere in the cluster, as far as this node can
    /// now tell, although no node announced it (see `PresenceDirectory::subscribe`).
    fn lapsed(&self, user: UserId, online: bool);
}

impl Committed {
    pub fn bus_message(&self) -> BusMessage {
        BusMessage::Deliver {
            conversation: self.conversation_id,
            seq: self.seq,
            payload: self.json.clone(),
            audience: self.recipients.clone(),
        }
    }
}
