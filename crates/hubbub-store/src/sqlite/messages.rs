//! Messages, reactions, receipts and the event log's replay.

use super::events::{next_seq, record_event};
use super::load::{self, ConvRef, conv_ref};
use super::media::orphan;
use super::{SqliteStore, Tenant, db, direct, views};
use bytes::Bytes;
use hubbub_app::ports::*;
use hubbub_app::rules::history;
use hubbub_app::rules::reactions::{self, ReactionChange};
use hubbub_app::rules::receipts::{self, Reader};
use hubbub_domain::{
    ConversationId, Emoji, Event, EventData, Message, MessageId, MessageText, Receipt, Timestamp, UserId, UserReaction,
};
use sqlx::SqliteConnection;
use uuid::Uuid;

pub(super) async fn list_messages(
    store: &SqliteStore,
    me: UserId,
    id: ConversationId,
    membership: Membership,
    cursor: HistoryCursor,
    limit: u32,
) -> StoreResult<MessagePage> {
    let mut conn = store.read().await?;
    let conv = conv_ref(&mut conn, store.tenant, id).await?;
    let window = history::messages_window(&membership, cursor);
    let condition = if window.newest_first {
        "m.conversation_id = ? AND m.seq > ? AND m.seq <= ? ORDER BY m.seq DESC LIMIT ?"
    } else {
        "m.conversation_id = ? AND m.seq > ? AND m.seq <= ? ORDER BY m.seq ASC LIMIT ?"
    };
    let rows =
        load::messages_where(&mut conn, condition, &[conv.key, window.after, window.up_to, limit as i64 + 1]).await?;
    let (messages, has_more) = history::page(rows, limit, window);
    let (others_min_delivered, others_min_read) =
        views::others_min_marks(&mut conn, conv.key, me, membership.left_seq).await?;
    Ok(MessagePage { messages, has_more, others_min_delivered, others_min_read })
}

pub(super) async fn message_meta(
    store: &SqliteStore,
    id: ConversationId,
    message: MessageId,
) -> StoreResult<Option<MessageMeta>> {
    let mut conn = store.read().await?;
    let row: Option<(Uuid, i64, Option<i64>)> = sqlx::query_as(
        "SELECT u.uuid, m.seq, m.deleted_at FROM messages m
         JOIN conversations c ON c.id = m.conversation_id JOIN users u ON u.id = m.sender_id
         WHERE m.uuid = ? AND c.uuid = ? AND c.tenant_id = ?",
    )
    .bind(message.0)
    .bind(id.0)
    .bind(store.tenant.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    Ok(row.map(|(sender_id, seq, deleted_at)| MessageMeta {
        sender_id: UserId(sender_id),
        seq,
        deleted: deleted_at.is_some(),
    }))
}

pub(super) async fn message_content(
    store: &SqliteStore,
    id: ConversationId,
    message: MessageId,
) -> StoreResult<Option<MessageContent>> {
    let mut conn = store.read().await?;
    let row: Option<ContentRow> = sqlx::query_as(
        "SELECT m.id, m.text, m.photo_name, m.photo_width, m.photo_height, md.content_type, md.size_bytes,
                m.file_name, m.file_display_name, m.file_content_type, m.file_size FROM messages m
         JOIN conversations c ON c.id = m.conversation_id LEFT JOIN media md ON md.name = m.photo_name
         WHERE m.uuid = ? AND c.uuid = ? AND c.tenant_id = ? AND m.deleted_at IS NULL",
    )
    .bind(message.0)
    .bind(id.0)
    .bind(store.tenant.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    let Some(row) = row else { return Ok(None) };
    let link_preview = super::links::preview_of(&mut conn, row.id).await?;
    Ok(Some(MessageContent {
        link_preview,
        photo: row.photo_name.map(|media_name| PhotoInput {
            media_name,
            content_type: row.content_type.unwrap_or_default(),
            size_bytes: row.size_bytes.unwrap_or(0) as u64,
            width: row.photo_width.unwrap_or(0) as u32,
            height: row.photo_height.unwrap_or(0) as u32,
        }),
        file: row.file_name.map(|media_name| FileInput {
            media_name,
            file_name: row.file_display_name.unwrap_or_default(),
            content_type: row.file_content_type.unwrap_or_default(),
            size_bytes: row.file_size.unwrap_or(0) as u64,
        }),
        text: row.text,
    }))
}

#[derive(sqlx::FromRow)]
struct ContentRow {
    id: i64,
    text: String,
    photo_name: Option<String>,
    photo_width: Option<i64>,
    photo_height: Option<i64>,
    /// From the media record (a `LEFT JOIN`, so typed as optional).
    content_type: Option<String>,
    size_bytes: Option<i64>,
    file_name: Option<String>,
    file_display_name: Option<String>,
    file_content_type: Option<String>,
    file_size: Option<i64>,
}

pub(super) async fn send_message(store: &SqliteStore, message: NewMessage) -> StoreResult<SendOutcome> {
    let tenant = store.tenant;
    match store.writer.write_direct(move |conn| direct::send_message(conn, tenant, message)).await? {
        direct::Sent::New(outcome) => Ok(outcome),
        // A retry of a send that already committed: answer with the stored message as it
        // is now (it may have been edited or reacted to since), and change nothing.
        direct::Sent::Repeat(key) => {
            let message = load::message_by_key(&mut *store.read().await?, key).await?;
            Ok(SendOutcome { message, committed: None, settings_changed: Vec::new() })
        }
    }
}

pub(super) async fn edit_message(
    store: &SqliteStore,
    id: ConversationId,
    message: MessageId,
    text: MessageText,
    mentions: Mentions,
    now: Timestamp,
) -> StoreResult<(Message, Committed)> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = conv_ref(conn, tenant, id).await?;
                let key = message_key(conn, conv.key, message).await?;
                super::mentions::keep_version(conn, tenant, key, now).await?;
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
                super::mentions::replace(conn, tenant, key, &mentions).await?;
                message_updated(conn, tenant, conv, key, now).await
            })
        })
        .await
}

pub(super) async fn delete_message(
    store: &SqliteStore,
    id: ConversationId,
    message: MessageId,
    now: Timestamp,
) -> StoreResult<(Committed, Vec<String>)> {
    let tenant = store.tenant;
    store.writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = conv_ref(conn, tenant, id).await?;
                let key = message_key(conn, conv.key, message).await?;
                // A message has a photo or a file, not both, and maybe a preview's image.
                let (stored, link_image): (Option<String>, Option<String>) =
                    sqlx::query_as("SELECT COALESCE(photo_name, file_name), link_image_name FROM messages WHERE id = ?")
                    .bind(key)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
                // A tombstone keeps its place (seq, sender, time) and nothing else.
                sqlx::query(
                    "UPDATE messages SET deleted_at = ?, text = '', photo_name = NULL, photo_width = NULL, photo_height = NULL,
                         link_url = NULL, link_title = NULL, link_description = NULL, link_site_name = NULL,
                         link_image_name = NULL, link_image_width = NULL, link_image_height = NULL,
                         file_name = NULL, file_display_name = NULL, file_content_type = NULL, file_size = NULL
                     WHERE id = ?",
                )
                .bind(now.millis())
                .bind(key)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                sqlx::query("DELETE FROM reactions WHERE message_id = ?").bind(key).execute(&mut *conn).await.map_err(db)?;
                super::mentions::forget(conn, key).await?;
                let (_, committed) = message_updated(conn, tenant, conv, key, now).await?;
                let mut gone: Vec<String> = orphan(conn, stored).await?.into_iter().collect();
                gone.extend(orphan(conn, link_image).await?);
                Ok((committed, gone))
            })
        })
        .await
}

pub(super) async fn set_reaction(
    store: &SqliteStore,
    me: UserId,
    id: ConversationId,
    message: MessageId,
    emoji: Option<Emoji>,
    now: Timestamp,
) -> StoreResult<Option<Committed>> {
    let tenant = store.tenant;
    store.writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = conv_ref(conn, tenant, id).await?;
                let key = message_key(conn, conv.key, message).await?;
                let user = load::user_key(conn, tenant, me).await?.ok_or(StoreError::NotFound)?;
                // Checked again inside the write, as sends and edits are: the use case's checks
                // ran before, and a removal or a delete may have committed since.
                let is_member: Option<i64> =
                    sqlx::query_scalar("SELECT 1 FROM members WHERE conversation_id = ? AND user_id = ? AND left_seq IS NULL")
                        .bind(conv.key)
                        .bind(user)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(db)?;
                if is_member.is_none() {
                    return Err(StoreError::NotFound);
                }
                let deleted: Option<i64> = sqlx::query_scalar("SELECT deleted_at FROM messages WHERE id = ?")
                    .bind(key)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
                if deleted.is_some() {
                    return Err(StoreError::InvalidState("the message was deleted"));
                }
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

pub(super) async fn reactions(
    store: &SqliteStore,
    id: ConversationId,
    message: MessageId,
) -> StoreResult<Vec<UserReaction>> {
    let mut conn = store.read().await?;
    let conv = conv_ref(&mut conn, store.tenant, id).await?;
    let key = message_key(&mut conn, conv.key, message).await?;
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT u.uuid, r.emoji FROM reactions r JOIN users u ON u.id = r.user_id WHERE r.message_id = ? ORDER BY r.id",
    )
    .bind(key)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(rows.into_iter().map(|(user_id, emoji)| UserReaction { user_id: UserId(user_id), emoji }).collect())
}

pub(super) async fn receipts(store: &SqliteStore, id: ConversationId, message: MessageId) -> StoreResult<Vec<Receipt>> {
    let mut conn = store.read().await?;
    let conv = conv_ref(&mut conn, store.tenant, id).await?;
    let key = message_key(&mut conn, conv.key, message).await?;
    // Every member's stay, with the first time each mark reached the message; who of them
    // owes a receipt is the rule's decision.
    let rows: Vec<ReceiptRow> = sqlx::query_as(
        "SELECT u.uuid AS user_id, mb.joined_seq, mb.left_seq, su.uuid AS sender_id, msg.seq AS message_seq,
                (SELECT MIN(mv.at) FROM mark_moves mv WHERE mv.conversation_id = mb.conversation_id AND mv.user_id = mb.user_id
                    AND mv.kind = 'delivered' AND mv.seq >= msg.seq) AS delivered_at,
                (SELECT MIN(mv.at) FROM mark_moves mv WHERE mv.conversation_id = mb.conversation_id AND mv.user_id = mb.user_id
                    AND mv.kind = 'read' AND mv.seq >= msg.seq) AS read_at
         FROM messages msg
         JOIN users su ON su.id = msg.sender_id
         JOIN members mb ON mb.conversation_id = msg.conversation_id
         JOIN users u ON u.id = mb.user_id
         WHERE msg.id = ?
         ORDER BY mb.joined_seq, mb.id",
    )
    .bind(key)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .filter(|row| {
            let reader = Reader { user: UserId(row.user_id), joined_seq: row.joined_seq, left_seq: row.left_seq };
            receipts::owes_receipt(reader, UserId(row.sender_id), row.message_seq)
        })
        .map(|row| Receipt {
            user_id: UserId(row.user_id),
            delivered_at: row.delivered_at.map(Timestamp::from_millis),
            read_at: row.read_at.map(Timestamp::from_millis),
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct ReceiptRow {
    user_id: Uuid,
    joined_seq: i64,
    left_seq: Option<i64>,
    sender_id: Uuid,
    message_seq: i64,
    delivered_at: Option<i64>,
    read_at: Option<i64>,
}

pub(super) async fn events_after(
    store: &SqliteStore,
    id: ConversationId,
    membership: Membership,
    after: i64,
    limit: u32,
) -> StoreResult<EventPage> {
    let mut conn = store.read().await?;
    let conv = conv_ref(&mut conn, store.tenant, id).await?;
    let window = history::events_window(&membership, after);
    let payloads: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM events WHERE conversation_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
    )
    .bind(conv.key)
    .bind(window.after)
    .bind(window.up_to)
    .bind(limit as i64 + 1)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let (payloads, has_more) = history::page(payloads, limit, window);
    Ok(EventPage { events: payloads.into_iter().map(Bytes::from).collect(), has_more })
}

/// Records a change to a message as `message.updated`, carrying the message as it now is.
pub(super) async fn message_updated(
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

pub(super) async fn message_key(conn: &mut SqliteConnection, conv: i64, message: MessageId) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT id FROM messages WHERE uuid = ? AND conversation_id = ?")
        .bind(message.0)
        .bind(conv)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)
}
