//! Presence: turns online/offline transitions into `presence` events for the user's
//! contacts (less those the user blocks), and records last-seen. It runs as its own task
//! because it does I/O (the store, the presence directory) that the hub task must never
//! wait on.
//!
//! A user is online while any device is connected to any node. The hub reports this node's
//! transitions (first socket, last socket); the `PresenceDirectory` knows the other nodes'.
//! So a node announces "online" only when no other node already holds the user, and
//! "offline" only when none still does. Two nodes losing a user's last devices at the same
//! moment may each still see the other: the one that sees a peer re-checks a moment later
//! (`RECHECK`), so the last word is "offline" even then (said twice at worst, which is
//! harmless: presence is a state, not a count).
//!
//! Changes the directory finds out by itself (a node died and its entries stopped being
//! refreshed, or a node that was cut off is heard of again) are not announced by any node;
//! every node finds them out on its own, so each applies them to its own sockets only, and
//! nothing is said twice.

use super::hub::{Hub, PresenceChange};
use crate::ports::{Bus, BusHandler, BusMessage, Envelope, PresenceDirectory, PresenceHandler, Store};
use crate::rules::blocking::without_blocked;
use hubbub_domain::events::PresenceData;
use hubbub_domain::{Event, EventData, Timestamp, UserId};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Presence goes to direct contacts and to members of groups up to this size. In a big group
/// every member coming online would otherwise notify every other member: a thousand people
/// connecting make a million frames. Members of large groups see presence on profiles and
/// in direct chats instead.
pub const PRESENCE_MAX_GROUP: u32 = 32;

/// How long a node that lost a user's last socket while another node still held one waits
/// before looking again (the other node may have been losing its last one at that moment).
const RECHECK: Duration = Duration::from_secs(2);

/// What the worker is told besides the hub's transitions.
#[derive(Debug, Clone, Copy)]
enum Noticed {
    /// From the directory: no node announced it (see the module comment).
    Lapsed { user: UserId, online: bool },
    /// Our own re-check of an offline that another node seemed to cover.
    Recheck(UserId),
}

/// Forwards the directory's findings to the worker (the directory's handler must not block).
struct Lapses(mpsc::UnboundedSender<Noticed>);

impl PresenceHandler for Lapses {
    fn lapsed(&self, user: UserId, online: bool) {
        let _ = self.0.send(Noticed::Lapsed { user, online });
    }
}

pub struct PresenceWorker {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    directory: Arc<dyn PresenceDirectory>,
    hub: Hub,
    /// This node's bus handler: what the directory finds out is applied here only.
    local: Arc<dyn BusHandler>,
    noticed: mpsc::UnboundedSender<Noticed>,
}

impl PresenceWorker {
    pub(crate) fn start(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        directory: Arc<dyn PresenceDirectory>,
        hub: Hub,
        local: Arc<dyn BusHandler>,
        mut changes: mpsc::UnboundedReceiver<PresenceChange>,
    ) {
        let (noticed, mut noticed_rx) = mpsc::unbounded_channel();
        directory.subscribe(Arc::new(Lapses(noticed.clone())));
        let worker = PresenceWorker { store, bus, directory, hub, local, noticed };
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    change = changes.recv() => match change {
                        Some(change) => worker.here(change).await,
                        // The hub is gone: the node is shutting down.
                        None => break,
                    },
                    Some(noticed) = noticed_rx.recv() => worker.noticed(noticed).await,
                }
            }
        });
    }

    /// This node got a user's first socket or lost their last.
    async fn here(&self, change: PresenceChange) {
        let user = change.user;
        self.directory.set_here(user, change.online).await;
        if change.online {
            if !self.directory.elsewhere(user) {
                self.announce(user, true).await;
            }
            return;
        }
        if self.hub.is_online(user) {
            // A device came back meanwhile; its own change follows.
            return;
        }
        if self.directory.elsewhere(user) {
            let noticed = self.noticed.clone();
            tokio::spawn(async move {
                tokio::time::sleep(RECHECK).await;
                let _ = noticed.send(Noticed::Recheck(user));
            });
            return;
        }
        self.record_last_seen(user).await;
        self.announce(user, false).await;
    }

    async fn noticed(&self, noticed: Noticed) {
        match noticed {
            Noticed::Recheck(user) => {
                if !self.hub.is_online(user) && !self.directory.elsewhere(user) {
                    self.record_last_seen(user).await;
                    self.announce(user, false).await;
                }
            }
            Noticed::Lapsed { user, online } => {
                // What this node holds itself wins over what it heard of others.
                if self.hub.is_online(user) {
                    return;
                }
                if !online {
                    if self.directory.elsewhere(user) {
                        return;
                    }
                    // Every surviving node records it; the times differ by a sweep at most.
                    self.record_last_seen(user).await;
                }
                if let Some(message) = self.presence_message(user, online).await {
                    self.local.handle(Envelope { origin: self.bus.node(), message });
                }
            }
        }
    }

    async fn record_last_seen(&self, user: UserId) {
        if let Err(error) = self.store.set_last_seen(user, Timestamp::now()).await {
            tracing::warn!(%error, "could not record last-seen");
        }
    }

    /// Tells every node's sockets (this one's first).
    async fn announce(&self, user: UserId, online: bool) {
        if let Some(message) = self.presence_message(user, online).await {
            self.bus.publish(message).await;
        }
    }

    async fn presence_message(&self, user: UserId, online: bool) -> Option<BusMessage> {
        // Going offline was just recorded as now; coming online shows when they were last seen.
        let last_seen_at = if online {
            match self.store.user(user).await {
                Ok(Some(user)) => user.last_seen_at,
                _ => None,
            }
        } else {
            Some(Timestamp::now())
        };
        let contacts = match self.store.contacts(user, Some(PRESENCE_MAX_GROUP)).await {
            Ok(contacts) => contacts,
            Err(error) => {
                tracing::warn!(%error, "could not load contacts for presence");
                return None;
            }
        };
        // Nobody the user blocks hears of their presence. Decided here, where the audience
        // is made, so every node delivers to that audience and no node decides again.
        let blocked: Vec<UserId> = match self.store.blocked_users(user).await {
            Ok(users) => users.into_iter().map(|u| u.id).collect(),
            Err(error) => {
                tracing::warn!(%error, "could not load blocks for presence");
                return None;
            }
        };
        let audience = if blocked.is_empty() { contacts } else { without_blocked(&contacts, &blocked) };
        let event = Event::ephemeral(None, EventData::Presence(PresenceData { user_id: user, online, last_seen_at }));
        Some(BusMessage::Presence { user, online, payload: event.to_json().into(), audience: audience.into() })
    }
}
