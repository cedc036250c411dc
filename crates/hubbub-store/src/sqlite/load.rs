//! Building domain objects from rows. Used both by readers (pool connections) and by the
//! writer inside its transaction (to build the event of a change from what it just wrote).

use super::{Tenant, db};
use hubbub_app::ports::{StoreError, StoreResult};
use hubbub_app::rules::view::{ConversationFacts, Stay, current_snapshot};
use hubbub_domain::{
    ConversationId, ConversationKind, ConversationSnapshot, Member, Message, MessageId, Photo, ReactionSummary,
    ReplyRef, Role, Timestamp, User, UserId,
};
// Dynamic SQL here is only ever built from constant fragments, never from input.
use sqlx::{AssertSqlSafe, Row, SqliteConnection};
use std::collections::HashMap;
use uuid::Uuid;

pub(crate) fn media_url(name: &str) -> String {
    format!("/media/{name}")
}

pub(crate) const USER_COLUMNS: &str = "u.uuid, u.username, u.display_name, u.photo_name, u.about, u.last_seen_at";

pub(crate) fn user_from_row(row: &sqlx::sqlite::SqliteRow, offset: usize) -> StoreResult<User> {
    let photo: Option<String> = row.try_get(offset + 3).map_err(db)?;
    Ok(User {
        id: UserId(row.try_get(offset).map_err(db)?),
        username: row.try_get(offset + 1).map_err(db)?,
        display_name: row.try_get(offset + 2).map_err(db)?,
        photo_url: photo.as_deref().map(media_url),
        about: row.try_get(offset + 4).map_err(db)?,
        last_seen_at: row.try_get::<Option<i64>, _>(offset + 5).map_err(db)?.map(Timestamp::from_millis),
        online: false,
    })
}

pub(crate) async fn user_by_key(conn: &mut SqliteConnection, key: i64) -> StoreResult<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?");
    let row = sqlx::query(AssertSqlSafe(sql)).bind(key).fetch_one(&mut *conn).await.map_err(db)?;
    user_from_row(&row, 0)
}

pub(crate) async fn user_key(conn: &mut SqliteConnection, tenant: Tenant, id: UserId) -> StoreResult<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM users WHERE uuid = ? AND tenant_id = ? AND deleted_at IS NULL")
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

pub(crate) async fn conv_ref(conn: &mut SqliteConnection, tenant: Tenant, id: ConversationId) -> StoreResult<ConvRef> {
    let row = sqlx::query("SELECT id, kind FROM conversations WHERE uuid = ? AND tenant_id = ? AND deleted_at IS NULL")
        .bind(id.0)
        .bind(tenant.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
    let kind: String = row.try_get(1).map_err(db)?;
    Ok(ConvRef { key: row.try_get(0).map_err(db)?, id, kind: ConversationKind::from_db(&kind) })
}

/// Current members with their users, oldest first.
pub(crate) async fn members(conn: &mut SqliteConnection, conv: i64) -> StoreResult<Vec<Member>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, m.role, m.joined_at, m.delivered_seq, m.read_seq
         FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = ? AND m.left_seq IS NULL ORDER BY m.joined_seq, m.id"
    );
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(conv).fetch_all(&mut *conn).await.map_err(db)?;
    rows.iter().map(member_from_row).collect()
}

/// Every member's latest stay, current or ended, oldest first, for the rules that decide
/// who a former member's view lists (`hubbub_app::rules::view::members_at`).
pub(crate) async fn stays(conn: &mut SqliteConnection, conv: i64) -> StoreResult<Vec<Stay>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, m.role, m.joined_at, m.delivered_seq, m.read_seq, m.joined_seq, m.left_seq
         FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = ? ORDER BY m.joined_seq, m.id"
    );
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(conv).fetch_all(&mut *conn).await.map_err(db)?;
    rows.iter()
        .map(|row| {
            Ok(Stay {
                member: member_from_row(row)?,
                joined_seq: row.try_get(10).map_err(db)?,
                left_seq: row.try_get(11).map_err(db)?,
            })
        })
        .collect()
}

fn member_from_row(row: &sqlx::sqlite::SqliteRow) -> StoreResult<Member> {
    let role: String = row.try_get(6).map_err(db)?;
    Ok(Member {
        user: user_from_row(row, 0)?,
        role: Role::from_db(&role),
        joined_at: Timestamp::from_millis(row.try_get(7).map_err(db)?),
        delivered_seq: row.try_get(8).map_err(db)?,
        read_seq: row.try_get(9).map_err(db)?,
    })
}

pub(crate) async fn member_uuids(conn: &mut SqliteConnection, conv: i64) -> StoreResult<Vec<UserId>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(super::MEMBER_UUIDS).bind(conv).fetch_all(&mut *conn).await.map_err(db)?;
    Ok(ids.into_iter().map(UserId).collect())
}

pub(crate) async fn snapshot(conn: &mut SqliteConnection, conv: ConvRef) -> StoreResult<ConversationSnapshot> {
    let row = sqlx::query("SELECT name, photo_name, last_seq, created_at, updated_at FROM conversations WHERE id = ?")
        .bind(conv.key)
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    let members = members(conn, conv.key).await?;
    let photo: Option<String> = row.try_get(1).map_err(db)?;
    let facts = ConversationFacts {
        id: conv.id,
        kind: conv.kind,
        name: row.try_get(0).map_err(db)?,
        photo_url: photo.as_deref().map(media_url),
        last_seq: row.try_get(2).map_err(db)?,
        created_at: Timestamp::from_millis(row.try_get(3).map_err(db)?),
        updated_at: Timestamp::from_millis(row.try_get(4).map_err(db)?),
    };
    Ok(current_snapshot(facts, members))
}

const MESSAGE_COLUMNS: &str = "m.id, m.uuid, m.seq, su.uuid, m.text, m.photo_name, m.photo_width, m.photo_height,
    m.forwarded, m.created_at, m.edited_at, m.deleted_at, r.uuid, ru.uuid, r.text, r.deleted_at, c.uuid";

const MESSAGE_FROM: &str = "messages m
    JOIN users su ON su.id = m.sender_id
    JOIN conversations c ON c.id = m.conversation_id
    LEFT JOIN messages r ON r.id = m.reply_to_id
    LEFT JOIN users ru ON ru.id = r.sender_id";

/// Loads messages by a WHERE clause over `m` (with its binds), then their reactions.
pub(crate) async fn messages_where(
    conn: &mut SqliteConnection,
    condition: &str,
    binds: &[i64],
) -> StoreResult<Vec<Message>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE {condition}");
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for bind in binds {
        query = query.bind(*bind);
    }
    let rows = query.fetch_all(&mut *conn).await.map_err(db)?;
    let mut keys = Vec::with_capacity(rows.len());
    let mut messages = Vec::with_capacity(rows.len());
    for row in &rows {
        keys.push(row.try_get::<i64, _>(0).map_err(db)?);
        messages.push(message_from_row(row)?);
    }
    let mut reactions = reactions_for(conn, &keys).await?;
    for (key, message) in keys.iter().zip(messages.iter_mut()) {
        if let Some(list) = reactions.remove(key) {
            message.reactions = list;
        }
    }
    Ok(messages)
}

pub(crate) async fn message_by_key(conn: &mut SqliteConnection, key: i64) -> StoreResult<Message> {
    messages_where(conn, "m.id = ?", &[key]).await?.pop().ok_or(StoreError::NotFound)
}

fn message_from_row(row: &sqlx::sqlite::SqliteRow) -> StoreResult<Message> {
    let deleted_at: Option<i64> = row.try_get(11).map_err(db)?;
    let deleted = deleted_at.is_some();
    let photo_name: Option<String> = row.try_get(5).map_err(db)?;
    let photo = match (photo_name, deleted) {
        (Some(name), false) => Some(Photo {
            url: media_url(&name),
            width: row.try_get::<Option<i64>, _>(6).map_err(db)?.unwrap_or(0) as u32,
            height: row.try_get::<Option<i64>, _>(7).map_err(db)?.unwrap_or(0) as u32,
        }),
        _ => None,
    };
    let reply_id: Option<Uuid> = row.try_get(12).map_err(db)?;
    let reply_to = match reply_id {
        Some(reply_id) => {
            let reply_deleted: Option<i64> = row.try_get(15).map_err(db)?;
            Some(ReplyRef {
                id: MessageId(reply_id),
                sender_id: UserId(row.try_get(13).map_err(db)?),
                text: if reply_deleted.is_some() { String::new() } else { row.try_get(14).map_err(db)? },
            })
        }
        None => None,
    };
    Ok(Message {
        id: MessageId(row.try_get(1).map_err(db)?),
        conversation_id: ConversationId(row.try_get(16).map_err(db)?),
        seq: row.try_get(2).map_err(db)?,
        sender_id: UserId(row.try_get(3).map_err(db)?),
        text: if deleted { String::new() } else { row.try_get(4).map_err(db)? },
        photo,
        reply_to,
        forwarded: row.try_get::<i64, _>(8).map_err(db)? != 0,
        reactions: Vec::new(),
        status: None,
        created_at: Timestamp::from_millis(row.try_get(9).map_err(db)?),
        edited_at: row.try_get::<Option<i64>, _>(10).map_err(db)?.map(Timestamp::from_millis),
        deleted,
    })
}

/// Reactions grouped per message and emoji, in the order they were first given.
async fn reactions_for(conn: &mut SqliteConnection, keys: &[i64]) -> StoreResult<HashMap<i64, Vec<ReactionSummary>>> {
    let mut grouped: HashMap<i64, Vec<ReactionSummary>> = HashMap::new();
    if keys.is_empty() {
        return Ok(grouped);
    }
    let list = serde_json::to_string(keys).expect("integers serialise");
    let rows = sqlx::query(
        "SELECT re.message_id, re.emoji, u.uuid FROM reactions re JOIN users u ON u.id = re.user_id
         WHERE re.message_id IN (SELECT value FROM json_each(?)) ORDER BY re.id",
    )
    .bind(list)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    for row in rows {
        let key: i64 = row.try_get(0).map_err(db)?;
        let emoji: String = row.try_get(1).map_err(db)?;
        let user = UserId(row.try_get(2).map_err(db)?);
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
