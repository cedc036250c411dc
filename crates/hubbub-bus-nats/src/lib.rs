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
//! conversation committed on two nodes may interleave differently on each node; clients
//! order by `seq` and fill gaps through `/events?after=`.

mod codec;
mod presence;
#[cfg(feature = "testing")]
pub mod test_server;

pub use codec::{DecodeError, decode, encode};
pub use presence::{NatsPresence, PresenceError, PresenceTiming};

use async_trait::async_trait;
use futures::StreamExt;
use hubbub_app::ports::{Bus, BusHandler, BusMessage, Envelope, NodeId};
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
    /// Opened at connect (so nothing published after `connect` returns is missed), handed
    /// to the receiving task by `subscribe`.
    incoming: Mutex<Option<async_nats::Subscriber>>,
}

impl NatsBus {
    /// Connects, and subscribes this node to its cluster's subject. The subscription is
    /// confirmed by the server before this returns.
    pub async fn connect(url: &str, cluster: &str) -> Result<NatsBus, NatsBusError> {
        if cluster.is_empty() || !cluster.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(NatsBusError::InvalidCluster(cluster.to_owned()));
        }
        let node = NodeId::generate();
        let client = async_nats::ConnectOptions::new()
            .name(format!("hubbub-{}", node.0))
            .connect(url)
            .await
            .map_err(NatsBusError::Connect)?;
        let subject = async_nats::Subject::from(format!("hubbub.{cluster}.events"));
        let incoming = client.subscribe(subject.clone()).await.map_err(NatsBusError::Subscribe)?;
        confirm_subscriptions(&client).await?;
        Ok(NatsBus {
            node,
            client,
            subject,
            cluster: cluster.to_owned(),
            own: OnceLock::new(),
            incoming: Mutex::new(Some(incoming)),
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
        // The change is committed and applied here already; other nodes' devices that miss
        // it catch up through `/events?after=`.
        if let Err(error) = self.client.publish(self.subject.clone(), wire).await {
            tracing::warn!(%error, "could not publish to the bus");
        }
    }
}
