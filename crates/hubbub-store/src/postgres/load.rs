//! Building domain objects from rows. Used both by readers (pool connections) and by the
//! writer inside its transaction (to build the event of a change from what it just wrote).

use super::{Tenant, db};
use crate::common::unknown;
use hubbub_app::ports::{StoreError, StoreResult};
use hubbub_app::rules::view::{Stay, current_snapshot};
use hubbub_domain::{
    ConversationId, ConversationKind, ConversationSnapshot, Member, Message, ReactionSummary, User, UserId,
};
// Dynamic SQL here is only ever built from constant fragments, never from input.
use sqlx::{AssertSqlSafe, PgConnection};
use std::collections::HashMap;
use uuid::Uuid;

use crate::rows;
pub(crate) use crate::rows::{
    CONVERSATION_COLUMNS, ConvRef, ConversationRow, MEMBER_COLUMNS, MESSAGE_COLUMNS, MESSAGE_FROM, MemberRow,
    MessageRow, StayRow, USER_COLUMNS, UserRow,
};

/// The public ids of a conversation's current members.
pub(crate) const MEMBER_UUIDS: &str = "SELECT u.uuid FROM members m JOIN users u ON u.id = m.user_id
     WHERE m.conversation_id = $1 AND m.left_seq IS NULL";

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

pub(crate) async fn snapshot(conn: &mut PgConnection, conv: ConvRef) -> StoreResult<ConversationSnapshot> {
    let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = $1");
    let row: ConversationRow =
        sqlx::query_as(AssertSqlSafe(sql)).bind(conv.key).fetch_one(&mut *conn).await.map_err(db)?;
    let members = members(conn, conv.key).await?;
    let count = members.len() as i64;
    Ok(current_snapshot(row.facts(conv)?, members, count))
}

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
    let keys: Vec<i64> = rows.iter().map(|row| row.key).collect();
    let reactions = reactions_for(conn, &keys).await?;
    Ok(rows::messages_with_reactions(rows, reactions))
}

pub(crate) async fn message_by_key(conn: &mut PgConnection, key: i64) -> StoreResult<Message> {
    messages_where(conn, "m.id = $1", &[key]).await?.pop().ok_or(StoreError::NotFound)
}

/// Reactions grouped per message and emoji, in the order they were first given.
async fn reactions_for(conn: &mut PgConnection, keys: &[i64]) -> StoreResult<HashMap<i64, Vec<ReactionSummary>>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, Uuid)> = sqlx::query_as(
        "SELECT re.message_id, re.emoji, u.uuid FROM reactions re JOIN users u ON u.id = re.user_id
         WHERE re.message_id = ANY($1) ORDER BY re.id",
    )
    .bind(keys)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(rows::group_reactions(rows))
}

impl crate::view_rows::ViewParts for PgConnection {
    async fn message_by_key(&mut self, key: i64) -> StoreResult<Message> {
        message_by_key(self, key).await
    }

    async fn snapshot(&mut self, conv: ConvRef) -> StoreResult<ConversationSnapshot> {
        snapshot(self, conv).await
    }

    async fn stays(&mut self, conv: i64) -> StoreResult<Vec<Stay>> {
        stays(self, conv).await
    }
}
