//! How this node is: its database and its bus.
//!
//! A node without its database cannot serve (unavailable: a load balancer should take it
//! out). A node cut off from the bus still serves REST and its own sockets, only the other
//! nodes do not hear of its events until the bus is back (degraded: keep it in, alert).

use crate::App;
use crate::ports::BusHealth;
use std::sync::atomic::Ordering;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    Degraded,
    Unavailable,
}

#[derive(Debug)]
pub struct Report {
    pub status: Status,
    pub database_ok: bool,
    pub bus: BusHealth,
    /// Why the status is not `Ok`, one line each, for the operator.
    pub reasons: Vec<String>,
    /// Live WebSocket connections on this node.
    pub connections: u64,
}

pub async fn health(app: &App) -> Report {
    let database = app.store.health().await;
    let bus = app.bus.health();
    let mut reasons = Vec::new();
    if let Err(error) = &database {
        tracing::error!(%error, "health check: database not writable");
        reasons.push("the database does not accept writes".to_owned());
    }
    if let BusHealth::Disconnected(why) = &bus {
        reasons.push(why.clone());
    }
    let status = match (&database, &bus) {
        (Err(_), _) => Status::Unavailable,
        (Ok(()), BusHealth::Disconnected(_)) => Status::Degraded,
        (Ok(()), BusHealth::Connected) => Status::Ok,
    };
    Report {
        status,
        database_ok: database.is_ok(),
        bus,
        reasons,
        connections: app.hub.stats().connections.load(Ordering::Relaxed),
    }
}
