//! Ports: what the use cases need from the outside world, as object-safe traits.
//!
//! Each store method is shaped like a whole step of a use case and is atomic inside the
//! adapter: a method that changes a conversation assigns the next `seq`, writes the change
//! and its event record in one transaction, and returns the committed event. Nothing here
//! mentions SQLite (or any SQL), so the PostgreSQL adapter implements the same trait and
//! runs the same contract tests.

use async_trait::async_trait;
use bytes::Bytes;
use hubbub_domain::{
    ChatSettings, Contact, ConversationId, ConversationKind, ConversationSnapshot, Emoji, GroupName, Message,
    MessageId, MessageStatus, MessageText, MessageVersion, Receipt, Role, Space, SpaceId, SpaceMember, Timestamp,
    Topic, User, UserId, UserReaction, Username,
};
use std::sync::Arc;
use uuid::Uuid;

// What channels and rooms add to the port (their own file, to keep this one readable).
mod bus;
pub use bus::*;
mod links;
pub use links::*;
mod media;
pub use media::*;
mod outbox;
pub use outbox::{Job, NewJob, Outbox};
mod push;
pub use push::{PushAudience, PushMember, PushOutcome, PushSender, PushStore, PushSubscription};
mod rooms;
pub use rooms::{Access, NewChannel, RoleChange, RoomEntry, RoomQuery};
mod spaces;
pub use spaces::{NewSpace, SpaceMembersAdded};
mod search;
pub use search::*;
// The types of the Store's methods, by area.
mod accounts;
pub use accounts::*;
mod audit;
pub use audit::*;
mod conversations;
pub use conversations::*;
mod messages;
pub use messages::*;

/// Identifies one login (one device or browser). Tokens map to sessions; sockets belong to
/// sessions, so ending a session can close exactly its sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionId(pub Uuid);

/// Who is calling: the authenticated user and the session their credential belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub session_id: SessionId,
}

/// SHA-256 of a bearer token or WebSocket ticket. Only digests are ever stored.
pub type TokenDigest = [u8; 32];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist or is not visible to the caller.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was hit; the string names what collided.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// A referenced row (a user id in a member list, a `reply_to`) does not exist.
    #[error("unknown {0}")]
    UnknownReference(&'static str),
    /// The operation conflicts with the current state (e.g. editing a deleted message).
    #[error("{0}")]
    InvalidState(&'static str),
    /// A rule applied inside the transaction refuses the caller (e.g. a blocked user posting
    /// in a direct conversation with the blocker).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The database cannot be reached or written.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("storage failure: {0}")]
    Other(#[from] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A persisted change, as committed: its event JSON (exactly the bytes stored in the event
/// log and sent to sockets) and who must hear of it.
#[derive(Clone, Debug)]
pub struct Committed {
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub json: Bytes,
    pub recipients: Arc<[UserId]>,
}

/// Everything the use cases persist. One implementation per database.
#[async_trait]
pub trait Store: Send + Sync + 'static + Outbox + PushStore + Search {
    /// The committed events, in commit order (bounded: see `commit_feed.rs`). Taken once,
    /// at start-up, by the task that publishes them; `None` when it was already taken, which
    /// `App::start` refuses (an adapter must always give its feed: without one, its events
    /// are never published).
    fn commit_feed(&self) -> Option<crate::commit_feed::CommitFeed>;

    /// Cheap check that the database accepts writes (for `/api/health`).
    async fn health(&self) -> StoreResult<()>;

    // Accounts and sessions.
    async fn create_account(&self, account: NewAccount, session: NewSession) -> StoreResult<User>;
    async fn credentials(&self, username: &Username) -> StoreResult<Option<Credentials>>;
    async fn create_session(&self, user: UserId, session: NewSession) -> StoreResult<()>;
    async fn session_by_token(&self, digest: &TokenDigest, now: Timestamp) -> StoreResult<Option<Actor>>;
    async fn delete_session(&self, session: SessionId) -> StoreResult<()>;
    /// Which of these sessions no longer exist (logged out, or ended by a password change).
    async fn missing_sessions(&self, sessions: &[SessionId]) -> StoreResult<Vec<SessionId>>;

    // Server administrators and the audit log.
    /// Grants or revokes server administration; false when there is no such user.
    async fn set_server_admin(&self, username: &Username, admin: bool) -> StoreResult<bool>;
    async fn is_server_admin(&self, user: UserId) -> StoreResult<bool>;
    /// Appends an entry (an unknown actor is stored as none).
    async fn record_audit(&self, entry: NewAuditEntry) -> StoreResult<()>;
    /// Entries newest first, filtered.
    async fn audit_entries(&self, filter: AuditFilter) -> StoreResult<Vec<hubbub_domain::AuditEntry>>;
    async fn password_hash(&self, user: UserId) -> StoreResult<String>;
    /// Stores the new hash and ends every other session of the user, returning them.
    async fn change_password(&self, user: UserId, new_hash: String, keep: SessionId) -> StoreResult<Vec<SessionId>>;
    async fn create_ws_ticket(&self, actor: Actor, digest: TokenDigest, expires_at: Timestamp) -> StoreResult<()>;
    /// Consumes the ticket: a second redemption finds nothing.
    async fn redeem_ws_ticket(&self, digest: &TokenDigest, now: Timestamp) -> StoreResult<Option<Actor>>;

    // Users.
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>>;
    async fn update_profile(&self, id: UserId, patch: ProfilePatch) -> StoreResult<User>;
    /// Sets or clears the profile photo; returns the user and the replaced file if nothing
    /// references it any more (its record is gone; the caller deletes the file).
    async fn set_user_photo(&self, id: UserId, photo: Option<PhotoInput>) -> StoreResult<(User, Option<String>)>;
    /// Everyone who shares a current conversation with the user (the user included). With
    /// `max_group`, groups larger than that do not count (direct conversations always do).
    async fn contacts(&self, id: UserId, max_group: Option<u32>) -> StoreResult<Vec<UserId>>;
    async fn set_last_seen(&self, id: UserId, at: Timestamp) -> StoreResult<()>;

    // Conversations.
    async fn list_conversations(&self, me: UserId) -> StoreResult<Vec<ConversationView>>;
    /// Where each conversation of the viewer's list stands, without the views: the seq each
    /// view would show (`left_seq` for a former member) and whether it is hidden. Cheap (one
    /// indexed query); what a socket's `sync` frame is made of.
    async fn conversation_seqs(&self, me: UserId) -> StoreResult<Vec<ConversationSeq>>;
    async fn conversation(&self, me: UserId, id: ConversationId) -> StoreResult<Option<ConversationView>>;
    async fn membership(&self, me: UserId, id: ConversationId) -> StoreResult<Option<Membership>>;
    /// The current members, for ephemeral events such as typing.
    async fn member_ids(&self, id: ConversationId) -> StoreResult<Arc<[UserId]>>;
    async fn create_group(&self, group: NewGroup) -> StoreResult<Committed>;
    /// Returns the conversation id and, when it was created now, its committed event.
    async fn open_direct(
        &self,
        me: UserId,
        other: UserId,
        new_id: ConversationId,
        now: Timestamp,
    ) -> StoreResult<(ConversationId, Option<Committed>)>;
    /// `by` (here and in the other changes of a conversation below) is who made the
    /// change: the committed events carry it as `actor_id`.
    async fn rename_group(
        &self,
        id: ConversationId,
        name: GroupName,
        by: UserId,
        now: Timestamp,
    ) -> StoreResult<Committed>;
    async fn set_group_photo(
        &self,
        id: ConversationId,
        photo: Option<PhotoInput>,
        by: UserId,
        now: Timestamp,
    ) -> StoreResult<(Committed, Option<String>)>;
    /// Adds those not yet current members; one committed `member.added` per new member,
    /// plus the `conversation.created` each new member receives. A former member added back
    /// loses what was recorded for their view when they left; the files nothing references
    /// any more are returned (their records are gone; the caller deletes the files). Should
    /// nobody then hold the kind's top role (someone joining a room everyone had left), the
    /// succession rule fills it, committing `conversation.updated` too.
    async fn add_members(
        &self,
        id: ConversationId,
        users: Vec<UserId>,
        by: UserId,
        now: Timestamp,
    ) -> StoreResult<AddedMembers>;
    /// Removes a member, recording on their membership the group's name, photo and topic as
    /// they are now (what the former member's view keeps showing; see `ConversationView`).
    /// When the last holder of the kind's top role goes (a group's last admin, a room's
    /// owner), `rules::membership::heir` names who takes it, in the same transaction, so a
    /// conversation with members always has an owner or admin.
    /// `by == user` is leaving.
    async fn remove_member(
        &self,
        id: ConversationId,
        user: UserId,
        by: UserId,
        now: Timestamp,
    ) -> StoreResult<RemoveOutcome>;
    /// Moves the caller's marks forward (never back); `read` implies `delivered`.
    async fn advance_marks(
        &self,
        me: UserId,
        id: ConversationId,
        delivered: Option<i64>,
        read: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<MarksChange>;

    // Channels and rooms.
    /// Creates a room (a channel with no space) with its creator as owner; every initial
    /// member receives `conversation.created`.
    async fn create_channel(&self, channel: NewChannel) -> StoreResult<Committed>;
    /// What anyone may know of a conversation before joining it (`None`: no such
    /// conversation, or deleted). Who may see what of it is the use case's decision.
    async fn conversation_access(&self, id: ConversationId) -> StoreResult<Option<Access>>;
    /// The open rooms (public channels with no space) the query names (a name containing
    /// its text, ASCII case-insensitively; or the one id), most members first, then newest,
    /// with the caller's role where they are a current member.
    async fn public_rooms(&self, me: UserId, query: RoomQuery) -> StoreResult<Vec<RoomEntry>>;
    /// Sets the topic; members hear `conversation.updated`.
    async fn set_topic(&self, id: ConversationId, topic: Topic, by: UserId, now: Timestamp) -> StoreResult<Committed>;
    /// Sets (a hash) or removes (`None`) the join password; members hear
    /// `conversation.updated` (its `has_password` changed).
    async fn set_room_password(
        &self,
        id: ConversationId,
        password_hash: Option<String>,
        now: Timestamp,
    ) -> StoreResult<Committed>;
    /// Applies a role change as `rules::membership::role_changes` plans it inside the
    /// transaction: one `member.updated` per member whose role changed (giving `owner`
    /// also makes the giver an admin), none when nothing changes. `NotFound` when the
    /// target is not a current member; `InvalidState` when the change would leave the
    /// conversation without its top role (hand it over first).
    async fn set_member_role(
        &self,
        id: ConversationId,
        change: RoleChange,
        now: Timestamp,
    ) -> StoreResult<Vec<Committed>>;
    /// Deletes the conversation for everyone (soft: `deleted_at`), committing
    /// `conversation.deleted` to its current members. From then on it is `NotFound` to
    /// every method and leaves every list.
    async fn delete_conversation(&self, id: ConversationId, by: UserId, now: Timestamp) -> StoreResult<Committed>;

    // Spaces.
    /// Creates the space, its members and its `general` channel; returns the channel's
    /// `conversation.created`. An unknown member id is `UnknownReference("member_ids")`.
    async fn create_space(&self, space: NewSpace) -> StoreResult<Committed>;
    /// The spaces `me` is a member of (or only `only`, if they are in it), oldest first,
    /// each with `me`'s role.
    async fn spaces(&self, me: UserId, only: Option<SpaceId>) -> StoreResult<Vec<Space>>;
    /// The members of a space, oldest first (none for an unknown or deleted space).
    async fn space_members(&self, id: SpaceId) -> StoreResult<Vec<SpaceMember>>;
    /// Adds people to a space as members and to its `general` channel (each channel write
    /// in its own transaction). `NotFound` for an unknown space; unknown users are
    /// `UnknownReference("user_ids")`.
    async fn add_space_members(
        &self,
        id: SpaceId,
        users: Vec<UserId>,
        by: UserId,
        now: Timestamp,
    ) -> StoreResult<SpaceMembersAdded>;
    /// The channels of a space that `me` may see: the public ones and the private ones
    /// `me` is a current member of (`my_role` set when a member), oldest first.
    async fn space_channels(&self, me: UserId, id: SpaceId) -> StoreResult<Vec<RoomEntry>>;
    /// Sets the space roles of members, all or none (`NotFound` if one is not in the
    /// space); the use case decides which (a handover of ownership is two changes).
    async fn set_space_roles(&self, id: SpaceId, changes: Vec<(UserId, Role)>) -> StoreResult<()>;
    /// Takes someone out of a space (`NotFound` if not in it); returns the channels of the
    /// space they are still a current member of, oldest first, for the use case to remove
    /// them from, each in a transaction of its own.
    async fn remove_space_member(&self, id: SpaceId, user: UserId) -> StoreResult<Vec<ConversationId>>;
    /// Renames a space or changes its description (`None`: unchanged).
    async fn update_space(
        &self,
        id: SpaceId,
        name: Option<GroupName>,
        description: Option<String>,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Marks a space deleted; returns its channels not yet deleted, oldest first, for the
    /// use case to delete one by one (each its own transaction, so no write ever holds
    /// two conversations' rows).
    async fn delete_space(&self, id: SpaceId, now: Timestamp) -> StoreResult<Vec<ConversationId>>;

    // Messages.
    async fn list_messages(
        &self,
        me: UserId,
        id: ConversationId,
        membership: Membership,
        cursor: HistoryCursor,
        limit: u32,
    ) -> StoreResult<MessagePage>;
    async fn message_meta(&self, id: ConversationId, message: MessageId) -> StoreResult<Option<MessageMeta>>;
    /// The text and photo of a message, for forwarding a copy of it.
    async fn message_content(&self, id: ConversationId, message: MessageId) -> StoreResult<Option<MessageContent>>;
    async fn send_message(&self, message: NewMessage) -> StoreResult<SendOutcome>;
    async fn edit_message(
        &self,
        id: ConversationId,
        message: MessageId,
        text: MessageText,
        mentions: Mentions,
        now: Timestamp,
    ) -> StoreResult<(Message, Committed)>;
    /// Returns the commit and the files (photo, preview image) nothing references any more.
    async fn delete_message(
        &self,
        id: ConversationId,
        message: MessageId,
        now: Timestamp,
    ) -> StoreResult<(Committed, Vec<String>)>;
    /// Attaches a link preview as a `message.updated` (not an edit: `edited_at` stays);
    /// `InvalidState` if the message was deleted. See `LinkImage` for the image's record.
    async fn set_link_preview(
        &self,
        id: ConversationId,
        message: MessageId,
        preview: NewLinkPreview,
        now: Timestamp,
    ) -> StoreResult<(Message, Committed)>;
    /// Takes a message's link preview away (its edit changed or removed the link), as a
    /// change of its own like `set_link_preview`. `None`: it had none (nothing changes).
    async fn clear_link_preview(
        &self,
        id: ConversationId,
        message: MessageId,
        now: Timestamp,
    ) -> StoreResult<Option<ClearedLinkPreview>>;
    /// Sets (Some) or clears (None) the user's one reaction; `None` result when nothing changed.
    async fn set_reaction(
        &self,
        me: UserId,
        id: ConversationId,
        message: MessageId,
        emoji: Option<Emoji>,
        now: Timestamp,
    ) -> StoreResult<Option<Committed>>;
    async fn reactions(&self, id: ConversationId, message: MessageId) -> StoreResult<Vec<UserReaction>>;
    async fn receipts(&self, id: ConversationId, message: MessageId) -> StoreResult<Vec<Receipt>>;
    async fn events_after(
        &self,
        id: ConversationId,
        membership: Membership,
        after: i64,
        limit: u32,
    ) -> StoreResult<EventPage>;

    // Replay, for the bus's receiving side (no membership check: these feed the realtime
    // path, which delivers each event to the audience recorded when it was committed).
    /// The stored events of a conversation with a seq above `after_seq`, in seq order, at
    /// most `limit`: each with its stored audience and the exact stored JSON bytes. A node
    /// fills a gap in what the bus brought it from here. Unknown conversation: empty.
    async fn committed_after(&self, id: ConversationId, after_seq: i64, limit: u32) -> StoreResult<Vec<Committed>>;
    /// Every conversation's stored events created at or after `since`, ordered by
    /// (conversation, seq), at most `limit` (the first ones in that order), as in
    /// `committed_after`. A node that was cut off from the bus replays from here.
    async fn committed_since(&self, since: Timestamp, limit: u32) -> StoreResult<Vec<Committed>>;

    // Contacts and blocks (each user's own; nobody else sees them).
    /// The user's address book, in no particular order.
    async fn contact_list(&self, me: UserId) -> StoreResult<Vec<Contact>>;
    /// Adds `user` to the address book or replaces their alias; an unknown user is `NotFound`.
    async fn set_contact(
        &self,
        me: UserId,
        user: UserId,
        alias: Option<String>,
        now: Timestamp,
    ) -> StoreResult<Contact>;
    /// Removes `user` from the address book (nothing happens if they were not in it).
    async fn delete_contact(&self, me: UserId, user: UserId) -> StoreResult<()>;
    /// Blocks (`true`) or unblocks `user`; doing it twice changes nothing. An unknown user
    /// is `NotFound`.
    async fn set_blocked(&self, me: UserId, user: UserId, blocked: bool, now: Timestamp) -> StoreResult<()>;
    /// The users `me` has blocked, in the order they were blocked.
    async fn blocked_users(&self, me: UserId) -> StoreResult<Vec<User>>;
    /// The users who block `user` (whose presence `user` must not see).
    async fn blockers_of(&self, user: UserId) -> StoreResult<Vec<UserId>>;

    // Per-user chat settings.
    /// Applies `patch` to the caller's settings of a conversation they are or were a member
    /// of (`NotFound` otherwise), by `rules::settings::apply` (the pin limit is checked
    /// inside the transaction: `InvalidState`), and returns the settings as stored.
    async fn update_settings(
        &self,
        me: UserId,
        id: ConversationId,
        patch: SettingsPatch,
        now: Timestamp,
    ) -> StoreResult<ChatSettings>;
    /// The caller no longer sees anything up to the conversation's current seq; with
    /// `hide`, it also leaves their list until the next message. Nobody else is affected.
    async fn clear_history(&self, me: UserId, id: ConversationId, hide: bool) -> StoreResult<()>;

    // Media bookkeeping (files themselves live behind the media port).
    /// Every recorded photo, for `hubbub media optimize` (attached files are not images and
    /// are never re-encoded, so they are left out).
    async fn media_records(&self) -> StoreResult<Vec<MediaRecord>>;
    /// Records new facts about a re-optimised file. When its name changed, every reference
    /// moves to the new name in the same transaction.
    async fn update_media(&self, old_name: &str, record: MediaRecord) -> StoreResult<()>;
    /// Every place a stored file is used (empty when it is used nowhere). Who may read it
    /// is the media use case's decision, made from these.
    async fn media_uses(&self, media_name: &str) -> StoreResult<Vec<MediaUse>>;

    // Mentions, pins and edit history.
    /// The current members of a conversation whose usernames are among `usernames`
    /// (lowercase, as usernames are stored), for resolving `@username`.
    async fn members_named(&self, id: ConversationId, usernames: &[String]) -> StoreResult<Vec<UserId>>;
    /// Pins (`true`) or unpins a message: a `message.updated` with its own seq, or `None` when
    /// it already was so. `InvalidState` for a deleted message, `NotFound` for an unknown one.
    async fn set_pinned(
        &self,
        id: ConversationId,
        message: MessageId,
        pinned: bool,
        now: Timestamp,
    ) -> StoreResult<Option<Committed>>;
    /// The pinned messages of a conversation inside the membership's window, the latest
    /// pinned first.
    async fn pinned_messages(&self, id: ConversationId, membership: Membership) -> StoreResult<Vec<Message>>;
    /// The earlier versions of a message's text, oldest first (empty if never edited, and
    /// once deleted). `NotFound` for an unknown message.
    async fn message_versions(&self, id: ConversationId, message: MessageId) -> StoreResult<Vec<MessageVersion>>;
    /// Messages of others that mention `me` (by name or `@all`), newest first, at most
    /// `limit`, older than the message `before` when set (`UnknownReference("before")` if it
    /// does not exist): only inside each of `me`'s membership windows (after their addition
    /// and clear, up to their leaving), never deleted ones or deleted conversations'.
    async fn mentions_of(&self, me: UserId, before: Option<MessageId>, limit: u32) -> StoreResult<Vec<Message>>;
}
