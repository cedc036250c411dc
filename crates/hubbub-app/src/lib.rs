//! Hubbub's application layer: the ports (what the use cases need from storage and the
//! network), the use cases themselves (one per file under `usecases/<area>/<verb>.rs`, where
//! every business rule lives), and the realtime hub.
//!
//! This crate knows nothing of axum, HTTP status codes or SQL.

pub mod addr;
pub mod commit_feed;
pub mod error;
pub mod link_cache;
pub mod ports;
pub mod ratelimit;
pub mod realtime;
pub mod rules;
pub mod search;
pub mod security;
pub mod session_cache;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod usecases;

pub use error::{AppError, AppResult};

use hubbub_domain::{Conversation, Limits, User};
use ports::{Bus, BusMessage, MediaFiles, NoMediaFiles, PresenceDirectory, Store};
use ratelimit::{AddressLimiter, LoginLimiter, RoomPasswordLimiter};
use realtime::{Hub, LocalPresence, NodeHandler, NodeParts, PresenceWorker};
use std::sync::Arc;

/// Everything a use case may touch. Built once at start-up; handlers hold it in an `Arc`.
pub struct App {
    pub store: Arc<dyn Store>,
    /// Every cross-node effect goes through it, this node's own included (see `ports::Bus`).
    pub bus: Arc<dyn Bus>,
    /// Which other nodes hold sockets of a user (see `ports::PresenceDirectory`).
    pub presence: Arc<dyn PresenceDirectory>,
    /// Where stored files are deleted when the use cases drop their last reference (see
    /// `ports::MediaFiles`).
    pub media: Arc<dyn MediaFiles>,
    pub hub: Hub,
    pub limits: Limits,
    /// Failed logins per (username, address), per address and per username, so a password
    /// cannot be guessed at network speed nor an owner locked out (see `ratelimit::login`).
    /// Shared with this node's bus handler, which counts the failures other nodes saw.
    pub login_limiter: Arc<LoginLimiter>,
    /// Registrations per client address, so accounts cannot be created at network speed.
    /// Shared with the bus handler, which counts other nodes' registrations.
    pub registration_limiter: Arc<AddressLimiter>,
    /// Wrong room passwords per (user, room) (see `ratelimit::room_password`). Shared with
    /// the bus handler, which counts other nodes' failures.
    pub room_passwords: Arc<RoomPasswordLimiter>,
    /// Sessions recently confirmed by storage (see `session_cache` for when they are forgotten).
    /// Shared with this node's bus handler, which forgets the sessions any node ended.
    pub sessions: Arc<session_cache::SessionCache>,
    /// Link previews: off until `set_link_fetcher` (see `usecases::message::link_preview`).
    pub links: usecases::message::link_preview::LinkPreviews,
    /// Web Push: off until `set_push_sender` (see `usecases::push`).
    pub push: usecases::push::Push,
}

impl App {
    /// Turns link previews on with this fetcher (chosen once, at start-up).
    pub fn set_link_fetcher(&self, fetcher: Arc<dyn ports::LinkFetcher>) {
        self.links.set_fetcher(fetcher);
    }

    /// Turns Web Push on with this sender and starts this node's push worker (chosen once,
    /// at start-up; a second call is ignored).
    pub fn set_push_sender(self: &Arc<Self>, sender: Arc<dyn ports::PushSender>, config: usecases::push::PushConfig) {
        if self.push.set_sender(sender, config) {
            usecases::push::worker::start(self);
        }
    }

    /// Starts the hub and the presence worker, and subscribes this node to `bus`, which
    /// decides where events go: to this process only, or to every node of the cluster.
    /// No media are configured (`NoMediaFiles`): for tools that touch no files.
    ///
    /// # Panics
    ///
    /// When the store no longer has its commit feed (it was taken before): every persisted
    /// event would be stored and never published, so the app refuses to start rather than
    /// run deaf.
    pub fn start(store: Arc<dyn Store>, bus: Arc<dyn Bus>, limits: Limits) -> Arc<App> {
        Self::start_with(store, bus, Arc::new(LocalPresence::new()), Arc::new(NoMediaFiles), limits)
    }

    /// `start`, with the presence directory of a cluster (chosen with the bus) and the media
    /// storage whose files the use cases delete.
    ///
    /// # Panics
    ///
    /// As `start`.
    pub fn start_with(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        presence: Arc<dyn PresenceDirectory>,
        media: Arc<dyn MediaFiles>,
        limits: Limits,
    ) -> Arc<App> {
        let (presence_tx, presence_rx) = tokio::sync::mpsc::unbounded_channel();
        let hub = Hub::start(presence_tx, limits.websockets_per_user_max);
        let sessions = Arc::new(session_cache::SessionCache::default());
        let login_limiter = Arc::new(LoginLimiter::new(&limits.rate));
        let registration_limiter =
            Arc::new(AddressLimiter::new(limits.rate.registrations_per_address, limits.rate.registration_window));
        let room_passwords = Arc::new(RoomPasswordLimiter::new(&limits.rate));
        let node: Arc<dyn ports::BusHandler> = Arc::new(NodeHandler::new(NodeParts {
            node: bus.node(),
            hub: hub.clone(),
            sessions: sessions.clone(),
            store: store.clone(),
            login_limiter: login_limiter.clone(),
            registration_limiter: registration_limiter.clone(),
            room_passwords: room_passwords.clone(),
        }));
        bus.subscribe(node.clone());
        PresenceWorker::start(store.clone(), bus.clone(), presence.clone(), hub.clone(), node, presence_rx);
        // Persisted events are published by one task, in the order the store committed
        // them: a use case publishing its own commit would race with the next one, and two
        // messages of one conversation could reach a socket out of seq order.
        let Some(mut commits) = store.commit_feed() else {
            panic!("the store's commit feed was already taken: its committed events would never be published");
        };
        {
            let bus = bus.clone();
            tokio::spawn(async move {
                while let Some(committed) = commits.recv().await {
                    bus.publish(committed.bus_message()).await;
                }
            });
        }
        let app = Arc::new(App {
            store,
            bus,
            presence,
            media,
            hub,
            limits,
            login_limiter,
            registration_limiter,
            room_passwords,
            sessions,
            links: Default::default(),
            push: Default::default(),
        });
        // Sessions that ended while the bus could not say so (see `sweep_sessions`). Holds
        // only a weak handle, so the task ends with the app.
        {
            let weak = Arc::downgrade(&app);
            let every = app.limits.session_sweep_interval;
            tokio::spawn(async move {
                let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                loop {
                    tick.tick().await;
                    let Some(app) = weak.upgrade() else { return };
                    match usecases::account::sweep_sessions::sweep_sessions(&app).await {
                        Ok(0) => {}
                        Ok(ended) => tracing::info!(ended, "closed the sockets of sessions that ended elsewhere"),
                        Err(error) => tracing::warn!(%error, "could not check the open sockets' sessions"),
                    }
                }
            });
        }
        app
    }

    /// Shutdown: closes every WebSocket (they are told the server is shutting down) and
    /// resolves once each has written its close frame or given up on its peer. Call it when
    /// the shutdown signal arrives: the HTTP server's graceful shutdown does not wait for
    /// upgraded connections, which would otherwise just vanish when the process exits.
    pub async fn shutdown(&self) {
        self.hub.close_all().await;
    }

    pub(crate) async fn publish(&self, message: BusMessage) {
        self.bus.publish(message).await;
    }

    /// Users come from storage without `online`, which only the connection registries know:
    /// this node's hub, and the presence directory for the other nodes.
    pub(crate) fn present_user(&self, mut user: User) -> User {
        user.online = self.is_online(user.id);
        user
    }

    pub(crate) fn present_members(&self, conversation: &mut Conversation) {
        for member in &mut conversation.members {
            member.user.online = self.is_online(member.user.id);
        }
    }

    /// Online while any device is connected to any node.
    pub fn is_online(&self, user: hubbub_domain::UserId) -> bool {
        self.hub.is_online(user) || self.presence.elsewhere(user)
    }
}
