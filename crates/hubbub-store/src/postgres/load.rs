//! Building domain objects from rows. Used both by readers (pool connections) and by the
//! writer inside its transaction (to build the event of a change from what it just wrote).

use super::{Tenant, db};
use crate::common::unknown;
use hubbub_app::ports::{StoreError, StoreResult};
use hubbub_app::rules::view::{ConversationFacts, Stay, current_snapshot};
use hubbub_domain::{
    ConversationId, ConversationKind, ConversationSnapshot, Member, Message, MessageId, Photo, ReactionSummary,
    ReplyRef, Role, Timestamp, User, UserId, Visibility,
};
// Dynamic SQL here is only ever built from constant fragments, never from input.
use sqlx::{AssertSqlSafe, PgConnection};
use std::collections::HashMap;
use uuid::Uuid;

pub(crate) use crate::common::media_url;

/// The public ids of a conversation's current members.
pub(crate) const MEMBER_UUIDS: &str = "SELECT u.uuid FROM members m JOIN users u ON u.id = m.user_id
     WHERE m.conversation_id = $1 AND m.left_seq IS NULL";

/// The columns of a `UserRow`, over `users u`.
pub(crate) const USER_COLUMNS: &str = "u.uuid AS user_id, u.username, u.display_name, u.photo_name AS user_photo_name,
    u.about, u.last_seen_at";

/// A user as `USER_COLUMNS` reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    user_id: Uuid,
    username: String,
    display_name: String,
    user_photo_name: Option<String>,
    about: String,
    last_seen_at: Option<i64>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> User {
        User {
            id: UserId(row.user_id),
            username: row.username,
            display_name: row.display_name,
            photo_url: row.user_photo_name.as_deref().map(media_url),
            about: row.about,
            last_seen_at: row.last_seen_at.map(Timestamp::from_millis),
            online: false,
        }
    }
}

pub(crate) async fn user_by_key(conn: &mut PgConnection, key: i64) -> StoreResult<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    let row: UserRow = sqlx::query_as(AssertSqlSafe(sql)).bind(key).fetch_one(&mut *conn).await.map_err(db)?;
    Ok(row.into())
}

pub(crate) async fn user_key(conn: &mut PgConnection, tenant: Tenant, id: UserId) -> StoreResult<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM users WHERE uuid = $1 AND tenant_id = $2 AND deleted_at IS NULL")
        .bind(id.0)
        .bind(tenant.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)
}

/// A conversation's internal key with its public id, resolved once per operation.
#[derive(Clone, Copy)]
pub(crate) struct ConvRef {
    pub key: i64,
    pub id: ConversationId,
    pub kind: ConversationKind,
}

pub(crate) async fn conv_ref(conn: &mut PgConnection, tenant: Tenant, id: ConversationId) -> StoreResult<ConvRef> {
    let (key, kind): (i64, String) =
        sqlx::query_as("SELECT id, kind FROM conversations WHERE uuid = $1 AND tenant_id = $2 AND deleted_at IS NULL")
            .bind(id.0)
            .bind(tenant.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?
            .ok_or(StoreError::NotFound)?;
    Ok(ConvRef { key, id, kind: ConversationKind::from_db(&kind).map_err(unknown)? })
}

/// Resolves a conversation for a write and locks its row until COMMIT: every writer of
/// the conversation, on every node, queues here, and what this transaction reads after it
/// includes everything they committed (see the module comment of `postgres`).
pub(crate) async fn lock_conversation(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: ConversationId,
) -> StoreResult<ConvRef> {
    let (key, kind): (i64, String) = sqlx::query_as(
        "SELECT id, kind FROM conversations WHERE uuid = $1 AND tenant_id = $2 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(id.0)
    .bind(tenant.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?
    .ok_or(StoreError::NotFound)?;
    Ok(ConvRef { key, id, kind: ConversationKind::from_db(&kind).map_err(unknown)? })
}

/// `lock_conversation`, also reading the conversation's `last_seq`: while the lock is held,
/// the next seq is `last_seq + 1` and no other writer can take it.
pub(crate) async fn lock_conversation_at(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: ConversationId,
) -> StoreResult<(ConvRef, i64)> {
    let (key, kind, last_seq): (i64, String, i64) = sqlx::query_as(
        "SELECT id, kind, last_seq FROM conversations WHERE uuid = $1 AND tenant_id = $2 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(id.0)
    .bind(tenant.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?
    .ok_or(StoreError::NotFound)?;
    Ok((ConvRef { key, id, kind: ConversationKind::from_db(&kind).map_err(unknown)? }, last_seq))
}

/// The columns of a `MemberRow`, over `members m JOIN users u`.
pub(crate) const MEMBER_COLUMNS: &str = "m.role, m.joined_at, m.delivered_seq, m.read_seq";

/// A member with their user, as `USER_COLUMNS, MEMBER_COLUMNS` read them.
#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    #[sqlx(flatten)]
    user: UserRow,
    role: String,
    joined_at: i64,
    delivered_seq: i64,
    read_seq: i64,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;

    fn try_from(row: MemberRow) -> StoreResult<Member> {
        Ok(Member {
            user: row.user.into(),
            role: Role::from_db(&row.role).map_err(unknown)?,
            joined_at: Timestamp::from_millis(row.joined_at),
            delivered_seq: row.delivered_seq,
            read_seq: row.read_seq,
        })
    }
}

/// A member's latest stay, for the view rules.
#[derive(sqlx::FromRow)]
struct StayRow {
    #[sqlx(flatten)]
    member: MemberRow,
    joined_seq: i64,
    left_seq: Option<i64>,
}

/// Current members with their users, oldest first.
pub(crate) async fn members(conn: &mut PgConnection, conv: i64) -> StoreResult<Vec<Member>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, {MEMBER_COLUMNS}
         FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = $1 AND m.left_seq IS NULL ORDER BY m.joined_seq, m.id"
    );
    let rows: Vec<MemberRow> = sqlx::query_as(AssertSqlSafe(sql)).bind(conv).fetch_all(&mut *conn).await.map_err(db)?;
    rows.into_iter().map(Member::try_from).collect()
}

/// Every member's latest stay, current or ended, oldest first, for the rules that decide
/// who a former member's view lists (`hubbub_app::rules::view::members_at`).
pub(crate) async fn stays(conn: &mut PgConnection, conv: i64) -> StoreResult<Vec<Stay>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, {MEMBER_COLUMNS}, m.joined_seq, m.left_seq
         FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = $1 ORDER BY m.joined_seq, m.id"
    );
    let rows: Vec<StayRow> = sqlx::query_as(AssertSqlSafe(sql)).bind(conv).fetch_all(&mut *conn).await.map_err(db)?;
    rows.into_iter()
        .map(|row| Ok(Stay { member: row.member.try_into()?, joined_seq: row.joined_seq, left_seq: row.left_seq }))
        .collect()
}

pub(crate) async fn member_uuids(conn: &mut PgConnection, conv: i64) -> StoreResult<Vec<UserId>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(MEMBER_UUIDS).bind(conv).fetch_all(&mut *conn).await.map_err(db)?;
    Ok(ids.into_iter().map(UserId).collect())
}

/// The columns of a `ConversationRow`, over `conversations c`.
pub(crate) const CONVERSATION_COLUMNS: &str = "c.name, c.photo_name, c.last_seq, c.created_at, c.updated_at,
    c.visibility, c.topic, c.password_hash IS NOT NULL AS has_password,
    (SELECT s.uuid FROM spaces s WHERE s.id = c.space_id) AS space_uuid";

#[derive(sqlx::FromRow)]
pub(crate) struct ConversationRow {
    name: Option<String>,
    photo_name: Option<String>,
    last_seq: i64,
    created_at: i64,
    updated_at: i64,
    visibility: String,
    topic: String,
    has_password: bool,
    space_uuid: Option<Uuid>,
}

impl ConversationRow {
    pub(crate) fn facts(self, conv: ConvRef) -> StoreResult<ConversationFacts> {
        Ok(ConversationFacts {
            id: conv.id,
            kind: conv.kind,
            name: self.name,
            photo_url: self.photo_name.as_deref().map(media_url),
            last_seq: self.last_seq,
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
            visibility: Visibility::from_db(&self.visibility).map_err(unknown)?,
            topic: self.topic,
            has_password: self.has_password,
            space_id: self.space_uuid.map(hubbub_domain::SpaceId),
        })
    }
}

pub(crate) async fn snapshot(conn: &mut PgConnection, conv: ConvRef) -> StoreResult<ConversationSnapshot> {
    let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = $1");
    let row: ConversationRow =
        sqlx::query_as(AssertSqlSafe(sql)).bind(conv.key).fetch_one(&mut *conn).await.map_err(db)?;
    let members = members(conn, conv.key).await?;
    let count = members.len() as i64;
    Ok(current_snapshot(row.facts(conv)?, members, count))
}

/// The columns of a `MessageRow`, over `MESSAGE_FROM`.
const MESSAGE_COLUMNS: &str = "m.id AS key, m.uuid AS id, m.seq, su.uuid AS sender_id, m.text, m.photo_name,
    m.photo_width, m.photo_height, m.forwarded, m.created_at, m.edited_at, m.deleted_at, r.uuid AS reply_id,
    ru.uuid AS reply_sender_id, r.text AS reply_text, r.deleted_at AS reply_deleted_at, c.uuid AS conversation_id";

#[derive(sqlx::FromRow)]
struct MessageRow {
    key: i64,
    id: Uuid,
    seq: i64,
    sender_id: Uuid,
    text: String,
    photo_name: Option<String>,
    photo_width: Option<i64>,
    photo_height: Option<i64>,
    forwarded: bool,
    created_at: i64,
    edited_at: Option<i64>,
    deleted_at: Option<i64>,
    reply_id: Option<Uuid>,
    reply_sender_id: Option<Uuid>,
    reply_text: Option<String>,
    reply_deleted_at: Option<i64>,
    conversation_id: Uuid,
}

const MESSAGE_FROM: &str = "messages m
    JOIN users su ON su.id = m.sender_id
    JOIN conversations c ON c.id = m.conversation_id
    LEFT JOIN messages r ON r.id = m.reply_to_id
    LEFT JOIN users ru ON ru.id = r.sender_id";

/// Loads messages by a WHERE clause over `m` (with its binds), then their reactions.
pub(crate) async fn messages_where(
    conn: &mut PgConnection,
    condition: &str,
    binds: &[i64],
) -> StoreResult<Vec<Message>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE {condition}");
    let mut query = sqlx::query_as::<_, MessageRow>(AssertSqlSafe(sql));
    for bind in binds {
        query = query.bind(*bind);
    }
    let rows = query.fetch_all(&mut *conn).await.map_err(db)?;
    let mut keys = Vec::with_capacity(rows.len());
    let mut messages = Vec::with_capacity(rows.len());
    for row in rows {
        keys.push(row.key);
        messages.push(Message::from(row));
    }
    let mut reactions = reactions_for(conn, &keys).await?;
    for (key, message) in keys.iter().zip(messages.iter_mut()) {
        if let Some(list) = reactions.remove(key) {
            message.reactions = list;
        }
    }
    Ok(messages)
}

pub(crate) async fn message_by_key(conn: &mut PgConnection, key: i64) -> StoreResult<Message> {
    messages_where(conn, "m.id = $1", &[key]).await?.pop().ok_or(StoreError::NotFound)
}

impl From<MessageRow> for Message {
    fn from(row: MessageRow) -> Message {
        let deleted = row.deleted_at.is_some();
        let photo = match (row.photo_name, deleted) {
            (Some(name), false) => Some(Photo {
                url: media_url(&name),
                width: row.photo_width.unwrap_or(0) as u32,
                height: row.photo_height.unwrap_or(0) as u32,
            }),
            _ => None,
        };
        let reply_to = match (row.reply_id, row.reply_sender_id) {
            (Some(reply_id), Some(sender_id)) => Some(ReplyRef {
                id: MessageId(reply_id),
                sender_id: UserId(sender_id),
                text: if row.reply_deleted_at.is_some() { String::new() } else { row.reply_text.unwrap_or_default() },
            }),
            _ => None,
        };
        Message {
            id: MessageId(row.id),
            conversation_id: ConversationId(row.conversation_id),
            seq: row.seq,
            sender_id: UserId(row.sender_id),
            text: if deleted { String::new() } else { row.text },
            photo,
            reply_to,
            forwarded: row.forwarded,
            reactions: Vec::new(),
            status: None,
            created_at: Timestamp::from_millis(row.created_at),
            edited_at: row.edited_at.map(Timestamp::from_millis),
            deleted,
        }
    }
}

/// Reactions grouped per message and emoji, in the order they were first given.
async fn reactions_for(conn: &mut PgConnection, keys: &[i64]) -> StoreResult<HashMap<i64, Vec<ReactionSummary>>> {
    let mut grouped: HashMap<i64, Vec<ReactionSummary>> = HashMap::new();
    if keys.is_empty() {
        return Ok(grouped);
    }
    let rows: Vec<(i64, String, Uuid)> = sqlx::query_as(
        "SELECT re.message_id, re.emoji, u.uuid FROM reactions re JOIN users u ON u.id = re.user_id
         WHERE re.message_id = ANY($1) ORDER BY re.id",
    )
    .bind(keys)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    for (key, emoji, user) in rows {
        let user = UserId(user);
        let list = grouped.entry(key).or_default();
        match list.iter_mut().find(|r| r.emoji == emoji) {
            Some(summary) => {
                summary.count += 1;
                summary.user_ids.push(user);
            }
            None => list.push(ReactionSummary { emoji, count: 1, user_ids: vec![user] }),
        }
    }
    Ok(grouped)
}
