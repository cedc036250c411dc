//! Presence: turns the hub's online/offline transitions into `presence` events for the
//! user's contacts, and records last-seen. It runs as its own task because it does I/O
//! (the store) that the hub task must never wait on.

use super::hub::PresenceChange;
use crate::ports::{Bus, BusMessage, Store};
use hubbub_domain::events::PresenceData;
use hubbub_domain::{Event, EventData, Timestamp};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Presence goes to direct contacts and to members of groups up to this size. In a big group
/// every member coming online would otherwise notify every other member: a thousand people
/// connecting make a million frames. Members of large groups see presence on profiles and
/// in direct chats instead.
pub const PRESENCE_MAX_GROUP: u32 = 32;

pub struct PresenceWorker;

impl PresenceWorker {
    pub(crate) fn start(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        mut changes: mpsc::UnboundedReceiver<PresenceChange>,
    ) {
        tokio::spawn(async move {
            while let Some(change) = changes.recv().await {
                let now = Timestamp::now();
                let last_seen_at = if change.online {
                    match store.user(change.user).await {
                        Ok(Some(user)) => user.last_seen_at,
                        _ => None,
                    }
                } else {
                    if let Err(error) = store.set_last_seen(change.user, now).await {
                        tracing::warn!(%error, "could not record last-seen");
                    }
                    Some(now)
                };
                let contacts = match store.contacts(change.user, Some(PRESENCE_MAX_GROUP)).await {
                    Ok(contacts) => contacts,
                    Err(error) => {
                        tracing::warn!(%error, "could not load contacts for presence");
                        continue;
                    }
                };
                let event = Event::ephemeral(
                    None,
                    EventData::Presence(PresenceData { user_id: change.user, online: change.online, last_seen_at }),
                );
                bus.publish(BusMessage::Presence {
                    user: change.user,
                    online: change.online,
                    payload: event.to_json().into(),
                    audience: contacts.into(),
                })
                .await;
            }
        });
    }
}
