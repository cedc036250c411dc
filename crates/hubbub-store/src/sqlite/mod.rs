//! The SQLite adapter: WAL mode, one writer connection with group commit, a pool of readers.
//!
//! This file opens the store and wires the `Store` port to the code of each area
//! (`accounts`, `conversations`, `messages`, `media`, `contacts`, `settings`; the event log
//! in `events`). The
//! adapter only stores and loads: the rules it applies inside a transaction come from
//! `hubbub_app::rules`.

mod accounts;
mod audit;
mod checkpoint;
mod contacts;
mod conversations;
mod direct;
mod events;
mod links;
mod load;
mod media;
mod mentions;
mod messages;
mod push;
mod rooms;
mod settings;
mod spaces;
mod views;
mod writer;

use crate::common::Commits;
use async_trait::async_trait;
use hubbub_app::ports::*;
use hubbub_domain::{
    ChatSettings, Contact, ConversationId, Emoji, GroupName, Message, MessageId, MessageText, Receipt, Timestamp,
    Topic, User, UserId, UserReaction, Username,
};
use hubbub_domain::{Role, Space, SpaceId, SpaceMember};
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use writer::{DirectConnection, Writer};

pub(crate) use crate::common::{DEFAULT_TENANT, Tenant, audience_text, db, parse_audience};

/// How hard SQLite works to make each commit durable.
#[derive(Clone, Copy, Debug, Default)]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: a commit survives a crash of the process; a power
    /// cut may lose the last commits but never corrupts the database.
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit is fsynced before it is acknowledged.
    Full,
}

pub struct SqliteStore {
    tenant: Tenant,
    readers: SqlitePool,
    writer: Writer,
    /// Stops its task when the store is dropped.
    _checkpointer: checkpoint::Checkpointer,
    feed: std::sync::Mutex<Option<hubbub_app::commit_feed::CommitFeed>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and runs the migrations.
    pub async fn open(path: &Path, durability: Durability) -> Result<SqliteStore, crate::OpenError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Normal => SqliteSynchronous::Normal,
                Durability::Full => SqliteSynchronous::Full,
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            // Checkpoints are the checkpointer's job (`checkpoint.rs`), never a commit's.
            .pragma("wal_autocheckpoint", "0")
            .disable_statement_logging();
        let mut writer = options.connect().await?;
        sqlx::migrate!("./migrations/sqlite").run(&mut writer).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(options.read_only(true))
            .await?;
        // Opened after the migrations, so the direct connection never sees an old schema.
        let direct = DirectConnection::open(path.to_owned(), durability)?;
        let checkpointer = checkpoint::Checkpointer::start(path)?;
        let (feed_tx, feed_rx) = hubbub_app::commit_feed::commit_feed();
        Ok(SqliteStore {
            tenant: DEFAULT_TENANT,
            readers,
            writer: Writer::start(writer, direct, feed_tx, checkpointer.commits()),
            _checkpointer: checkpointer,
            feed: std::sync::Mutex::new(Some(feed_rx)),
        })
    }

    /// Writes a consistent copy of the live database to `target` (`VACUUM INTO`), without
    /// stopping writers: SQLite takes the copy from one read transaction.
    pub async fn backup_to(&self, target: &Path) -> StoreResult<()> {
        let target = target.to_string_lossy().into_owned();
        let mut conn = self.readers.acquire().await.map_err(db)?;
        sqlx::query("VACUUM INTO ?").bind(target).execute(&mut *conn).await.map_err(db)?;
        Ok(())
    }

    async fn read(&self) -> StoreResult<sqlx::pool::PoolConnection<sqlx::Sqlite>> {
        self.readers.acquire().await.map_err(db)
    }

    /// A read transaction, for reads of several statements that must agree with each other:
    /// every statement in it sees the database as of the first one, whatever commits
    /// meanwhile. A conversation view needs this: its unread count and its `last_seq` are
    /// read by different statements, and a client counts live events above that `last_seq`
    /// as new, so a commit falling between the two would be counted never or twice. (It is
    /// rolled back when dropped, which for a read is the same as a commit.)
    async fn read_snapshot(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.readers.begin().await.map_err(db)
    }
}

// Statements that both the sqlx code and the direct (rusqlite) jobs run, written once so the
// two can never drift apart.

/// Appends a persisted event to its conversation's log.
pub(crate) const INSERT_EVENT: &str = "INSERT INTO events (tenant_id, conversation_id, seq, kind, payload, created_at, audience) VALUES (?, ?, ?, ?, ?, ?, ?)";

/// Records a stored file; a file shared by forwarded copies is recorded once.
pub(crate) const INSERT_MEDIA: &str =
    "INSERT INTO media (tenant_id, name, content_type, width, height, size_bytes, purpose, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING";
/// The public ids of a conversation's current members.
pub(crate) const MEMBER_UUIDS: &str = "SELECT u.uuid FROM members m JOIN users u ON u.id = m.user_id
     WHERE m.conversation_id = ? AND m.left_seq IS NULL";

impl Commits for direct::Sent {
    fn commits(&self, out: &mut Vec<Committed>) {
        if let direct::Sent::New(outcome) = self {
            outcome.commits(out);
        }
    }
}
#[async_trait]
impl Store for SqliteStore {
    fn commit_feed(&self) -> Option<hubbub_app::commit_feed::CommitFeed> {
        self.feed.lock().ok()?.take()
    }

    async fn health(&self) -> StoreResult<()> {
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO health (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at")
                        .bind(Timestamp::now().millis())
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    Ok(())
                })
            })
            .await
    }

    async fn create_account(&self, account: NewAccount, session: NewSession) -> StoreResult<User> {
        accounts::create_account(self, account, session).await
    }

    async fn credentials(&self, username: &Username) -> StoreResult<Option<Credentials>> {
        accounts::credentials(self, username).await
    }

    async fn create_session(&self, user: UserId, session: NewSession) -> StoreResult<()> {
        accounts::create_session(self, user, session).await
    }

    async fn session_by_token(&self, digest: &TokenDigest, now: Timestamp) -> StoreResult<Option<Actor>> {
        accounts::session_by_token(self, digest, now).await
    }

    async fn delete_session(&self, session: SessionId) -> StoreResult<()> {
        accounts::delete_session(self, session).await
    }

    async fn set_server_admin(&self, username: &Username, admin: bool) -> StoreResult<bool> {
        audit::set_server_admin(self, username, admin).await
    }

    async fn is_server_admin(&self, user: UserId) -> StoreResult<bool> {
        audit::is_server_admin(self, user).await
    }

    async fn record_audit(&self, entry: NewAuditEntry) -> StoreResult<()> {
        audit::record_audit(self, entry).await
    }

    async fn audit_entries(&self, filter: AuditFilter) -> StoreResult<Vec<hubbub_domain::AuditEntry>> {
        audit::audit_entries(self, filter).await
    }

    async fn missing_sessions(&self, sessions: &[SessionId]) -> StoreResult<Vec<SessionId>> {
        accounts::missing_sessions(self, sessions).await
    }

    async fn password_hash(&self, user: UserId) -> StoreResult<String> {
        accounts::password_hash(self, user).await
    }

    async fn change_password(&self, user: UserId, new_hash: String, keep: SessionId) -> StoreResult<Vec<SessionId>> {
        accounts::change_password(self, user, new_hash, keep).await
    }

    async fn create_ws_ticket(&self, actor: Actor, digest: TokenDigest, expires_at: Timestamp) -> StoreResult<()> {
        accounts::create_ws_ticket(self, actor, digest, expires_at).await
    }

    async fn redeem_ws_ticket(&self, digest: &TokenDigest, now: Timestamp) -> StoreResult<Option<Actor>> {
        accounts::redeem_ws_ticket(self, digest, now).await
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        accounts::user(self, id).await
    }

    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
        accounts::search_users(self, prefix, limit).await
    }

    async fn update_profile(&self, id: UserId, patch: ProfilePatch) -> StoreResult<User> {
        accounts::update_profile(self, id, patch).await
    }

    async fn set_user_photo(&self, id: UserId, photo: Option<PhotoInput>) -> StoreResult<(User, Option<String>)> {
        accounts::set_user_photo(self, id, photo).await
    }

    async fn contacts(&self, id: UserId, max_group: Option<u32>) -> StoreResult<Vec<UserId>> {
        accounts::contacts(self, id, max_group).await
    }

    async fn set_last_seen(&self, id: UserId, at: Timestamp) -> StoreResult<()> {
        accounts::set_last_seen(self, id, at).await
    }

    async fn list_conversations(&self, me: UserId) -> StoreResult<Vec<ConversationView>> {
        conversations::list_conversations(self, me).await
    }

    async fn conversation_seqs(&self, me: UserId) -> StoreResult<Vec<ConversationSeq>> {
        conversations::conversation_seqs(self, me).await
    }

    async fn conversation(&self, me: UserId, id: ConversationId) -> StoreResult<Option<ConversationView>> {
        conversations::conversation(self, me, id).await
    }

    async fn membership(&self, me: UserId, id: ConversationId) -> StoreResult<Option<Membership>> {
        conversations::membership(self, me, id).await
    }

    async fn member_ids(&self, id: ConversationId) -> StoreResult<Arc<[UserId]>> {
        conversations::member_ids(self, id).await
    }

    async fn create_group(&self, group: NewGroup) -> StoreResult<Committed> {
        conversations::create_group(self, group).await
    }

    async fn open_direct(
        &self,
        me: UserId,
        other: UserId,
        new_id: ConversationId,
        now: Timestamp,
    ) -> StoreResult<(ConversationId, Option<Committed>)> {
        conversations::open_direct(self, me, other, new_id, now).await
    }

    async fn rename_group(
        &self,
        id: ConversationId,
        name: GroupName,
        by: UserId,
        now: Timestamp,
    ) -> StoreResult<Committed> {
        conversations::rename_group(self, id, name, by, now).await
    }

    async fn set_group_photo(
        &self,
        id: ConversationId,
        photo: Option<PhotoInput>,
        by: UserId,
        now: Timestamp,
    ) -> StoreResult<(Committed, Option<String>)> {
        conversations::set_group_photo(self, id, photo, by, now).await
    }

    async fn add_members(
        &self,
        id: ConversationId,
        users: Vec<UserId>,
        by: UserId,
        now: Timestamp,
    ) -> StoreResult<AddedMembers> {
        conversations::add_members(self, id, users, by, now).await
    }

    async fn remove_member(
        &self,
        id: ConversationId,
        user: UserId,
        by: UserId,
        now: Timestamp,
    ) -> StoreResult<RemoveOutcome> {
        conversations::remove_member(self, id, user, by, now).await
    }

    async fn advance_marks(
        &self,
        me: UserId,
        id: ConversationId,
        delivered: Option<i64>,
        read: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<MarksChange> {
        conversations::advance_marks(self, me, id, delivered, read, now).await
    }

    async fn create_channel(&self, channel: NewChannel) -> StoreResult<Committed> {
        rooms::create_channel(self, channel).await
    }

    async fn create_space(&self, space: NewSpace) -> StoreResult<Committed> {
        spaces::create_space(self, space).await
    }

    async fn spaces(&self, me: UserId, only: Option<SpaceId>) -> StoreResult<Vec<Space>> {
        spaces::spaces(self, me, only).await
    }

    async fn space_members(&self, id: SpaceId) -> StoreResult<Vec<SpaceMember>> {
        spaces::space_members(self, id).await
    }

    async fn add_space_members(
        &self,
        id: SpaceId,
        users: Vec<UserId>,
        by: UserId,
        now: Timestamp,
    ) -> StoreResult<SpaceMembersAdded> {
        spaces::add_space_members(self, id, users, by, now).await
    }

    async fn space_channels(&self, me: UserId, id: SpaceId) -> StoreResult<Vec<RoomEntry>> {
        spaces::space_channels(self, me, id).await
    }

    async fn set_space_roles(&self, id: SpaceId, changes: Vec<(UserId, Role)>) -> StoreResult<()> {
        spaces::set_space_roles(self, id, changes).await
    }

    async fn remove_space_member(&self, id: SpaceId, user: UserId) -> StoreResult<Vec<ConversationId>> {
        spaces::remove_space_member(self, id, user).await
    }

    async fn update_space(
        &self,
        id: SpaceId,
        name: Option<GroupName>,
        description: Option<String>,
        now: Timestamp,
    ) -> StoreResult<()> {
        spaces::update_space(self, id, name, description, now).await
    }

    async fn delete_space(&self, id: SpaceId, now: Timestamp) -> StoreResult<Vec<ConversationId>> {
        spaces::delete_space(self, id, now).await
    }

    async fn conversation_access(&self, id: ConversationId) -> StoreResult<Option<Access>> {
        rooms::conversation_access(self, id).await
    }

    async fn public_rooms(&self, me: UserId, query: RoomQuery) -> StoreResult<Vec<RoomEntry>> {
        rooms::public_rooms(self, me, query).await
    }

    async fn set_topic(&self, id: ConversationId, topic: Topic, by: UserId, now: Timestamp) -> StoreResult<Committed> {
        rooms::set_topic(self, id, topic, by, now).await
    }

    async fn set_room_password(
        &self,
        id: ConversationId,
        password_hash: Option<String>,
        now: Timestamp,
    ) -> StoreResult<Committed> {
        rooms::set_room_password(self, id, password_hash, now).await
    }

    async fn set_member_role(
        &self,
        id: ConversationId,
        change: RoleChange,
        now: Timestamp,
    ) -> StoreResult<Vec<Committed>> {
        rooms::set_member_role(self, id, change, now).await
    }

    async fn delete_conversation(&self, id: ConversationId, by: UserId, now: Timestamp) -> StoreResult<Committed> {
        rooms::delete_conversation(self, id, by, now).await
    }

    async fn list_messages(
        &self,
        me: UserId,
        id: ConversationId,
        membership: Membership,
        cursor: HistoryCursor,
        limit: u32,
    ) -> StoreResult<MessagePage> {
        messages::list_messages(self, me, id, membership, cursor, limit).await
    }

    async fn message_meta(&self, id: ConversationId, message: MessageId) -> StoreResult<Option<MessageMeta>> {
        messages::message_meta(self, id, message).await
    }

    async fn message_content(&self, id: ConversationId, message: MessageId) -> StoreResult<Option<MessageContent>> {
        messages::message_content(self, id, message).await
    }

    async fn send_message(&self, message: NewMessage) -> StoreResult<SendOutcome> {
        messages::send_message(self, message).await
    }

    async fn edit_message(
        &self,
        id: ConversationId,
        message: MessageId,
        text: MessageText,
        mentions: Mentions,
        now: Timestamp,
    ) -> StoreResult<(Message, Committed)> {
        messages::edit_message(self, id, message, text, mentions, now).await
    }

    async fn delete_message(
        &self,
        id: ConversationId,
        message: MessageId,
        now: Timestamp,
    ) -> StoreResult<(Committed, Vec<String>)> {
        messages::delete_message(self, id, message, now).await
    }

    async fn set_link_preview(
        &self,
        id: ConversationId,
        message: MessageId,
        preview: NewLinkPreview,
        now: Timestamp,
    ) -> StoreResult<(Message, Committed)> {
        links::set_link_preview(self, id, message, preview, now).await
    }

    async fn clear_link_preview(
        &self,
        id: ConversationId,
        message: MessageId,
        now: Timestamp,
    ) -> StoreResult<Option<ClearedLinkPreview>> {
        links::clear_link_preview(self, id, message, now).await
    }

    async fn set_reaction(
        &self,
        me: UserId,
        id: ConversationId,
        message: MessageId,
        emoji: Option<Emoji>,
        now: Timestamp,
    ) -> StoreResult<Option<Committed>> {
        messages::set_reaction(self, me, id, message, emoji, now).await
    }

    async fn reactions(&self, id: ConversationId, message: MessageId) -> StoreResult<Vec<UserReaction>> {
        messages::reactions(self, id, message).await
    }

    async fn receipts(&self, id: ConversationId, message: MessageId) -> StoreResult<Vec<Receipt>> {
        messages::receipts(self, id, message).await
    }

    async fn events_after(
        &self,
        id: ConversationId,
        membership: Membership,
        after: i64,
        limit: u32,
    ) -> StoreResult<EventPage> {
        messages::events_after(self, id, membership, after, limit).await
    }

    async fn committed_after(&self, id: ConversationId, after_seq: i64, limit: u32) -> StoreResult<Vec<Committed>> {
        events::committed_after(self, id, after_seq, limit).await
    }

    async fn committed_since(&self, since: Timestamp, limit: u32) -> StoreResult<Vec<Committed>> {
        events::committed_since(self, since, limit).await
    }

    async fn contact_list(&self, me: UserId) -> StoreResult<Vec<Contact>> {
        contacts::contact_list(self, me).await
    }

    async fn set_contact(
        &self,
        me: UserId,
        user: UserId,
        alias: Option<String>,
        now: Timestamp,
    ) -> StoreResult<Contact> {
        contacts::set_contact(self, me, user, alias, now).await
    }

    async fn delete_contact(&self, me: UserId, user: UserId) -> StoreResult<()> {
        contacts::delete_contact(self, me, user).await
    }

    async fn set_blocked(&self, me: UserId, user: UserId, blocked: bool, now: Timestamp) -> StoreResult<()> {
        contacts::set_blocked(self, me, user, blocked, now).await
    }

    async fn blocked_users(&self, me: UserId) -> StoreResult<Vec<User>> {
        contacts::blocked_users(self, me).await
    }

    async fn blockers_of(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        contacts::blockers_of(self, user).await
    }

    async fn update_settings(
        &self,
        me: UserId,
        id: ConversationId,
        patch: SettingsPatch,
        now: Timestamp,
    ) -> StoreResult<ChatSettings> {
        settings::update_settings(self, me, id, patch, now).await
    }

    async fn clear_history(&self, me: UserId, id: ConversationId, hide: bool) -> StoreResult<()> {
        settings::clear_history(self, me, id, hide).await
    }

    async fn media_records(&self) -> StoreResult<Vec<MediaRecord>> {
        media::media_records(self).await
    }

    async fn update_media(&self, old_name: &str, record: MediaRecord) -> StoreResult<()> {
        media::update_media(self, old_name, record).await
    }

    async fn media_uses(&self, media_name: &str) -> StoreResult<Vec<MediaUse>> {
        media::media_uses(self, media_name).await
    }

    async fn members_named(&self, id: ConversationId, usernames: &[String]) -> StoreResult<Vec<UserId>> {
        mentions::members_named(self, id, usernames).await
    }

    async fn set_pinned(
        &self,
        id: ConversationId,
        message: MessageId,
        pinned: bool,
        now: Timestamp,
    ) -> StoreResult<Option<Committed>> {
        mentions::set_pinned(self, id, message, pinned, now).await
    }

    async fn pinned_messages(&self, id: ConversationId, membership: Membership) -> StoreResult<Vec<Message>> {
        mentions::pinned_messages(self, id, membership).await
    }

    async fn message_versions(
        &self,
        id: ConversationId,
        message: MessageId,
    ) -> StoreResult<Vec<hubbub_domain::MessageVersion>> {
        mentions::message_versions(self, id, message).await
    }

    async fn mentions_of(&self, me: UserId, before: Option<MessageId>, limit: u32) -> StoreResult<Vec<Message>> {
        mentions::mentions_of(self, me, before, limit).await
    }
}
