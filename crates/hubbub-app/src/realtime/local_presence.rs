//! The in-process presence directory, the default without NATS. Alone (the single-node
//! server) nobody is ever elsewhere; several nodes in one process (tests) share a
//! [`LocalPresence::join`]ed table. Nothing lapses: nodes in one process live and die
//! together.

use crate::ports::{NodeId, PresenceDirectory, PresenceHandler};
use async_trait::async_trait;
use hubbub_domain::UserId;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

pub struct LocalPresence {
    node: NodeId,
    /// Which nodes hold sockets of each user.
    table: Arc<RwLock<HashMap<UserId, HashSet<NodeId>>>>,
}

impl Default for LocalPresence {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalPresence {
    pub fn new() -> Self {
        LocalPresence { node: NodeId::generate(), table: Arc::default() }
    }

    /// Another node's directory on this one's table.
    pub fn join(&self) -> Self {
        LocalPresence { node: NodeId::generate(), table: self.table.clone() }
    }
}

#[async_trait]
impl PresenceDirectory for LocalPresence {
    async fn set_here(&self, user: UserId, online: bool) {
        let mut table = self.table.write().unwrap_or_else(|e| e.into_inner());
        if online {
            table.entry(user).or_default().insert(self.node);
        } else if let Some(nodes) = table.get_mut(&user) {
            nodes.remove(&self.node);
            if nodes.is_empty() {
                table.remove(&user);
            }
        }
    }

    fn elsewhere(&self, user: UserId) -> bool {
        let table = self.table.read().unwrap_or_else(|e| e.into_inner());
        table.get(&user).is_some_and(|nodes| nodes.iter().any(|node| *node != self.node))
    }

    fn subscribe(&self, _handler: Arc<dyn PresenceHandler>) {}
}

#[cfg(test)]
mod contract {
    use super::LocalPresence;
    use crate::ports::PresenceDirectory;
    use std::sync::Arc;

    async fn pair() -> (Arc<dyn PresenceDirectory>, Arc<dyn PresenceDirectory>) {
        let a = LocalPresence::new();
        let b = a.join();
        (Arc::new(a), Arc::new(b))
    }

    crate::presence_contract_tests!(pair());
}
