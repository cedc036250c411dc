//! The NATS adapter of the cluster bus (`hubbub_app::ports::Bus`), used only when the
//! binary is given `--nats-url`; without it the binary runs `LocalBus` and no code of this
//! crate is on any path.
//!
//! One core-NATS subject per cluster, `hubbub.<cluster>.events`, and one plain subscription
//! per node on it: every node gets every envelope. Never a queue group, which would hand
//! each envelope to one node only, while every node has sockets that may need it.
//!
//! A node's own messages: `publish` applies them to this node's handler at once and sends
//! them to NATS; the node drops its own envelopes when they come back. Delivering only
//! what comes back would add a broker round trip to every local event and stop even
//! single-node delivery while NATS is down; applying locally keeps both, and per
//! conversation the order is still commit order, because each node's commit feed publishes
//! in commit order and NATS keeps one connection's order. Across nodes, events of one
//! conversation committed on two nodes may interleave differently on each node; the
//! receiving node's delivery cursor (`hubbub_app`'s sequencer) puts them back in seq order.
//!
//! Outages: async-nats reconnects by itself (every second at most, here) and resubscribes.
//! What was published while the connection was down may never arrive, so once the
//! subscriptions are confirmed again the node's handler is told when the link was lost
//! (`BusHandler::reconnected`) and replays from the store what was committed since.

mod codec;
mod presence;
#[cfg(feature = "testing")]
pub mod test_server;

pub use codec::{DecodeError, decode, encode};
pub use presence::{NatsPresence, PresenceError, PresenceTiming};

use async_trait::async_trait;
use futures::StreamExt;
use hubbub_app::ports::{Bus, BusHandler, BusMessage, Envelope, NodeId};
use hubbub_domain::Timestamp;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How long connecting waits for the server to confirm the subscription.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum NatsBusError {
    /// The cluster name cannot be part of a subject.
    #[error("invalid cluster name {0:?}: use letters, digits, '-' and '_'")]
    InvalidCluster(String),
    #[error("cannot connect to NATS: {0}")]
    Connect(#[source] async_nats::ConnectError),
    #[error("cannot subscribe on NATS: {0}")]
    Subscribe(#[source] async_nats::SubscribeError),
    #[error("cannot confirm the subscription on NATS: {0}")]
    Confirm(#[source] async_nats::PublishError),
    #[error("NATS did not confirm the subscription in time")]
    NotConfirmed,
}

impl NatsBusError {
    /// Stable machine code, for logs.
    pub fn code(&self) -> &'static str {
        match self {
            NatsBusError::InvalidCluster(_) => "bus_invalid_cluster",
            NatsBusError::Connect(_) => "bus_connect_failed",
            NatsBusError::Subscribe(_) => "bus_subscribe_failed",
            NatsBusError::Confirm(_) | NatsBusError::NotConfirmed => "bus_subscribe_unconfirmed",
        }
    }
}

pub struct NatsBus {
    node: NodeId,
    client: async_nats::Client,
    /// Built once: cloning a `Subject` shares its bytes, so publishing allocates no name.
    subject: async_nats::Subject,
    cluster: String,
    own: OnceLock<Arc<dyn BusHandler>>,
    link: Arc<Link>,
    /// Opened at connect (so nothing published after `connect` returns is missed), handed
    /// to the receiving task by `subscribe`.
    incoming: Mutex<Option<async_nats::Subscriber>>,
    /// Envelopes on their way to NATS, sent in order by one task (`send_outbound`).
    outbound: tokio::sync::mpsc::Sender<bytes::Bytes>,
    /// Envelopes dropped because `outbound` was full (NATS away for a while), for the log.
    dropped: std::sync::atomic::AtomicU64,
}

/// Envelopes queued for NATS before `publish` drops new ones. While NATS is away the client
/// stops sending; without a limit of our own, `publish` would wait, and with it the task that
/// applies this node's commits to its own sockets.
const OUTBOUND_CAPACITY: usize = 8_192;

/// Sends queued envelopes in order. async-nats's `publish` waits while its own buffer is
/// full (it is, during an outage); waiting here holds back only other nodes' copies.
async fn send_outbound(
    client: async_nats::Client,
    subject: async_nats::Subject,
    mut queue: tokio::sync::mpsc::Receiver<bytes::Bytes>,
) {
    while let Some(wire) = queue.recv().await {
        if let Err(error) = client.publish(subject.clone(), wire).await {
            tracing::warn!(%error, "could not publish to the bus");
        }
    }
}

impl NatsBus {
    /// Connects, and subscribes this node to its cluster's subject. The subscription is
    /// confirmed by the server before this returns.
    pub async fn connect(url: &str, cluster: &str) -> Result<NatsBus, NatsBusError> {
        if cluster.is_empty() || !cluster.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(NatsBusError::InvalidCluster(cluster.to_owned()));
        }
        let node = NodeId::generate();
        let link = Arc::new(Link::default());
        let events = link.clone();
        let client = async_nats::ConnectOptions::new()
            .name(format!("hubbub-{}", node.0))
            // The default backoff grows to 4 s between attempts; a node back within a second
            // of its broker keeps the replay after an outage well inside 5 s.
            .reconnect_delay_callback(|attempts| Duration::from_millis(250 * attempts.min(4) as u64))
            .event_callback(move |event| {
                let link = events.clone();
                async move { link.on_event(event) }
            })
            .connect(url)
            .await
            .map_err(NatsBusError::Connect)?;
        let _ = link.client.set(client.clone());
        let subject = async_nats::Subject::from(format!("hubbub.{cluster}.events"));
        let incoming = client.subscribe(subject.clone()).await.map_err(NatsBusError::Subscribe)?;
        confirm_subscriptions(&client).await?;
        let (outbound, queue) = tokio::sync::mpsc::channel(OUTBOUND_CAPACITY);
        tokio::spawn(send_outbound(client.clone(), subject.clone(), queue));
        Ok(NatsBus {
            node,
            client,
            subject,
            cluster: cluster.to_owned(),
            own: OnceLock::new(),
            link,
            incoming: Mutex::new(Some(incoming)),
            outbound,
            dropped: std::sync::atomic::AtomicU64::new(0),
        })
    }

    pub fn subject(&self) -> &str {
        self.subject.as_str()
    }

    /// The cluster's presence directory, on this connection (JetStream key-value; the
    /// bucket is created by the first node that needs it).
    pub async fn presence(&self, timing: PresenceTiming) -> Result<NatsPresence, PresenceError> {
        NatsPresence::open(self.client.clone(), self.node, &self.cluster, timing).await
    }
}

/// The connection's ups and downs, as async-nats reports them, turned into
/// `BusHandler::reconnected` once the subscription is confirmed again.
#[derive(Default)]
struct Link {
    /// When the connection was lost; kept (the earliest) until a reconnection is confirmed,
    /// so a reconnection that drops again before its confirmation loses nothing.
    lost_at: Mutex<Option<Timestamp>>,
    handler: OnceLock<Arc<dyn BusHandler>>,
    client: OnceLock<async_nats::Client>,
}

impl Link {
    fn on_event(self: Arc<Self>, event: async_nats::Event) {
        match event {
            async_nats::Event::Disconnected => {
                let mut lost_at = self.lost_at.lock().unwrap_or_else(|e| e.into_inner());
                lost_at.get_or_insert_with(Timestamp::now);
                tracing::warn!("lost the NATS connection; events reach only this node's sockets until it is back");
            }
            async_nats::Event::Connected => {
                // async-nats reports `Connected` before it has resent the subscriptions: the
                // replay must wait for the server to have them, or an envelope published
                // between the replay's read and the resubscription would be lost.
                tokio::spawn(async move {
                    let Some(client) = self.client.get() else { return };
                    if let Err(error) = confirm_subscriptions(client).await {
                        tracing::warn!(code = error.code(), %error, "reconnected to NATS but could not confirm the subscription");
                        return;
                    }
                    let lost_at = self.lost_at.lock().unwrap_or_else(|e| e.into_inner()).take();
                    if let (Some(lost_at), Some(handler)) = (lost_at, self.handler.get()) {
                        tracing::info!("reconnected to NATS; replaying what was committed meanwhile");
                        handler.reconnected(lost_at);
                    }
                });
            }
            _ => {}
        }
    }
}

/// Returns once the server has registered this connection's subscriptions. `flush` only
/// writes them out; an envelope another node published a moment later could still reach
/// the server first and miss this node. The server handles one connection's commands in
/// order, so a message on a private subject subscribed after them, coming back, proves it.
async fn confirm_subscriptions(client: &async_nats::Client) -> Result<(), NatsBusError> {
    let inbox = client.new_inbox();
    let mut probe = client.subscribe(inbox.clone()).await.map_err(NatsBusError::Subscribe)?;
    client.publish(inbox, bytes::Bytes::new()).await.map_err(NatsBusError::Confirm)?;
    match tokio::time::timeout(CONFIRM_TIMEOUT, probe.next()).await {
        Ok(Some(_)) => Ok(()),
        _ => Err(NatsBusError::NotConfirmed),
    }
}

#[async_trait]
impl Bus for NatsBus {
    fn health(&self) -> hubbub_app::ports::BusHealth {
        use async_nats::connection::State;
        match self.client.connection_state() {
            State::Connected => hubbub_app::ports::BusHealth::Connected,
            // async-nats keeps reconnecting on its own; until it succeeds, events reach only
            // this node's sockets and other nodes' clients catch up by `/events`.
            state => hubbub_app::ports::BusHealth::Disconnected(format!(
                "the NATS connection is {}; events reach only this node's sockets",
                match state {
                    State::Pending => "reconnecting",
                    _ => "down",
                }
            )),
        }
    }

    fn node(&self) -> NodeId {
        self.node
    }

    fn subscribe(&self, handler: Arc<dyn BusHandler>) {
        if self.own.set(handler.clone()).is_err() {
            return;
        }
        let _ = self.link.handler.set(handler.clone());
        let Some(mut incoming) = self.incoming.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        let node = self.node;
        tokio::spawn(async move {
            while let Some(message) = incoming.next().await {
                match decode(message.payload) {
                    // Already applied by `publish`.
                    Ok(envelope) if envelope.origin == node => {}
                    Ok(envelope) => handler.handle(envelope),
                    Err(error) => tracing::warn!(code = error.code(), %error, "dropped an envelope from the bus"),
                }
            }
            tracing::warn!("the NATS subscription ended; this node no longer hears the others");
        });
    }

    async fn publish(&self, message: BusMessage) {
        let wire = encode(self.node, &message);
        if let Some(own) = self.own.get() {
            own.handle(Envelope { origin: self.node, message });
        }
        // The change is committed and applied here already; other nodes that miss it get it
        // from the store (a gap fill, or the replay once the connection is back). So when
        // NATS has been away long enough to fill the queue, new envelopes are dropped
        // rather than waited for.
        if self.outbound.try_send(wire).is_err() {
            let dropped = self.dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(
                    dropped,
                    "the bus is not taking envelopes; other nodes will fill the gaps from the store"
                );
            }
        }
    }
}
