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
//! The hub also holds the rules of who may stay connected: a user holds at most
//! `Limits::websockets_per_user_max` sockets (the newest one over the cap is refused, so the
//! devices already connected keep working), a session that ends loses its sockets, and at
//! shutdown every socket is closed and new ones are refused. Each close carries a
//! [`CloseReason`]; how a reason looks on the wire (a WebSocket close code) is the HTTP
//! layer's business, not this crate's.
//!
//! Payloads are `Bytes`: an event is serialised once and every recipient's queue holds a
//! reference-counted handle to the same buffer.

use crate::ports::SessionId;
use bytes::Bytes;
use hubbub_domain::UserId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// How many events may wait for one socket before the socket is considered too slow.
pub const SOCKET_QUEUE_CAPACITY: usize = 64;

pub type ConnectionId = u64;

/// What the hub delivers: one payload to the local sockets of these users.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub recipients: Arc<[UserId]>,
    pub payload: Bytes,
    /// Typing and presence go to everyone but this user's own devices.
    pub except_user: Option<UserId>,
}

enum Command {
    Register {
        id: ConnectionId,
        user: UserId,
        session: SessionId,
        queue: mpsc::Sender<Bytes>,
        kill: Kill,
    },
    Unregister {
        id: ConnectionId,
    },
    Deliver(Delivery),
    CloseSessions(Vec<SessionId>),
    /// The sessions of the sockets open now, each once.
    Sessions {
        reply: oneshot::Sender<Vec<SessionId>>,
    },
    /// Shutdown: close everything, refuse newcomers, and answer `done` once every
    /// registration has been dropped (each socket's tasks have ended).
    CloseAll {
        done: oneshot::Sender<()>,
    },
}

/// Why the hub closed a socket, so the client can be told whether to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// Its queue was full: the peer is too slow or gone. Reconnecting and catching up
    /// through `/events` is fine.
    SlowConsumer,
    /// Its session ended (logout, password change): the token no longer works, so
    /// reconnecting with it is pointless.
    SessionEnded,
    /// The user already held `Limits::websockets_per_user_max` sockets; this newest one was
    /// refused. Retrying at once would be refused again.
    TooManyConnections,
    /// The server is stopping; another node, or this one once restarted, will take the
    /// client back.
    ShuttingDown,
}

/// A socket's stop signal: a cancellation token, and the reason when the hub is the one
/// stopping the socket. The socket's own tasks also use it to stop each other, without a
/// reason.
#[derive(Clone, Default)]
pub struct Kill {
    token: CancellationToken,
    reason: Arc<OnceLock<CloseReason>>,
}

impl Kill {
    /// Stops the socket for `reason`. The reason is stored before the token fires, so a
    /// task woken by the token (or by its queue closing right after) always finds it; the
    /// first reason given is the one that stays.
    pub fn close(&self, reason: CloseReason) {
        let _ = self.reason.set(reason);
        self.token.cancel();
    }

    /// Stops the socket's other task, with no reason to tell the client.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    pub async fn cancelled(&self) {
        self.token.cancelled().await;
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Why the hub closed this socket; `None` if it did not (or has not yet).
    pub fn reason(&self) -> Option<CloseReason> {
        self.reason.get().copied()
    }
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
    pub too_many_connections_refused: AtomicU64,
}

/// A registered socket as its handler sees it. Its `registration` unregisters the socket
/// when dropped, so a handler that returns early or panics never leaves a ghost behind.
pub struct Connection {
    pub id: ConnectionId,
    pub user: UserId,
    pub session: SessionId,
    /// Events for this socket, in order; `None` once the hub has dropped the connection.
    pub outbound: mpsc::Receiver<Bytes>,
    /// Fired when the hub wants this socket closed, with the reason (see [`CloseReason`]).
    pub kill: Kill,
    pub registration: Registration,
}

/// Keep this alive for as long as the socket is; dropping it unregisters the socket. Drop it
/// only once the socket's tasks have ended: `close_all` takes the drop to mean that the
/// socket's close frame has been written (or given up on).
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
    /// must never do itself (storing last-seen, looking up contacts). A user may hold at
    /// most `per_user_max` sockets at once.
    pub(crate) fn start(presence: mpsc::UnboundedSender<PresenceChange>, per_user_max: usize) -> Hub {
        let (commands, receiver) = mpsc::unbounded_channel();
        let board = Arc::new(Board::default());
        let stats = Arc::new(HubStats::default());
        let task = HubTask {
            connections: HashMap::new(),
            by_user: HashMap::new(),
            board: board.clone(),
            stats: stats.clone(),
            presence,
            per_user_max,
            alive: 0,
            shutting_down: false,
            drained: Vec::new(),
        };
        tokio::spawn(task.run(receiver));
        Hub { commands, next_id: Arc::new(AtomicU64::new(1)), board, stats }
    }

    pub fn register(&self, user: UserId, session: SessionId) -> Connection {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (queue, outbound) = mpsc::channel(SOCKET_QUEUE_CAPACITY);
        let kill = Kill::default();
        let _ = self.commands.send(Command::Register { id, user, session, queue, kill: kill.clone() });
        let registration = Registration { id, commands: self.commands.clone() };
        Connection { id, user, session, outbound, kill, registration }
    }

    pub fn deliver(&self, delivery: Delivery) {
        let _ = self.commands.send(Command::Deliver(delivery));
    }

    /// Closes every socket of these sessions (logout, password change) with
    /// [`CloseReason::SessionEnded`].
    pub fn close_sessions(&self, sessions: Vec<SessionId>) {
        if !sessions.is_empty() {
            let _ = self.commands.send(Command::CloseSessions(sessions));
        }
    }

    /// The sessions that have a socket open on this node now, each once.
    pub async fn sessions(&self) -> Vec<SessionId> {
        let (reply, answer) = oneshot::channel();
        if self.commands.send(Command::Sessions { reply }).is_err() {
            return Vec::new();
        }
        answer.await.unwrap_or_default()
    }

    /// Shutdown: closes every socket with [`CloseReason::ShuttingDown`], refuses every
    /// socket registered from now on, and resolves once every socket's tasks have ended, so
    /// their close frames are written (or given up on) before the process exits. Each
    /// socket gives up on a peer that does not take its close frame within a fraction of a
    /// second, so this ends soon; a caller with a shutdown deadline bounds it anyway.
    pub async fn close_all(&self) {
        let (done, drained) = oneshot::channel();
        if self.commands.send(Command::CloseAll { done }).is_ok() {
            // An error means the hub task is gone, and with it every socket's registry entry.
            let _ = drained.await;
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
    kill: Kill,
}

struct HubTask {
    connections: HashMap<ConnectionId, Entry>,
    by_user: HashMap<UserId, Vec<ConnectionId>>,
    board: Arc<Board>,
    stats: Arc<HubStats>,
    presence: mpsc::UnboundedSender<PresenceChange>,
    per_user_max: usize,
    /// Registrations not yet dropped, refused and closed ones included: a socket the hub has
    /// closed may still be writing its close frame. Every `Register` is followed by exactly
    /// one `Unregister`, from the `Registration`'s drop.
    alive: usize,
    shutting_down: bool,
    /// `close_all` callers waiting for `alive` to reach zero.
    drained: Vec<oneshot::Sender<()>>,
}

impl HubTask {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        while let Some(command) = commands.recv().await {
            match command {
                Command::Register { id, user, session, queue, kill } => {
                    self.register(id, Entry { user, session, queue, kill });
                }
                Command::Unregister { id } => {
                    if let Some(entry) = self.remove(id) {
                        entry.kill.cancel();
                    }
                    self.alive = self.alive.saturating_sub(1);
                    self.notify_if_drained();
                }
                Command::Deliver(delivery) => self.deliver(&delivery),
                Command::CloseSessions(sessions) => {
                    let doomed: Vec<ConnectionId> = self
                        .connections
                        .iter()
                        .filter(|(_, entry)| sessions.contains(&entry.session))
                        .map(|(id, _)| *id)
                        .collect();
                    for id in doomed {
                        self.close(id, CloseReason::SessionEnded);
                    }
                }
                Command::Sessions { reply } => {
                    let mut sessions: Vec<SessionId> = self.connections.values().map(|entry| entry.session).collect();
                    sessions.sort_unstable_by_key(|session| session.0);
                    sessions.dedup();
                    let _ = reply.send(sessions);
                }
                Command::CloseAll { done } => {
                    self.shutting_down = true;
                    let everyone: Vec<ConnectionId> = self.connections.keys().copied().collect();
                    for id in everyone {
                        self.close(id, CloseReason::ShuttingDown);
                    }
                    self.drained.push(done);
                    self.notify_if_drained();
                }
            }
        }
    }

    /// Admits a socket, or refuses it with a reason. The check and the insertion happen in
    /// this one task, so concurrent upgrades cannot together slip past the cap, and it is
    /// always the newest socket that is refused: the devices already connected keep working.
    fn register(&mut self, id: ConnectionId, entry: Entry) {
        self.alive += 1;
        if self.shutting_down {
            entry.kill.close(CloseReason::ShuttingDown);
            return;
        }
        let user = entry.user;
        let devices = self.by_user.entry(user).or_default();
        if devices.len() >= self.per_user_max {
            self.stats.too_many_connections_refused.fetch_add(1, Ordering::Relaxed);
            entry.kill.close(CloseReason::TooManyConnections);
            if devices.is_empty() {
                // Only with a cap of zero; keep `by_user` free of empty lists.
                self.by_user.remove(&user);
            }
            return;
        }
        devices.push(id);
        let first = devices.len() == 1;
        self.connections.insert(id, entry);
        if first {
            self.set_online(user, true);
        }
        self.stats.connections.fetch_add(1, Ordering::Relaxed);
    }

    fn notify_if_drained(&mut self) {
        if self.shutting_down && self.alive == 0 {
            for done in self.drained.drain(..) {
                let _ = done.send(());
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
            self.close(id, CloseReason::SlowConsumer);
        }
    }

    /// Drops a connection from the registry and tells its tasks why. The reason is set
    /// before the queue sender is dropped (with the entry), so a writer that notices its
    /// queue closing before the kill still finds the reason.
    fn close(&mut self, id: ConnectionId, reason: CloseReason) {
        if let Some(entry) = self.remove(id) {
            entry.kill.close(reason);
        }
    }

    /// Drops a connection from the registry (no more deliveries, presence updated) and
    /// hands its entry back; dropping the entry closes the socket's queue.
    fn remove(&mut self, id: ConnectionId) -> Option<Entry> {
        let entry = self.connections.remove(&id)?;
        self.stats.connections.fetch_sub(1, Ordering::Relaxed);
        if let Some(devices) = self.by_user.get_mut(&entry.user) {
            devices.retain(|d| *d != id);
            if devices.is_empty() {
                self.by_user.remove(&entry.user);
                self.set_online(entry.user, false);
            }
        }
        Some(entry)
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
        let hub = Hub::start(presence_tx, 32);
        let alice = UserId::generate();
        let mut fast = hub.register(alice, session());
        let slow = hub.register(alice, session());

        // Fill the slow socket's queue without reading it, while the fast one keeps up.
        for _ in 0..SOCKET_QUEUE_CAPACITY + 1 {
            hub.deliver(delivery(&[alice], "{}"));
            assert_eq!(fast.outbound.recv().await.unwrap(), Bytes::from_static(b"{}"));
        }
        slow.kill.cancelled().await;
        assert_eq!(slow.kill.reason(), Some(CloseReason::SlowConsumer));
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
        let hub = Hub::start(presence_tx, 32);
        let bob = UserId::generate();
        let (s1, s2) = (session(), session());
        let one = hub.register(bob, s1);
        let mut two = hub.register(bob, s2);
        hub.close_sessions(vec![s1]);
        one.kill.cancelled().await;
        assert_eq!(one.kill.reason(), Some(CloseReason::SessionEnded));
        hub.deliver(delivery(&[bob], "x"));
        assert_eq!(two.outbound.recv().await.unwrap(), Bytes::from_static(b"x"));
        assert!(hub.is_online(bob));
        assert!(two.kill.reason().is_none());
    }

    #[tokio::test]
    async fn the_socket_over_the_cap_is_refused_and_the_others_keep_working() {
        let (presence_tx, _presence_rx) = mpsc::unbounded_channel();
        let hub = Hub::start(presence_tx, 2);
        let (carol, dave) = (UserId::generate(), UserId::generate());
        let mut first = hub.register(carol, session());
        let mut second = hub.register(carol, session());
        let mut third = hub.register(carol, session());
        third.kill.cancelled().await;
        assert_eq!(third.kill.reason(), Some(CloseReason::TooManyConnections));
        assert!(third.outbound.recv().await.is_none(), "a refused socket gets nothing");
        let mut other_user = hub.register(dave, session());
        hub.deliver(delivery(&[carol, dave], "y"));
        for socket in [&mut first, &mut second, &mut other_user] {
            assert_eq!(socket.outbound.recv().await.unwrap(), Bytes::from_static(b"y"));
            assert!(!socket.kill.is_cancelled());
        }
        assert_eq!(hub.stats().too_many_connections_refused.load(Ordering::Relaxed), 1);

        // A socket that leaves makes room for the next one.
        drop(first);
        drop(third);
        let mut fourth = hub.register(carol, session());
        hub.deliver(delivery(&[carol], "z"));
        assert_eq!(fourth.outbound.recv().await.unwrap(), Bytes::from_static(b"z"));
        assert!(fourth.kill.reason().is_none());
    }

    #[tokio::test]
    async fn close_all_closes_everyone_waits_for_their_tasks_and_refuses_newcomers() {
        let (presence_tx, _presence_rx) = mpsc::unbounded_channel();
        let hub = Hub::start(presence_tx, 32);
        let erin = UserId::generate();
        let a = hub.register(erin, session());
        let b = hub.register(UserId::generate(), session());
        let closing = tokio::spawn({
            let hub = hub.clone();
            async move { hub.close_all().await }
        });
        a.kill.cancelled().await;
        b.kill.cancelled().await;
        assert_eq!(a.kill.reason(), Some(CloseReason::ShuttingDown));
        assert_eq!(b.kill.reason(), Some(CloseReason::ShuttingDown));
        assert!(!hub.is_online(erin));

        // Still holding the registrations: their tasks are still "writing the close frame".
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!closing.is_finished(), "close_all must wait for every socket's tasks");
        let late = hub.register(erin, session());
        late.kill.cancelled().await;
        assert_eq!(late.kill.reason(), Some(CloseReason::ShuttingDown));
        drop((a, b));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!closing.is_finished(), "the late socket is still registered");
        drop(late);
        tokio::time::timeout(std::time::Duration::from_secs(5), closing).await.unwrap().unwrap();
    }
}
