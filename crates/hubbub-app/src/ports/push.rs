//! Web Push: the subscriptions of each user's devices, and who of a conversation a new
//! message may notify (the rules are `rules::push`; this only loads what they need).

use super::*;

/// One browser's subscription (`PushSubscription.toJSON()`): where to POST, and its keys as
/// the browser gave them (base64url, checked before they are stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// A current member other than the sender, with what decides whether they are notified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushMember {
    pub user: UserId,
    /// Their choice; `None`: the kind's default.
    pub notify: Option<hubbub_domain::NotifyLevel>,
    pub muted_until: Option<Timestamp>,
    /// They block the sender.
    pub blocks_sender: bool,
}

/// What a push about a new message needs from the conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushAudience {
    pub kind: ConversationKind,
    /// The conversation's own name (none for a direct chat).
    pub name: Option<String>,
    pub sender_name: String,
    /// Current, active members with at least one subscription, the sender left out (those
    /// without one could not be pushed to: the fan-out never reads them).
    pub members: Vec<PushMember>,
}

#[async_trait]
pub trait PushStore: Send + Sync {
    /// Stores a subscription for `user`; the same endpoint again replaces its keys and
    /// owner (a browser has one endpoint per site, whoever signed in last).
    async fn save_push_subscription(
        &self,
        user: UserId,
        subscription: PushSubscription,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Removes `user`'s subscription of `endpoint`; false when they had none.
    async fn delete_push_subscription(&self, user: UserId, endpoint: &str) -> StoreResult<bool>;
    /// Removes a subscription whoever owns it (the push service said it is gone).
    async fn drop_push_subscription(&self, endpoint: &str) -> StoreResult<()>;
    /// `user`'s subscriptions, oldest first.
    async fn push_subscriptions(&self, user: UserId) -> StoreResult<Vec<PushSubscription>>;
    /// The conversation's members a message of `sender` may notify, with its kind and
    /// names. `NotFound` for an unknown or deleted conversation.
    async fn push_audience(&self, conversation: ConversationId, sender: UserId) -> StoreResult<PushAudience>;
}

/// What a push service answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// 2xx: accepted.
    Delivered,
    /// 404 or 410: the subscription is gone; drop it.
    Gone,
    /// 5xx, 429, a network error or a time-out: try again later.
    Retry(String),
    /// Anything else (a refused address, a 4xx): trying again will not help.
    Failed(String),
}

/// Sends Web Push messages: encrypts per subscription (RFC 8291), signs with the server's
/// VAPID key (RFC 8292) and POSTs, behind the SSRF guard. Chosen once at start-up
/// (`hubbub_push::WebPushSender`); none configured means Web Push is off.
#[async_trait]
pub trait PushSender: Send + Sync + 'static {
    /// The VAPID public key, an uncompressed P-256 point in base64url.
    fn public_key(&self) -> String;
    /// Refuses a subscription that could never be sent to: an endpoint that is not https
    /// (unless the operator allows it) or names a non-public address, or keys of the wrong
    /// length or not on the curve. The message says which.
    fn check(&self, subscription: &PushSubscription) -> Result<(), String>;
    /// Encrypts `payload` for the subscription and POSTs it with `TTL` and `Urgency`. The
    /// endpoint's host is resolved and checked before each send; no redirect is followed.
    async fn send(&self, subscription: &PushSubscription, payload: &[u8], ttl_seconds: u32) -> PushOutcome;
}
