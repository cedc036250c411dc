//! Realtime delivery: the connection registry (the hub) and presence.

mod hub;
mod presence;

pub use hub::{Connection, ConnectionId, Hub, HubStats, LocalFanout, Registration, SOCKET_QUEUE_CAPACITY};
pub use presence::PresenceWorker;
