//! The hub: one task owns the registry of live connections (user → devices).
//!
//! Why one task and not a shared map behind a lock: every change to the registry (a socket
//! arrives, a socket leaves, a session ends) and every delivery are applied in one order by
//! one owner, so there is no lock to contend for on the hot path and no way for a delivery
//! to race with an unregistration. The task never awaits a socket: each connection has its
//! own bounded queue (64 events) drained by its own writer task, and the hub only ever
//! `try_send`s into it. A full queue means the peer is too slow or dead; the hub closes that
//! one connection and moves on, so a stalled phone never slows anyone else down.
//!
//! Payloads are `Bytes`: an event is serialised once and every recipient's queue holds a
//! reference-counted handle to the same buffer.

use crate::ports::{Delivery, Fanout, SessionId};
use async_trait::async_trait;
use bytes::Bytes;
use hubbub_domain::UserId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How many events may wait for one socket before the socket is considered too slow.
pub const SOCKET_QUEUE_CAPACITY: usize = 64;

pub type ConnectionId = u64;

enum Command {
    Register { id: ConnectionId, user: UserId, session: SessionId, queue: mpsc::Sender<Bytes>, kill: CancellationToken },
    Unregister { id: ConnectionId },
    Deliver(Delivery),
    CloseSessions(Vec<SessionId>),
}

/// A change of a user's online state, from the hub to the presence worker.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PresenceChange {
    pub user: UserId,
    pub online: bool,
}

#[derive(Default)]
struct Board {
    /// Live connections per user; written only by the hub task, read by anyone.
    online: RwLock<HashMap<UserId, u32>>,
}

#[derive(Clone)]
pub struct Hub {
    commands: mpsc::UnboundedSender<Command>,
    next_id: Arc<AtomicU64>,
    board: Arc<Board>,
    stats: Arc<HubStats>,
}

/// Counters for `/metrics`, updated by the hub task with relaxed atomics.
#[derive(Default, Debug)]
pub struct HubStats {
    pub connections: AtomicU64,
    pub deliveries: AtomicU64,
    pub slow_consumers_closed: AtomicU64,
}

/// A registered socket as its handler sees it. Its `registration` unregisters the socket
/// when dropped, so a handler that returns early or panics never leaves a ghost behind.
pub struct Connection {
    pub id: ConnectionId,
    pub user: UserId,
    pub session: SessionId,
    /// Events for this socket, in order; `None` once the hub has dropped the connection.
    pub outbound: mpsc::Receiver<Bytes>,
    /// Cancelled when the hub wants this socket closed (queue full, session ended).
    pub kill: CancellationToken,
    pub registration: Registration,
}

/// Keep this alive for as long as the socket is; dropping it unregisters the socket.
pub struct Registration {
    id: ConnectionId,
    commands: mpsc::UnboundedSender<Command>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        // The hub may already be gone at shutdown; then there is nothing to unregister from.
        let _ = self.commands.send(Command::Unregister { id: self.id });
    }
}

impl Hub {
    /// Starts the hub task. Presence changes go to `presence`, which does the I/O the hub
    /// must never do itself (storing last-seen, looking up contacts).
    pub(crate) fn start(presence: mpsc::UnboundedSender<PresenceChange>) -> Hub {
        let (commands, receiver) = mpsc::unbounded_channel();
        let board = Arc::new(Board::default());
        let stats = Arc::new(HubStats::default());
        let task = HubTask {
            connections: HashMap::new(),
            by_user: HashMap::new(),
            board: board.clone(),
            stats: stats.clone(),
            presence,
        };
        tokio::spawn(task.run(receiver));
        Hub { commands, next_id: Arc::new(AtomicU64::new(1)), board, stats }
    }

    pub fn register(&self, user: UserId, session: SessionId) -> Connection {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (queue, outbound) = mpsc::channel(SOCKET_QUEUE_CAPACITY);
        let kill = CancellationToken::new();
        let _ = self.commands.send(Command::Register { id, user, session, queue, kill: kill.clone() });
        let registration = Registration { id, commands: self.commands.clone() };
        Connection { id, user, session, outbound, kill, registration }
    }

    pub fn deliver(&self, delivery: Delivery) {
        let _ = self.commands.send(Command::Deliver(delivery));
    }

    /// Closes every socket of these sessions (logout, password change).
    pub fn close_sessions(&self, sessions: Vec<SessionId>) {
        if !sessions.is_empty() {
            let _ = self.commands.send(Command::CloseSessions(sessions));
        }
    }

    pub fn is_online(&self, user: UserId) -> bool {
        self.board.online.read().map(|m| m.contains_key(&user)).unwrap_or(false)
    }

    pub fn stats(&self) -> &HubStats {
        &self.stats
    }
}

struct Entry {
    user: UserId,
    session: SessionId,
    queue: mpsc::Sender<Bytes>,
    kill: CancellationToken,
}

struct HubTask {
    connections: HashMap<ConnectionId, Entry>,
    by_user: HashMap<UserId, Vec<ConnectionId>>,
    board: Arc<Board>,
    stats: Arc<HubStats>,
    presence: mpsc::UnboundedSender<PresenceChange>,
}

impl HubTask {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        while let Some(command) = commands.recv().await {
            match command {
                Command::Register { id, user, session, queue, kill } => {
                    self.connections.insert(id, Entry { user, session, queue, kill });
                    let devices = self.by_user.entry(user).or_default();
                    devices.push(id);
                    if devices.len() == 1 {
                        self.set_online(user, true);
                    }
                    self.stats.connections.fetch_add(1, Ordering::Relaxed);
                }
                Command::Unregister { id } => self.remove(id),
                Command::Deliver(delivery) => self.deliver(&delivery),
                Command::CloseSessions(sessions) => {
                    let doomed: Vec<ConnectionId> = self
                        .connections
                        .iter()
                        .filter(|(_, entry)| sessions.contains(&entry.session))
                        .map(|(id, _)| *id)
                        .collect();
                    for id in doomed {
                        self.remove(id);
                    }
                }
            }
        }
    }

    fn deliver(&mut self, delivery: &Delivery) {
        let mut too_slow = Vec::new();
        for user in delivery.recipients.iter() {
            if delivery.except_user == Some(*user) {
                continue;
            }
            let Some(devices) = self.by_user.get(user) else {
                continue;
            };
            for id in devices {
                let entry = &self.connections[id];
                match entry.queue.try_send(delivery.payload.clone()) {
                    Ok(()) => {
                        self.stats.deliveries.fetch_add(1, Ordering::Relaxed);
                    }
                    // Full: the peer stopped reading. Closed: its writer already ended.
                    // Either way this socket is done; nobody waits for it.
                    Err(_) => too_slow.push(*id),
                }
            }
        }
        for id in too_slow {
            self.stats.slow_consumers_closed.fetch_add(1, Ordering::Relaxed);
            self.remove(id);
        }
    }

    /// Drops a connection from the registry and tells its tasks to stop. Dropping the queue
    /// sender also ends the writer's `recv()`, whichever it notices first.
    fn remove(&mut self, id: ConnectionId) {
        let Some(entry) = self.connections.remove(&id) else {
            return;
        };
        entry.kill.cancel();
        self.stats.connections.fetch_sub(1, Ordering::Relaxed);
        if let Some(devices) = self.by_user.get_mut(&entry.user) {
            devices.retain(|d| *d != id);
            if devices.is_empty() {
                self.by_user.remove(&entry.user);
                self.set_online(entry.user, false);
            }
        }
    }

    fn set_online(&self, user: UserId, online: bool) {
        if let Ok(mut board) = self.board.online.write() {
            if online {
                board.insert(user, 1);
            } else {
                board.remove(&user);
            }
        }
        let _ = self.presence.send(PresenceChange { user, online });
    }
}

/// The single-node fanout: events go straight to this process's hub.
pub struct LocalFanout {
    hub: Hub,
}

impl LocalFanout {
    pub fn new(hub: Hub) -> Self {
        Self { hub }
    }
}

#[async_trait]
impl Fanout for LocalFanout {
    async fn publish(&self, delivery: Delivery) {
        self.hub.deliver(delivery);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn session() -> SessionId {
        SessionId(Uuid::now_v7())
    }

    fn delivery(to: &[UserId], text: &'static str) -> Delivery {
        Delivery { recipients: to.to_vec().into(), payload: Bytes::from_static(text.as_bytes()), except_user: None }
    }

    #[tokio::test]
    async fn every_device_gets_each_event_once_and_a_full_queue_closes_only_that_socket() {
        let (presence_tx, mut presence_rx) = mpsc::unbounded_channel();
        let hub = Hub::start(presence_tx);
        let alice = UserId::generate();
        let mut fast = hub.register(alice, session());
        let slow = hub.register(alice, session());

        // Fill the slow socket's queue without reading it, while the fast one keeps up.
        for _ in 0..SOCKET_QUEUE_CAPACITY + 1 {
            hub.deliver(delivery(&[alice], "{}"));
            assert_eq!(fast.outbound.recv().await.unwrap(), Bytes::from_static(b"{}"));
        }
        slow.kill.cancelled().await;
        hub.deliver(delivery(&[alice], "{\"after\":1}"));
        assert_eq!(fast.outbound.recv().await.unwrap(), Bytes::from_static(b"{\"after\":1}"));
        assert!(!fast.kill.is_cancelled());
        assert_eq!(hub.stats().slow_consumers_closed.load(Ordering::Relaxed), 1);

        let first = presence_rx.recv().await.unwrap();
        assert!(first.online);
        drop(fast);
        drop(slow);
        let last = presence_rx.recv().await.unwrap();
        assert!(!last.online);
        assert!(!hub.is_online(alice));
    }

    #[tokio::test]
    async fn closing_a_session_closes_only_its_sockets() {
        let (presence_tx, _presence_rx) = mpsc::unbounded_channel();
        let hub = Hub::start(presence_tx);
        let bob = UserId::generate();
        let (s1, s2) = (session(), session());
        let one = hub.register(bob, s1);
        let mut two = hub.register(bob, s2);
        hub.close_sessions(vec![s1]);
        one.kill.cancelled().await;
        hub.deliver(delivery(&[bob], "x"));
        assert_eq!(two.outbound.recv().await.unwrap(), Bytes::from_static(b"x"));
        assert!(hub.is_online(bob));
    }
}
