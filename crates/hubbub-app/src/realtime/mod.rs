//! Realtime delivery: the connection registry (the hub) and presence.

mod hub;
mod presence;

pub use hub::{
    CloseReason, Connection, ConnectionId, Hub, HubStats, Kill, LocalFanout, Registration, SOCKET_QUEUE_CAPACITY,
};
pub use presence::PresenceWorker;
