//! This node's side of the bus: the handler that applies what arrives (to the hub and the
//! session cache), and the in-process adapter, the default when there is no NATS.

use super::hub::{Delivery, Hub};
use crate::ports::{Bus, BusHandler, BusMessage, Envelope, NodeId};
use crate::session_cache::SessionCache;
use async_trait::async_trait;
use std::sync::{Arc, OnceLock, RwLock};

/// Applies envelopes to this node: deliveries to the local sockets of the audience's users
/// (the hub resolves users to sockets from its own registry), session ends to the hub and
/// the session cache. Every arm only hands work on (a hub command, a cache update under a
/// short lock), so it never blocks whoever calls it.
pub(crate) struct NodeHandler {
    pub hub: Hub,
    pub sessions: Arc<SessionCache>,
}

impl BusHandler for NodeHandler {
    fn handle(&self, envelope: Envelope) {
        match envelope.message {
            BusMessage::Deliver { payload, audience, .. } => {
                self.hub.deliver(Delivery { recipients: audience, payload, except_user: None });
            }
            BusMessage::Ephemeral { payload, audience, except_user } => {
                self.hub.deliver(Delivery { recipients: audience, payload, except_user });
            }
            // Online state stays what this node sees (the hub's registry); a cluster-wide
            // view of it is for later (presence in a shared key-value store).
            BusMessage::Presence { user, payload, audience, .. } => {
                self.hub.deliver(Delivery { recipients: audience, payload, except_user: Some(user) });
            }
            BusMessage::CloseSessions(sessions) => self.hub.close_sessions(sessions),
            BusMessage::ForgetSessions(sessions) => self.sessions.forget(&sessions),
        }
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
