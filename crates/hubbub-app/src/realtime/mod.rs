//! Realtime delivery: the connection registry (the hub), this node's side of the bus, and
//! presence (the worker, and the in-process presence directory).

mod bus;
mod hub;
mod local_presence;
mod presence;
mod sequencer;

pub use bus::LocalBus;
pub(crate) use bus::{NodeHandler, NodeParts};
pub use hub::{
    CloseReason, Connection, ConnectionId, Delivery, Hub, HubStats, Kill, Registration, SOCKET_QUEUE_CAPACITY,
};
pub use local_presence::LocalPresence;
pub use presence::PresenceWorker;
