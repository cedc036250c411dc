//! Realtime delivery: the connection registry (the hub), this node's side of the bus, and
//! presence.

mod bus;
mod hub;
mod presence;
mod sequencer;

pub use bus::LocalBus;
pub(crate) use bus::{NodeHandler, NodeParts};
pub use hub::{
    CloseReason, Connection, ConnectionId, Delivery, Hub, HubStats, Kill, Registration, SOCKET_QUEUE_CAPACITY,
};
pub use presence::PresenceWorker;
