//! The SQLite adapter: WAL mode, one writer connection with group commit, a pool of readers.

mod checkpoint;
mod direct;
mod load;
mod views;
mod writer;

use async_trait::async_trait;
use bytes::Bytes;
use hubbub_app::ports::*;
use hubbub_app::rules::audience;
use hubbub_app::rules::membership::{self, Admission, Standing};
use hubbub_app::rules::reactions::{self, ReactionChange};
use hubbub_domain::events::MemberRemovedData;
use hubbub_domain::{
    ConversationId, ConversationKind, Emoji, Event, EventData, GroupName, Member, Message, MessageId, MessageText,
    Receipt, Role, Timestamp, User, UserId, UserReaction, Username,
};
use load::{ConvRef, conv_ref};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
// Dynamic SQL here is only ever built from constant fragments, never from input.
use sqlx::{AssertSqlSafe, ConnectOptions, Row, SqliteConnection};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;
use writer::{Commits, DirectConnection, Writer};

/// Which tenant a store instance serves. Every query binds it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tenant(pub i64);

/// The tenant every deployment starts with.
const DEFAULT_TENANT: Tenant = Tenant(1);

pub(crate) fn db(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable(error.to_string())
        }
        other => StoreError::Other(Box::new(other)),
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

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
    feed: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<Committed>>>,
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
        let (feed_tx, feed_rx) = tokio::sync::mpsc::unbounded_channel();
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
pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO events (tenant_id, conversation_id, seq, kind, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)";
/// Records a stored file; a file shared by forwarded copies is recorded once.
pub(crate) const INSERT_MEDIA: &str =
    "INSERT INTO media (tenant_id, name, content_type, width, height, size_bytes, purpose, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING";
/// The public ids of a conversation's current members.
pub(crate) const MEMBER_UUIDS: &str = "SELECT u.uuid FROM members m JOIN users u ON u.id = m.user_id
     WHERE m.conversation_id = ? AND m.left_seq IS NULL";

/// Allocates the next seq of a conversation inside the current transaction.
async fn next_seq(conn: &mut SqliteConnection, conv: i64, now: Timestamp) -> StoreResult<i64> {
    sqlx::query_scalar(
        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = ? WHERE id = ? RETURNING last_seq",
    )
    .bind(now.millis())
    .bind(conv)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)
}

/// Stores a persisted event in the conversation's log and returns its committed form, for
/// the audience the rule gives from the conversation's current members (loaded after the
/// change, in its transaction).
async fn record_event(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    conv: ConvRef,
    event: Event,
    current_members: Vec<UserId>,
    now: Timestamp,
) -> StoreResult<Committed> {
    let seq = event.seq.expect("persisted events carry a seq");
    let recipients = audience::recipients(&event.data, current_members);
    let json = event.to_json();
    let kind = event.data.type_name();
    sqlx::query(INSERT_EVENT)
        .bind(tenant.0)
        .bind(conv.key)
        .bind(seq)
        .bind(kind)
        .bind(&json)
        .bind(now.millis())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(Committed { conversation_id: conv.id, seq, json: Bytes::from(json), recipients: recipients.into() })
}

/// Records a change to a conversation's settings as `conversation.updated`.
async fn conversation_updated(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    conv: ConvRef,
    now: Timestamp,
) -> StoreResult<Committed> {
    snapshot_event(conn, tenant, conv, now, EventData::ConversationUpdated).await
}

/// The first event of every conversation: seq 1, to every initial member.
async fn created_event(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    conv: ConvRef,
    now: Timestamp,
) -> StoreResult<Committed> {
    snapshot_event(conn, tenant, conv, now, EventData::ConversationCreated).await
}

/// Takes the next seq and records the conversation as it now is, to every current member.
async fn snapshot_event(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    conv: ConvRef,
    now: Timestamp,
    kind: fn(hubbub_domain::ConversationSnapshot) -> EventData,
) -> StoreResult<Committed> {
    let seq = next_seq(conn, conv.key, now).await?;
    let snapshot = load::snapshot(conn, conv).await?;
    let recipients = load::member_uuids(conn, conv.key).await?;
    record_event(conn, tenant, conv, Event::persisted(conv.id, seq, kind(snapshot)), recipients, now).await
}

/// Records a change to a message as `message.updated`, carrying the message as it now is.
async fn message_updated(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    conv: ConvRef,
    message_key: i64,
    now: Timestamp,
) -> StoreResult<(Message, Committed)> {
    let seq = next_seq(conn, conv.key, now).await?;
    let message = load::message_by_key(conn, message_key).await?;
    let recipients = load::member_uuids(conn, conv.key).await?;
    let committed = record_event(
        conn,
        tenant,
        conv,
        Event::persisted(conv.id, seq, EventData::MessageUpdated(message.clone())),
        recipients,
        now,
    )
    .await?;
    Ok((message, committed))
}

async fn message_key(conn: &mut SqliteConnection, conv: i64, message: MessageId) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT id FROM messages WHERE uuid = ? AND conversation_id = ?")
        .bind(message.0)
        .bind(conv)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)
}

/// Whether anything still uses the file, a former member's view of a group included.
async fn is_media_referenced(conn: &mut SqliteConnection, name: &str) -> StoreResult<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE photo_name = ?1)
             OR EXISTS (SELECT 1 FROM conversations WHERE photo_name = ?1)
             OR EXISTS (SELECT 1 FROM members WHERE left_photo_name = ?1)
             OR EXISTS (SELECT 1 FROM messages WHERE photo_name = ?1 AND deleted_at IS NULL)",
    )
    .bind(name)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)
}

/// The replaced file, if nothing references it any more after the change.
/// Its record goes in the same transaction; the caller deletes the file after the commit
/// (a crash in between leaves an unreferenced file, never a reference to a missing one).
async fn orphan(conn: &mut SqliteConnection, name: Option<String>) -> StoreResult<Option<String>> {
    match name {
        Some(name) if !is_media_referenced(conn, &name).await? => {
            sqlx::query("DELETE FROM media WHERE name = ?").bind(&name).execute(&mut *conn).await.map_err(db)?;
            Ok(Some(name))
        }
        _ => Ok(None),
    }
}

/// Records a stored file; a file shared by forwarded copies is recorded once.
async fn record_media(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    photo: &PhotoInput,
    purpose: MediaPurpose,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(INSERT_MEDIA)
        .bind(tenant.0)
        .bind(&photo.media_name)
        .bind(&photo.content_type)
        .bind(photo.width as i64)
        .bind(photo.height as i64)
        .bind(photo.size_bytes as i64)
        .bind(purpose_text(purpose))
        .bind(now.millis())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

fn purpose_text(purpose: MediaPurpose) -> &'static str {
    match purpose {
        MediaPurpose::Avatar => "avatar",
        MediaPurpose::Message => "message",
    }
}

struct MemberRow {
    key: i64,
    role: Role,
    left_seq: Option<i64>,
    /// The photo kept for a former member's view of the group.
    left_photo: Option<String>,
}

async fn member_row(conn: &mut SqliteConnection, conv: i64, user: i64) -> StoreResult<Option<MemberRow>> {
    let row = sqlx::query(
        "SELECT id, role, left_seq, left_photo_name FROM members WHERE conversation_id = ? AND user_id = ?",
    )
    .bind(conv)
    .bind(user)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    row.map(|row| {
        let role: String = row.try_get(1).map_err(db)?;
        Ok(MemberRow {
            key: row.try_get(0).map_err(db)?,
            role: Role::from_db(&role),
            left_seq: row.try_get(2).map_err(db)?,
            left_photo: row.try_get(3).map_err(db)?,
        })
    })
    .transpose()
}

async fn member_of(conn: &mut SqliteConnection, conv: i64, user: i64) -> StoreResult<Member> {
    let sql = format!(
        "SELECT {}, m.role, m.joined_at, m.delivered_seq, m.read_seq
         FROM members m JOIN users u ON u.id = m.user_id WHERE m.conversation_id = ? AND m.user_id = ?",
        load::USER_COLUMNS
    );
    let row = sqlx::query(AssertSqlSafe(sql)).bind(conv).bind(user).fetch_one(&mut *conn).await.map_err(db)?;
    let role: String = row.try_get(6).map_err(db)?;
    Ok(Member {
        user: load::user_from_row(&row, 0)?,
        role: Role::from_db(&role),
        joined_at: Timestamp::from_millis(row.try_get(7).map_err(db)?),
        delivered_seq: row.try_get(8).map_err(db)?,
        read_seq: row.try_get(9).map_err(db)?,
    })
}

// Which write results carry committed events (for the commit feed).
impl Commits for () {}
impl Commits for User {}
impl Commits for Vec<SessionId> {}
impl Commits for Option<Actor> {}
impl Commits for MarksChange {}
impl Commits for (User, Option<String>) {}
impl Commits for Committed {
    fn commits(&self, out: &mut Vec<Committed>) {
        out.push(self.clone());
    }
}
impl Commits for Option<Committed> {
    fn commits(&self, out: &mut Vec<Committed>) {
        out.extend(self.iter().cloned());
    }
}
impl Commits for AddedMembers {
    fn commits(&self, out: &mut Vec<Committed>) {
        out.extend(self.committed.iter().cloned());
    }
}
impl Commits for (ConversationId, Option<Committed>) {
    fn commits(&self, out: &mut Vec<Committed>) {
        self.1.commits(out);
    }
}
impl Commits for (Committed, Option<String>) {
    fn commits(&self, out: &mut Vec<Committed>) {
        self.0.commits(out);
    }
}
impl Commits for (Message, Committed) {
    fn commits(&self, out: &mut Vec<Committed>) {
        self.1.commits(out);
    }
}
impl Commits for direct::Sent {
    fn commits(&self, out: &mut Vec<Committed>) {
        if let direct::Sent::New(outcome) = self {
            outcome.commits(out);
        }
    }
}
impl Commits for SendOutcome {
    fn commits(&self, out: &mut Vec<Committed>) {
        self.committed.commits(out);
    }
}
impl Commits for RemoveOutcome {
    fn commits(&self, out: &mut Vec<Committed>) {
        if let RemoveOutcome::Removed { committed, promoted } = self {
            committed.commits(out);
            promoted.commits(out);
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn commit_feed(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Committed>> {
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
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let inserted = sqlx::query(
                        "INSERT INTO users (tenant_id, uuid, username, display_name, display_name_lower, password_hash, created_at)
                         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    )
                    .bind(tenant.0)
                    .bind(account.id.0)
                    .bind(account.username.as_str())
                    .bind(&account.display_name)
                    .bind(account.display_name.to_lowercase())
                    .bind(&account.password_hash)
                    .bind(account.now.millis())
                    .fetch_one(&mut *conn)
                    .await;
                    let key: i64 = match inserted {
                        Ok(row) => row.try_get(0).map_err(db)?,
                        Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("username")),
                        Err(e) => return Err(db(e)),
                    };
                    insert_session(conn, tenant, key, &session).await?;
                    load::user_by_key(conn, key).await
                })
            })
            .await
    }

    async fn credentials(&self, username: &Username) -> StoreResult<Option<Credentials>> {
        let mut conn = self.read().await?;
        let row = sqlx::query(
            "SELECT uuid, password_hash FROM users WHERE tenant_id = ? AND username = ? AND deleted_at IS NULL",
        )
        .bind(self.tenant.0)
        .bind(username.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
        row.map(|row| {
            Ok(Credentials { user_id: UserId(row.try_get(0).map_err(db)?), password_hash: row.try_get(1).map_err(db)? })
        })
        .transpose()
    }

    async fn create_session(&self, user: UserId, session: NewSession) -> StoreResult<()> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let key = load::user_key(conn, tenant, user).await?.ok_or(StoreError::NotFound)?;
                    insert_session(conn, tenant, key, &session).await
                })
            })
            .await
    }

    async fn session_by_token(&self, digest: &TokenDigest, _now: Timestamp) -> StoreResult<Option<Actor>> {
        let mut conn = self.read().await?;
        let row = sqlx::query(
            "SELECT s.uuid, u.uuid, s.token_hash FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ? AND s.tenant_id = ? AND u.deleted_at IS NULL",
        )
        .bind(&digest[..])
        .bind(self.tenant.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
        let Some(row) = row else { return Ok(None) };
        let stored: Vec<u8> = row.try_get(2).map_err(db)?;
        let stored: TokenDigest = stored.try_into().map_err(|_| StoreError::NotFound)?;
        if !hubbub_app::security::digests_equal(&stored, digest) {
            return Ok(None);
        }
        Ok(Some(Actor {
            session_id: SessionId(row.try_get(0).map_err(db)?),
            user_id: UserId(row.try_get(1).map_err(db)?),
        }))
    }

    async fn delete_session(&self, session: SessionId) -> StoreResult<()> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query("DELETE FROM ws_tickets WHERE session_id = (SELECT id FROM sessions WHERE uuid = ? AND tenant_id = ?)")
                        .bind(session.0)
                        .bind(tenant.0)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    sqlx::query("DELETE FROM sessions WHERE uuid = ? AND tenant_id = ?")
                        .bind(session.0)
                        .bind(tenant.0)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    Ok(())
                })
            })
            .await
    }

    async fn password_hash(&self, user: UserId) -> StoreResult<String> {
        let mut conn = self.read().await?;
        sqlx::query_scalar("SELECT password_hash FROM users WHERE uuid = ? AND tenant_id = ?")
            .bind(user.0)
            .bind(self.tenant.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?
            .ok_or(StoreError::NotFound)
    }

    async fn change_password(&self, user: UserId, new_hash: String, keep: SessionId) -> StoreResult<Vec<SessionId>> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let key = load::user_key(conn, tenant, user).await?.ok_or(StoreError::NotFound)?;
                    sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
                        .bind(&new_hash)
                        .bind(key)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    let ended: Vec<Uuid> = sqlx::query_scalar("SELECT uuid FROM sessions WHERE user_id = ? AND uuid != ?")
                        .bind(key)
                        .bind(keep.0)
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(db)?;
                    sqlx::query(
                        "DELETE FROM ws_tickets WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ? AND uuid != ?)",
                    )
                    .bind(key)
                    .bind(keep.0)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                    sqlx::query("DELETE FROM sessions WHERE user_id = ? AND uuid != ?")
                        .bind(key)
                        .bind(keep.0)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    Ok(ended.into_iter().map(SessionId).collect())
                })
            })
            .await
    }

    async fn create_ws_ticket(&self, actor: Actor, digest: TokenDigest, expires_at: Timestamp) -> StoreResult<()> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    // Expired tickets are swept here, where tickets are made, so the table
                    // stays as small as the number of tickets issued in the last minute.
                    sqlx::query("DELETE FROM ws_tickets WHERE expires_at < ?")
                        .bind(Timestamp::now().millis())
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    let inserted = sqlx::query(
                        "INSERT INTO ws_tickets (tenant_id, session_id, token_hash, expires_at)
                         SELECT ?, id, ?, ? FROM sessions WHERE uuid = ? AND tenant_id = ?",
                    )
                    .bind(tenant.0)
                    .bind(&digest[..])
                    .bind(expires_at.millis())
                    .bind(actor.session_id.0)
                    .bind(tenant.0)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                    if inserted.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
                })
            })
            .await
    }

    async fn redeem_ws_ticket(&self, digest: &TokenDigest, now: Timestamp) -> StoreResult<Option<Actor>> {
        let tenant = self.tenant;
        let digest = *digest;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let row = sqlx::query(
                        "DELETE FROM ws_tickets WHERE token_hash = ? AND tenant_id = ? RETURNING session_id, expires_at",
                    )
                    .bind(&digest[..])
                    .bind(tenant.0)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?;
                    let Some(row) = row else { return Ok(None) };
                    let session: i64 = row.try_get(0).map_err(db)?;
                    let expires_at: i64 = row.try_get(1).map_err(db)?;
                    if expires_at < now.millis() {
                        return Ok(None);
                    }
                    let actor = sqlx::query("SELECT s.uuid, u.uuid FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?")
                        .bind(session)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(db)?;
                    actor
                        .map(|row| {
                            Ok(Actor {
                                session_id: SessionId(row.try_get(0).map_err(db)?),
                                user_id: UserId(row.try_get(1).map_err(db)?),
                            })
                        })
                        .transpose()
                })
            })
            .await
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        let mut conn = self.read().await?;
        let sql = format!(
            "SELECT {} FROM users u WHERE u.uuid = ? AND u.tenant_id = ? AND u.deleted_at IS NULL",
            load::USER_COLUMNS
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.0)
            .bind(self.tenant.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
        row.map(|row| load::user_from_row(&row, 0)).transpose()
    }

    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
        let escaped: String = prefix
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let sql = format!(
            "SELECT {} FROM users u WHERE u.tenant_id = ?3 AND u.deleted_at IS NULL
             AND (u.username LIKE ?1 ESCAPE '\\' OR u.display_name_lower LIKE ?1 ESCAPE '\\' OR u.display_name_lower LIKE ?2 ESCAPE '\\')
             ORDER BY u.username LIMIT ?4",
            load::USER_COLUMNS
        );
        let mut conn = self.read().await?;
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(format!("{escaped}%"))
            .bind(format!("% {escaped}%"))
            .bind(self.tenant.0)
            .bind(limit as i64)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        rows.iter().map(|row| load::user_from_row(row, 0)).collect()
    }

    async fn update_profile(&self, id: UserId, patch: ProfilePatch) -> StoreResult<User> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let key = load::user_key(conn, tenant, id).await?.ok_or(StoreError::NotFound)?;
                    if let Some(username) = &patch.username {
                        let updated = sqlx::query("UPDATE users SET username = ? WHERE id = ?")
                            .bind(username.as_str())
                            .bind(key)
                            .execute(&mut *conn)
                            .await;
                        match updated {
                            Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("username")),
                            other => other.map_err(db)?,
                        };
                    }
                    if let Some(name) = &patch.display_name {
                        sqlx::query("UPDATE users SET display_name = ?, display_name_lower = ? WHERE id = ?")
                            .bind(name)
                            .bind(name.to_lowercase())
                            .bind(key)
                            .execute(&mut *conn)
                            .await
                            .map_err(db)?;
                    }
                    if let Some(about) = &patch.about {
                        sqlx::query("UPDATE users SET about = ? WHERE id = ?")
                            .bind(about)
                            .bind(key)
                            .execute(&mut *conn)
                            .await
                            .map_err(db)?;
                    }
                    load::user_by_key(conn, key).await
                })
            })
            .await
    }

    async fn set_user_photo(&self, id: UserId, photo: Option<PhotoInput>) -> StoreResult<(User, Option<String>)> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let media_name = photo.as_ref().map(|p| p.media_name.clone());
                    if let Some(photo) = &photo {
                        record_media(conn, tenant, photo, MediaPurpose::Avatar, Timestamp::now()).await?;
                    }
                    let key = load::user_key(conn, tenant, id).await?.ok_or(StoreError::NotFound)?;
                    let old: Option<String> = sqlx::query_scalar("SELECT photo_name FROM users WHERE id = ?")
                        .bind(key)
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(db)?;
                    sqlx::query("UPDATE users SET photo_name = ? WHERE id = ?")
                        .bind(&media_name)
                        .bind(key)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    let replaced = orphan(conn, old.filter(|old| Some(old) != media_name.as_ref())).await?;
                    Ok((load::user_by_key(conn, key).await?, replaced))
                })
            })
            .await
    }

    async fn contacts(&self, id: UserId, max_group: Option<u32>) -> StoreResult<Vec<UserId>> {
        let mut conn = self.read().await?;
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT DISTINCT u.uuid FROM users me
             JOIN members a ON a.user_id = me.id AND a.left_seq IS NULL
             JOIN conversations c ON c.id = a.conversation_id
             JOIN members b ON b.conversation_id = a.conversation_id AND b.left_seq IS NULL
             JOIN users u ON u.id = b.user_id
             WHERE me.uuid = ?1 AND me.tenant_id = ?2
               AND (?3 IS NULL OR c.kind = 'direct'
                    OR (SELECT COUNT(*) FROM members x WHERE x.conversation_id = c.id AND x.left_seq IS NULL) <= ?3)",
        )
        .bind(id.0)
        .bind(self.tenant.0)
        .bind(max_group.map(i64::from))
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        let mut contacts: Vec<UserId> = ids.into_iter().map(UserId).collect();
        if !contacts.contains(&id) {
            contacts.push(id);
        }
        Ok(contacts)
    }

    async fn set_last_seen(&self, id: UserId, at: Timestamp) -> StoreResult<()> {
        let tenant = self.tenant;
        self.writer.write_direct(move |conn| direct::set_last_seen(conn, tenant, id, at)).await
    }

    async fn list_conversations(&self, me: UserId) -> StoreResult<Vec<ConversationView>> {
        let mut tx = self.read_snapshot().await?;
        views::views(&mut tx, self.tenant, me, None).await
    }

    async fn conversation(&self, me: UserId, id: ConversationId) -> StoreResult<Option<ConversationView>> {
        let mut tx = self.read_snapshot().await?;
        Ok(views::views(&mut tx, self.tenant, me, Some(id)).await?.pop())
    }

    async fn membership(&self, me: UserId, id: ConversationId) -> StoreResult<Option<Membership>> {
        let mut conn = self.read().await?;
        let row = sqlx::query(
            "SELECT c.kind, m.role, m.joined_seq, m.left_seq,
                    (SELECT COUNT(*) FROM members o WHERE o.conversation_id = c.id AND o.left_seq IS NULL)
             FROM conversations c
             JOIN members m ON m.conversation_id = c.id
             JOIN users u ON u.id = m.user_id
             WHERE c.uuid = ? AND c.tenant_id = ? AND u.uuid = ? AND c.deleted_at IS NULL",
        )
        .bind(id.0)
        .bind(self.tenant.0)
        .bind(me.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
        row.map(|row| {
            let kind: String = row.try_get(0).map_err(db)?;
            let role: String = row.try_get(1).map_err(db)?;
            Ok(Membership {
                kind: ConversationKind::from_db(&kind),
                role: Role::from_db(&role),
                visible_after: row.try_get(2).map_err(db)?,
                left_seq: row.try_get(3).map_err(db)?,
                member_count: row.try_get(4).map_err(db)?,
            })
        })
        .transpose()
    }

    async fn member_ids(&self, id: ConversationId) -> StoreResult<Arc<[UserId]>> {
        let mut conn = self.read().await?;
        let conv = conv_ref(&mut conn, self.tenant, id).await?;
        Ok(load::member_uuids(&mut conn, conv.key).await?.into())
    }

    async fn create_group(&self, group: NewGroup) -> StoreResult<Committed> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let creator = load::user_key(conn, tenant, group.creator).await?.ok_or(StoreError::NotFound)?;
                    let mut member_keys = Vec::with_capacity(group.member_ids.len());
                    for id in &group.member_ids {
                        member_keys.push(load::user_key(conn, tenant, *id).await?.ok_or(StoreError::UnknownReference("member_ids"))?);
                    }
                    let now = group.now.millis();
                    let key: i64 = sqlx::query_scalar(
                        "INSERT INTO conversations (tenant_id, uuid, kind, name, last_seq, last_activity_at, created_at, updated_at)
                         VALUES (?, ?, 'group', ?, 0, ?, ?, ?) RETURNING id",
                    )
                    .bind(tenant.0)
                    .bind(group.id.0)
                    .bind(group.name.as_str())
                    .bind(now)
                    .bind(now)
                    .bind(now)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
                    insert_member(conn, tenant, key, creator, Admission::founding(Role::Admin), group.now).await?;
                    for member in member_keys {
                        insert_member(conn, tenant, key, member, Admission::founding(Role::Member), group.now).await?;
                    }
                    let conv = ConvRef { key, id: group.id, kind: ConversationKind::Group };
                    created_event(conn, tenant, conv, group.now).await
                })
            })
            .await
    }

    async fn open_direct(
        &self,
        me: UserId,
        other: UserId,
        new_id: ConversationId,
        now: Timestamp,
    ) -> StoreResult<(ConversationId, Option<Committed>)> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let (low, high) = if me < other { (me, other) } else { (other, me) };
                    let direct_key = format!("{low}:{high}");
                    let existing: Option<Uuid> =
                        sqlx::query_scalar("SELECT uuid FROM conversations WHERE tenant_id = ? AND direct_key = ?")
                            .bind(tenant.0)
                            .bind(&direct_key)
                            .fetch_optional(&mut *conn)
                            .await
                            .map_err(db)?;
                    if let Some(existing) = existing {
                        return Ok((ConversationId(existing), None));
                    }
                    let me_key = load::user_key(conn, tenant, me).await?.ok_or(StoreError::NotFound)?;
                    let other_key = load::user_key(conn, tenant, other).await?.ok_or(StoreError::NotFound)?;
                    let key: i64 = sqlx::query_scalar(
                        "INSERT INTO conversations (tenant_id, uuid, kind, direct_key, last_seq, last_activity_at, created_at, updated_at)
                         VALUES (?, ?, 'direct', ?, 0, ?, ?, ?) RETURNING id",
                    )
                    .bind(tenant.0)
                    .bind(new_id.0)
                    .bind(&direct_key)
                    .bind(now.millis())
                    .bind(now.millis())
                    .bind(now.millis())
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
                    insert_member(conn, tenant, key, me_key, Admission::founding(Role::Member), now).await?;
                    insert_member(conn, tenant, key, other_key, Admission::founding(Role::Member), now).await?;
                    let conv = ConvRef { key, id: new_id, kind: ConversationKind::Direct };
                    Ok((new_id, Some(created_event(conn, tenant, conv, now).await?)))
                })
            })
            .await
    }

    async fn rename_group(&self, id: ConversationId, name: GroupName, now: Timestamp) -> StoreResult<Committed> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let conv = conv_ref(conn, tenant, id).await?;
                    sqlx::query("UPDATE conversations SET name = ? WHERE id = ?")
                        .bind(name.as_str())
                        .bind(conv.key)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    conversation_updated(conn, tenant, conv, now).await
                })
            })
            .await
    }

    async fn set_group_photo(
        &self,
        id: ConversationId,
        photo: Option<PhotoInput>,
        now: Timestamp,
    ) -> StoreResult<(Committed, Option<String>)> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let media_name = photo.as_ref().map(|p| p.media_name.clone());
                    if let Some(photo) = &photo {
                        record_media(conn, tenant, photo, MediaPurpose::Avatar, now).await?;
                    }
                    let conv = conv_ref(conn, tenant, id).await?;
                    let old: Option<String> = sqlx::query_scalar("SELECT photo_name FROM conversations WHERE id = ?")
                        .bind(conv.key)
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(db)?;
                    sqlx::query("UPDATE conversations SET photo_name = ? WHERE id = ?")
                        .bind(&media_name)
                        .bind(conv.key)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    let committed = conversation_updated(conn, tenant, conv, now).await?;
                    let replaced = orphan(conn, old.filter(|old| Some(old) != media_name.as_ref())).await?;
                    Ok((committed, replaced))
                })
            })
            .await
    }

    async fn add_members(&self, id: ConversationId, users: Vec<UserId>, now: Timestamp) -> StoreResult<AddedMembers> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let conv = conv_ref(conn, tenant, id).await?;
                    let mut keys = Vec::with_capacity(users.len());
                    for user in &users {
                        keys.push((
                            *user,
                            load::user_key(conn, tenant, *user)
                                .await?
                                .ok_or(StoreError::UnknownReference("user_ids"))?,
                        ));
                    }
                    let mut commits = Vec::new();
                    let mut left_photos = Vec::new();
                    for (user, key) in keys {
                        let existing = member_row(conn, conv.key, key).await?;
                        if existing.as_ref().is_some_and(|m| m.left_seq.is_none()) {
                            continue;
                        }
                        let seq = next_seq(conn, conv.key, now).await?;
                        let admission = Admission::added_at(seq);
                        match existing {
                            Some(former) => {
                                readmit_member(conn, former.key, admission, now).await?;
                                left_photos.extend(former.left_photo);
                            }
                            None => insert_member(conn, tenant, conv.key, key, admission, now).await?,
                        }
                        let member = member_of(conn, conv.key, key).await?;
                        let current = load::member_uuids(conn, conv.key).await?;
                        let event = Event::persisted(conv.id, seq, EventData::MemberAdded(member));
                        commits.push(record_event(conn, tenant, conv, event, current, now).await?);
                        let snapshot = load::snapshot(conn, conv).await?;
                        commits.push(audience::welcome(conv.id, seq, snapshot, user));
                    }
                    let mut unreferenced = Vec::new();
                    for name in left_photos {
                        unreferenced.extend(orphan(conn, Some(name)).await?);
                    }
                    Ok(AddedMembers { committed: commits, unreferenced })
                })
            })
            .await
    }

    async fn remove_member(&self, id: ConversationId, user: UserId, now: Timestamp) -> StoreResult<RemoveOutcome> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let conv = conv_ref(conn, tenant, id).await?;
                    let Some(key) = load::user_key(conn, tenant, user).await? else {
                        return Ok(RemoveOutcome::NotAMember);
                    };
                    let Some(member) = member_row(conn, conv.key, key).await?.filter(|m| m.left_seq.is_none()) else {
                        return Ok(RemoveOutcome::NotAMember);
                    };
                    let seq = next_seq(conn, conv.key, now).await?;
                    // What the leaver could see is kept with their membership: their view of
                    // the group stays as it is now (see `ConversationView`).
                    sqlx::query(
                        "UPDATE members SET left_seq = ?1, left_at = ?2,
                             (left_name, left_photo_name) = (SELECT name, photo_name FROM conversations WHERE id = ?3)
                         WHERE id = ?4",
                    )
                    .bind(seq)
                    .bind(now.millis())
                    .bind(conv.key)
                    .bind(member.key)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                    let current = load::member_uuids(conn, conv.key).await?;
                    let event =
                        Event::persisted(conv.id, seq, EventData::MemberRemoved(MemberRemovedData { user_id: user }));
                    let committed = record_event(conn, tenant, conv, event, current, now).await?;
                    let promoted = if membership::succession_needed(member.role) {
                        promote_if_no_admin(conn, tenant, conv, now).await?
                    } else {
                        None
                    };
                    Ok(RemoveOutcome::Removed { committed, promoted })
                })
            })
            .await
    }

    async fn advance_marks(
        &self,
        me: UserId,
        id: ConversationId,
        delivered: Option<i64>,
        read: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<MarksChange> {
        let tenant = self.tenant;
        self.writer.write_direct(move |conn| direct::advance_marks(conn, tenant, me, id, delivered, read, now)).await
    }

    async fn list_messages(
        &self,
        me: UserId,
        id: ConversationId,
        membership: Membership,
        cursor: HistoryCursor,
        limit: u32,
    ) -> StoreResult<MessagePage> {
        let mut conn = self.read().await?;
        let conv = conv_ref(&mut conn, self.tenant, id).await?;
        let lower = membership.visible_after;
        let upper = membership.left_seq.unwrap_or(i64::MAX);
        let fetch = limit as i64 + 1;
        let (condition, binds, descending) = match cursor {
            HistoryCursor::Latest => (
                "m.conversation_id = ? AND m.seq > ? AND m.seq <= ? ORDER BY m.seq DESC LIMIT ?",
                [conv.key, lower, upper, fetch],
                true,
            ),
            HistoryCursor::Before(before) => (
                "m.conversation_id = ? AND m.seq > ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?",
                [conv.key, lower, before.min(upper.saturating_add(1)), fetch],
                true,
            ),
            HistoryCursor::After(after) => (
                "m.conversation_id = ? AND m.seq > ? AND m.seq <= ? ORDER BY m.seq ASC LIMIT ?",
                [conv.key, after.max(lower), upper, fetch],
                false,
            ),
        };
        let mut messages = load::messages_where(&mut conn, condition, &binds).await?;
        let has_more = messages.len() > limit as usize;
        messages.truncate(limit as usize);
        if descending {
            messages.reverse();
        }
        let (others_min_delivered, others_min_read) =
            views::others_min_marks(&mut conn, conv.key, me, membership.left_seq).await?;
        Ok(MessagePage { messages, has_more, others_min_delivered, others_min_read })
    }

    async fn message_meta(&self, id: ConversationId, message: MessageId) -> StoreResult<Option<MessageMeta>> {
        let mut conn = self.read().await?;
        let row = sqlx::query(
            "SELECT u.uuid, m.seq, m.deleted_at FROM messages m
             JOIN conversations c ON c.id = m.conversation_id JOIN users u ON u.id = m.sender_id
             WHERE m.uuid = ? AND c.uuid = ? AND c.tenant_id = ?",
        )
        .bind(message.0)
        .bind(id.0)
        .bind(self.tenant.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
        row.map(|row| {
            Ok(MessageMeta {
                sender_id: UserId(row.try_get(0).map_err(db)?),
                seq: row.try_get(1).map_err(db)?,
                deleted: row.try_get::<Option<i64>, _>(2).map_err(db)?.is_some(),
            })
        })
        .transpose()
    }

    async fn message_content(&self, id: ConversationId, message: MessageId) -> StoreResult<Option<MessageContent>> {
        let mut conn = self.read().await?;
        let row = sqlx::query(
            "SELECT m.text, m.photo_name, m.photo_width, m.photo_height, md.content_type, md.size_bytes FROM messages m
             JOIN conversations c ON c.id = m.conversation_id LEFT JOIN media md ON md.name = m.photo_name
             WHERE m.uuid = ? AND c.uuid = ? AND c.tenant_id = ? AND m.deleted_at IS NULL",
        )
        .bind(message.0)
        .bind(id.0)
        .bind(self.tenant.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
        row.map(|row| {
            let name: Option<String> = row.try_get(1).map_err(db)?;
            let photo = match name {
                Some(media_name) => Some(PhotoInput {
                    media_name,
                    content_type: row.try_get::<Option<String>, _>(4).map_err(db)?.unwrap_or_default(),
                    size_bytes: row.try_get::<Option<i64>, _>(5).map_err(db)?.unwrap_or(0) as u64,
                    width: row.try_get::<Option<i64>, _>(2).map_err(db)?.unwrap_or(0) as u32,
                    height: row.try_get::<Option<i64>, _>(3).map_err(db)?.unwrap_or(0) as u32,
                }),
                None => None,
            };
            Ok(MessageContent { text: row.try_get(0).map_err(db)?, photo })
        })
        .transpose()
    }

    async fn send_message(&self, message: NewMessage) -> StoreResult<SendOutcome> {
        let tenant = self.tenant;
        match self.writer.write_direct(move |conn| direct::send_message(conn, tenant, message)).await? {
            direct::Sent::New(outcome) => Ok(outcome),
            // A retry of a send that already committed: answer with the stored message as it
            // is now (it may have been edited or reacted to since), and change nothing.
            direct::Sent::Repeat(key) => {
                let message = load::message_by_key(&mut *self.read().await?, key).await?;
                Ok(SendOutcome { message, committed: None })
            }
        }
    }

    async fn edit_message(
        &self,
        id: ConversationId,
        message: MessageId,
        text: MessageText,
        now: Timestamp,
    ) -> StoreResult<(Message, Committed)> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let conv = conv_ref(conn, tenant, id).await?;
                    let key = message_key(conn, conv.key, message).await?;
                    let updated =
                        sqlx::query("UPDATE messages SET text = ?, edited_at = ? WHERE id = ? AND deleted_at IS NULL")
                            .bind(text.as_str())
                            .bind(now.millis())
                            .bind(key)
                            .execute(&mut *conn)
                            .await
                            .map_err(db)?;
                    if updated.rows_affected() == 0 {
                        return Err(StoreError::InvalidState("the message was deleted"));
                    }
                    message_updated(conn, tenant, conv, key, now).await
                })
            })
            .await
    }

    async fn delete_message(
        &self,
        id: ConversationId,
        message: MessageId,
        now: Timestamp,
    ) -> StoreResult<(Committed, Option<String>)> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let conv = conv_ref(conn, tenant, id).await?;
                    let key = message_key(conn, conv.key, message).await?;
                    let photo: Option<String> = sqlx::query_scalar("SELECT photo_name FROM messages WHERE id = ?")
                        .bind(key)
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(db)?;
                    // A tombstone keeps its place (seq, sender, time) and nothing else.
                    sqlx::query(
                        "UPDATE messages SET deleted_at = ?, text = '', photo_name = NULL, photo_width = NULL, photo_height = NULL
                         WHERE id = ?",
                    )
                    .bind(now.millis())
                    .bind(key)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                    sqlx::query("DELETE FROM reactions WHERE message_id = ?").bind(key).execute(&mut *conn).await.map_err(db)?;
                    let (_, committed) = message_updated(conn, tenant, conv, key, now).await?;
                    Ok((committed, orphan(conn, photo).await?))
                })
            })
            .await
    }

    async fn set_reaction(
        &self,
        me: UserId,
        id: ConversationId,
        message: MessageId,
        emoji: Option<Emoji>,
        now: Timestamp,
    ) -> StoreResult<Option<Committed>> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let conv = conv_ref(conn, tenant, id).await?;
                    let key = message_key(conn, conv.key, message).await?;
                    let user = load::user_key(conn, tenant, me).await?.ok_or(StoreError::NotFound)?;
                    let current: Option<String> = sqlx::query_scalar("SELECT emoji FROM reactions WHERE message_id = ? AND user_id = ?")
                        .bind(key)
                        .bind(user)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(db)?;
                    match reactions::change(current.as_deref(), emoji.as_ref()) {
                        ReactionChange::Unchanged => return Ok(None),
                        ReactionChange::Set(emoji) => {
                            // Replaced, not updated, so a changed reaction moves to the end.
                            sqlx::query("DELETE FROM reactions WHERE message_id = ? AND user_id = ?")
                                .bind(key)
                                .bind(user)
                                .execute(&mut *conn)
                                .await
                                .map_err(db)?;
                            sqlx::query("INSERT INTO reactions (tenant_id, message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?, ?)")
                                .bind(tenant.0)
                                .bind(key)
                                .bind(user)
                                .bind(emoji.as_str())
                                .bind(now.millis())
                                .execute(&mut *conn)
                                .await
                                .map_err(db)?;
                        }
                        ReactionChange::Clear => {
                            sqlx::query("DELETE FROM reactions WHERE message_id = ? AND user_id = ?")
                                .bind(key)
                                .bind(user)
                                .execute(&mut *conn)
                                .await
                                .map_err(db)?;
                        }
                    }
                    let (_, committed) = message_updated(conn, tenant, conv, key, now).await?;
                    Ok(Some(committed))
                })
            })
            .await
    }

    async fn reactions(&self, id: ConversationId, message: MessageId) -> StoreResult<Vec<UserReaction>> {
        let mut conn = self.read().await?;
        let conv = conv_ref(&mut conn, self.tenant, id).await?;
        let key = message_key(&mut conn, conv.key, message).await?;
        let rows = sqlx::query("SELECT u.uuid, r.emoji FROM reactions r JOIN users u ON u.id = r.user_id WHERE r.message_id = ? ORDER BY r.id")
            .bind(key)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|row| {
                Ok(UserReaction { user_id: UserId(row.try_get(0).map_err(db)?), emoji: row.try_get(1).map_err(db)? })
            })
            .collect()
    }

    async fn receipts(&self, id: ConversationId, message: MessageId) -> StoreResult<Vec<Receipt>> {
        let mut conn = self.read().await?;
        let conv = conv_ref(&mut conn, self.tenant, id).await?;
        let key = message_key(&mut conn, conv.key, message).await?;
        // Everyone but the sender who was a member when the message was sent.
        let rows = sqlx::query(
            "SELECT u.uuid,
                    (SELECT MIN(mv.at) FROM mark_moves mv WHERE mv.conversation_id = mb.conversation_id AND mv.user_id = mb.user_id
                        AND mv.kind = 'delivered' AND mv.seq >= msg.seq),
                    (SELECT MIN(mv.at) FROM mark_moves mv WHERE mv.conversation_id = mb.conversation_id AND mv.user_id = mb.user_id
                        AND mv.kind = 'read' AND mv.seq >= msg.seq)
             FROM messages msg
             JOIN members mb ON mb.conversation_id = msg.conversation_id
             JOIN users u ON u.id = mb.user_id
             WHERE msg.id = ? AND mb.user_id != msg.sender_id AND mb.joined_seq < msg.seq
               AND (mb.left_seq IS NULL OR mb.left_seq >= msg.seq)
             ORDER BY mb.joined_seq, mb.id",
        )
        .bind(key)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|row| {
                Ok(Receipt {
                    user_id: UserId(row.try_get(0).map_err(db)?),
                    delivered_at: row.try_get::<Option<i64>, _>(1).map_err(db)?.map(Timestamp::from_millis),
                    read_at: row.try_get::<Option<i64>, _>(2).map_err(db)?.map(Timestamp::from_millis),
                })
            })
            .collect()
    }

    async fn events_after(
        &self,
        id: ConversationId,
        membership: Membership,
        after: i64,
        limit: u32,
    ) -> StoreResult<EventPage> {
        let mut conn = self.read().await?;
        let conv = conv_ref(&mut conn, self.tenant, id).await?;
        let payloads: Vec<String> = sqlx::query_scalar(
            "SELECT payload FROM events WHERE conversation_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
        )
        .bind(conv.key)
        .bind(after.max(membership.visible_after))
        .bind(membership.left_seq.unwrap_or(i64::MAX))
        .bind(limit as i64 + 1)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        let has_more = payloads.len() > limit as usize;
        Ok(EventPage { events: payloads.into_iter().take(limit as usize).map(Bytes::from).collect(), has_more })
    }

    async fn media_records(&self) -> StoreResult<Vec<MediaRecord>> {
        let mut conn = self.read().await?;
        let rows = sqlx::query(
            "SELECT name, content_type, size_bytes, width, height, purpose FROM media WHERE tenant_id = ? ORDER BY id",
        )
        .bind(self.tenant.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|row| {
                let purpose: String = row.try_get(5).map_err(db)?;
                Ok(MediaRecord {
                    media_name: row.try_get(0).map_err(db)?,
                    content_type: row.try_get(1).map_err(db)?,
                    size_bytes: row.try_get::<i64, _>(2).map_err(db)? as u64,
                    width: row.try_get::<i64, _>(3).map_err(db)? as u32,
                    height: row.try_get::<i64, _>(4).map_err(db)? as u32,
                    purpose: if purpose == "avatar" { MediaPurpose::Avatar } else { MediaPurpose::Message },
                })
            })
            .collect()
    }

    async fn update_media(&self, old_name: &str, record: MediaRecord) -> StoreResult<()> {
        let tenant = self.tenant;
        let old_name = old_name.to_owned();
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let updated = sqlx::query(
                        "UPDATE media SET name = ?, content_type = ?, size_bytes = ?, width = ?, height = ?
                         WHERE name = ? AND tenant_id = ?",
                    )
                    .bind(&record.media_name)
                    .bind(&record.content_type)
                    .bind(record.size_bytes as i64)
                    .bind(record.width as i64)
                    .bind(record.height as i64)
                    .bind(&old_name)
                    .bind(tenant.0)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                    if updated.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    // Message photos keep their dimensions with the reference, for clients
                    // that reserve space before loading.
                    for sql in [
                        "UPDATE users SET photo_name = ?1 WHERE photo_name = ?2",
                        "UPDATE conversations SET photo_name = ?1 WHERE photo_name = ?2",
                        "UPDATE members SET left_photo_name = ?1 WHERE left_photo_name = ?2",
                    ] {
                        sqlx::query(sql).bind(&record.media_name).bind(&old_name).execute(&mut *conn).await.map_err(db)?;
                    }
                    sqlx::query("UPDATE messages SET photo_name = ?1, photo_width = ?2, photo_height = ?3 WHERE photo_name = ?4")
                        .bind(&record.media_name)
                        .bind(record.width as i64)
                        .bind(record.height as i64)
                        .bind(&old_name)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    Ok(())
                })
            })
            .await
    }

    async fn media_uses(&self, media_name: &str) -> StoreResult<Vec<MediaUse>> {
        let mut conn = self.read().await?;
        // One indexed lookup per place a file can be used: 0 profile, 1 group, 2 a former
        // member's view of a group, 3 message.
        let rows = sqlx::query(
            "SELECT 0, NULL, NULL, NULL FROM users WHERE photo_name = ?1 AND tenant_id = ?2
             UNION ALL
             SELECT 1, uuid, NULL, NULL FROM conversations WHERE photo_name = ?1 AND tenant_id = ?2 AND deleted_at IS NULL
             UNION ALL
             SELECT 2, c.uuid, u.uuid, NULL FROM members m
                 JOIN conversations c ON c.id = m.conversation_id JOIN users u ON u.id = m.user_id
                 WHERE m.left_photo_name = ?1 AND m.tenant_id = ?2 AND c.deleted_at IS NULL
             UNION ALL
             SELECT 3, c.uuid, NULL, msg.seq FROM messages msg JOIN conversations c ON c.id = msg.conversation_id
                 WHERE msg.photo_name = ?1 AND msg.tenant_id = ?2 AND msg.deleted_at IS NULL",
        )
        .bind(media_name)
        .bind(self.tenant.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|row| {
                let conversation = || Ok::<_, StoreError>(ConversationId(row.try_get(1).map_err(db)?));
                Ok(match row.try_get::<i64, _>(0).map_err(db)? {
                    0 => MediaUse::UserPhoto,
                    1 => MediaUse::GroupPhoto(conversation()?),
                    2 => MediaUse::FormerGroupPhoto {
                        conversation: conversation()?,
                        user: UserId(row.try_get(2).map_err(db)?),
                    },
                    _ => MediaUse::MessagePhoto { conversation: conversation()?, seq: row.try_get(3).map_err(db)? },
                })
            })
            .collect()
    }
}

async fn insert_session(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    user: i64,
    session: &NewSession,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO sessions (tenant_id, uuid, user_id, token_hash, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(tenant.0)
        .bind(session.id.0)
        .bind(user)
        .bind(&session.token_digest[..])
        .bind(session.now.millis())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Stores a new member's row as the admission rule made it.
async fn insert_member(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    conv: i64,
    user: i64,
    admission: Admission,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO members (tenant_id, conversation_id, user_id, role, joined_seq, joined_at, delivered_seq, read_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(tenant.0)
    .bind(conv)
    .bind(user)
    .bind(admission.role.as_str())
    .bind(admission.joined_seq)
    .bind(now.millis())
    .bind(admission.delivered_seq)
    .bind(admission.read_seq)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// Starts a former member's new stay on their row, as the admission rule made it; what
/// was kept for their view of the group goes with the old stay.
async fn readmit_member(
    conn: &mut SqliteConnection,
    member: i64,
    admission: Admission,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE members SET role = ?, joined_seq = ?, joined_at = ?, delivered_seq = ?, read_seq = ?,
             left_seq = NULL, left_at = NULL, left_name = NULL, left_photo_name = NULL
         WHERE id = ?",
    )
    .bind(admission.role.as_str())
    .bind(admission.joined_seq)
    .bind(now.millis())
    .bind(admission.delivered_seq)
    .bind(admission.read_seq)
    .bind(member)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// Applies the succession rule: when it names an heir, they become admin, announced as
/// `conversation.updated` (whose snapshot carries the roles).
async fn promote_if_no_admin(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    conv: ConvRef,
    now: Timestamp,
) -> StoreResult<Option<Committed>> {
    // Storage order (`id`) is the rule's last tie-break.
    let rows = sqlx::query(
        "SELECT id, role, joined_seq, joined_at FROM members WHERE conversation_id = ? AND left_seq IS NULL ORDER BY id",
    )
    .bind(conv.key)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let current = rows
        .iter()
        .map(|row| {
            let role: String = row.try_get(1).map_err(db)?;
            Ok(Standing {
                key: row.try_get::<i64, _>(0).map_err(db)?,
                role: Role::from_db(&role),
                joined_seq: row.try_get(2).map_err(db)?,
                joined_at: Timestamp::from_millis(row.try_get(3).map_err(db)?),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let Some(heir) = membership::heir(&current) else { return Ok(None) };
    sqlx::query("UPDATE members SET role = ? WHERE id = ?")
        .bind(Role::Admin.as_str())
        .bind(heir)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(Some(conversation_updated(conn, tenant, conv, now).await?))
}
