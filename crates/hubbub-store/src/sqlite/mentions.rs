//! Mentions, pins and edit history on SQLite: who a message mentions as the use case
//! resolved it (stored with the message), the pinned messages of a conversation, the texts
//! a message had before its edits, and the messages that mention someone.

use super::load::{self, conv_ref};
use super::messages::{message_key, message_updated};
use super::{SqliteStore, Tenant, db, direct};
use hubbub_app::ports::{Committed, Membership, Mentions, StoreError, StoreResult};
use hubbub_app::rules::history;
use hubbub_domain::{ConversationId, Message, MessageId, MessageVersion, Timestamp, UserId};
use rusqlite::params;
use sqlx::SqliteConnection;
use uuid::Uuid;

/// One row per member mentioned by name (`@all` is the message's flag, not rows), in the
/// send's direct transaction.
pub(crate) fn insert_rows(
    conn: &rusqlite::Connection,
    tenant: Tenant,
    message_key: i64,
    mentions: &Mentions,
) -> StoreResult<()> {
    if mentions.all {
        return Ok(());
    }
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO message_mentions (tenant_id, message_id, user_id)
             SELECT ?1, ?2, u.id FROM users u WHERE u.uuid = ?3 AND u.tenant_id = ?1 ON CONFLICT DO NOTHING",
        )
        .map_err(direct::db)?;
    for user in &mentions.users {
        insert.execute(params![tenant.0, message_key, user.0]).map_err(direct::db)?;
    }
    Ok(())
}

/// Replaces what a message mentions (an edit re-resolves them), inside the edit's write.
pub(crate) async fn replace(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    message_key: i64,
    mentions: &Mentions,
) -> StoreResult<()> {
    sqlx::query("UPDATE messages SET mentions = ?, mentions_all = ? WHERE id = ?")
        .bind(crate::rows::mentions_json(&mentions.users))
        .bind(mentions.all)
        .bind(message_key)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    sqlx::query("DELETE FROM message_mentions WHERE message_id = ?")
        .bind(message_key)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    if mentions.all {
        return Ok(());
    }
    for user in &mentions.users {
        sqlx::query(
            "INSERT INTO message_mentions (tenant_id, message_id, user_id)
             SELECT ?1, ?2, u.id FROM users u WHERE u.uuid = ?3 AND u.tenant_id = ?1 ON CONFLICT DO NOTHING",
        )
        .bind(tenant.0)
        .bind(message_key)
        .bind(user.0)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    Ok(())
}

/// Keeps the text a message has now (and its `edited_at`) as an earlier version, before an
/// edit replaces it. Nothing for a deleted message (the edit then fails).
pub(crate) async fn keep_version(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    message_key: i64,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO message_versions (tenant_id, message_id, text, edited_at, replaced_at)
         SELECT ?, id, text, edited_at, ? FROM messages WHERE id = ? AND deleted_at IS NULL",
    )
    .bind(tenant.0)
    .bind(now.millis())
    .bind(message_key)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// What a delete takes with it: the mentions, the pin and the earlier versions.
pub(crate) async fn forget(conn: &mut SqliteConnection, message_key: i64) -> StoreResult<()> {
    sqlx::query("UPDATE messages SET mentions = '[]', mentions_all = 0, pinned_at = NULL WHERE id = ?")
        .bind(message_key)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    for table in
        ["DELETE FROM message_mentions WHERE message_id = ?", "DELETE FROM message_versions WHERE message_id = ?"]
    {
        sqlx::query(table).bind(message_key).execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

pub(super) async fn members_named(
    store: &SqliteStore,
    id: ConversationId,
    usernames: &[String],
) -> StoreResult<Vec<UserId>> {
    if usernames.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = store.read().await?;
    let list = serde_json::to_string(usernames).expect("strings serialise");
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT u.uuid FROM members m JOIN users u ON u.id = m.user_id JOIN conversations c ON c.id = m.conversation_id
         WHERE c.uuid = ? AND c.tenant_id = ? AND c.deleted_at IS NULL AND m.left_seq IS NULL AND u.deleted_at IS NULL
           AND u.username IN (SELECT value FROM json_each(?))
         ORDER BY m.joined_seq, m.id",
    )
    .bind(id.0)
    .bind(store.tenant.0)
    .bind(list)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(ids.into_iter().map(UserId).collect())
}

pub(super) async fn set_pinned(
    store: &SqliteStore,
    id: ConversationId,
    message: MessageId,
    pinned: bool,
    now: Timestamp,
) -> StoreResult<Option<Committed>> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = conv_ref(conn, tenant, id).await?;
                let key = message_key(conn, conv.key, message).await?;
                let (deleted, was_pinned): (bool, bool) =
                    sqlx::query_as("SELECT deleted_at IS NOT NULL, pinned_at IS NOT NULL FROM messages WHERE id = ?")
                        .bind(key)
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(db)?;
                if deleted {
                    return Err(StoreError::InvalidState("the message was deleted"));
                }
                if was_pinned == pinned {
                    return Ok(None);
                }
                sqlx::query("UPDATE messages SET pinned_at = ? WHERE id = ?")
                    .bind(pinned.then_some(now.millis()))
                    .bind(key)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                let (_, committed) = message_updated(conn, tenant, conv, key, now).await?;
                Ok(Some(committed))
            })
        })
        .await
}

pub(super) async fn pinned_messages(
    store: &SqliteStore,
    id: ConversationId,
    membership: Membership,
) -> StoreResult<Vec<Message>> {
    let mut conn = store.read().await?;
    let conv = conv_ref(&mut conn, store.tenant, id).await?;
    let window = history::events_window(&membership, 0);
    load::messages_where(
        &mut conn,
        "m.conversation_id = ? AND m.pinned_at IS NOT NULL AND m.deleted_at IS NULL AND m.seq > ? AND m.seq <= ?
         ORDER BY m.pinned_at DESC, m.id DESC",
        &[conv.key, window.after, window.up_to],
    )
    .await
}

pub(super) async fn message_versions(
    store: &SqliteStore,
    id: ConversationId,
    message: MessageId,
) -> StoreResult<Vec<MessageVersion>> {
    let mut conn = store.read().await?;
    let conv = conv_ref(&mut conn, store.tenant, id).await?;
    let key = message_key(&mut conn, conv.key, message).await?;
    let rows: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT text, edited_at FROM message_versions WHERE message_id = ? ORDER BY id")
            .bind(key)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(text, edited_at)| MessageVersion { text, edited_at: edited_at.map(Timestamp::from_millis) })
        .collect())
}

/// The messages mentioning `me`: those naming them (their rows) and those for everyone in
/// the conversations they are or were in, then kept to each membership's window.
pub(super) async fn mentions_of(
    store: &SqliteStore,
    me: UserId,
    before: Option<MessageId>,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    let mut conn = store.read().await?;
    let Some(me) = load::user_key(&mut conn, store.tenant, me).await? else { return Ok(Vec::new()) };
    let before = match before {
        None => i64::MAX,
        Some(before) => sqlx::query_scalar("SELECT id FROM messages WHERE uuid = ? AND tenant_id = ?")
            .bind(before.0)
            .bind(store.tenant.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?
            .ok_or(StoreError::UnknownReference("before"))?,
    };
    load::messages_where(
        &mut conn,
        "m.id IN (SELECT x.message_id FROM message_mentions x WHERE x.user_id = ?1 AND x.message_id < ?2
                  UNION
                  SELECT a.id FROM members ma JOIN messages a ON a.conversation_id = ma.conversation_id AND a.mentions_all = 1
                  WHERE ma.user_id = ?1 AND a.id < ?2)
         AND c.deleted_at IS NULL AND m.deleted_at IS NULL AND m.sender_id != ?1
         AND EXISTS (SELECT 1 FROM members mb WHERE mb.conversation_id = m.conversation_id AND mb.user_id = ?1
                     AND m.seq > MAX(mb.joined_seq, mb.cleared_seq) AND (mb.left_seq IS NULL OR m.seq <= mb.left_seq))
         ORDER BY m.id DESC LIMIT ?3",
        &[me, before, limit as i64],
    )
    .await
}
