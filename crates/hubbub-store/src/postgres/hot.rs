//! The hot writes (sending a message, moving marks), each one use case's whole write inside
//! the transaction `Writer` gives it, with as few round trips as the checks allow.
//!
//! A send locks the conversation row first and reads membership in a statement of its own
//! after the lock: under READ COMMITTED a locking statement re-checks only the rows it locks,
//! so membership read in the same statement as the lock could predate a removal that
//! committed while we waited for it.
//!
//! Round trips are what a send costs here (and how long it holds its conversation's lock,
//! which bounds one conversation's messages per second): BEGIN, the lock (which also reads
//! `last_seq`: while we hold the row nobody else can move it, so our seq is `last_seq + 1`),
//! the members, then ONE statement that moves `last_seq` and inserts the message and its
//! event (data-modifying CTEs), and COMMIT: five, where a statement per step took eight.
//! (A message that changes a member's settings, un-archiving a chat, adds one for that.)

use super::load::{self, lock_conversation_at};
use super::media::record_media;
use super::{Tenant, db};
use bytes::Bytes;
use hubbub_app::ports::{
    Committed, MarksChange, MediaPurpose, NewMessage, SendOutcome, SettingsChange, StoreError, StoreResult,
};
use hubbub_app::rules::{audience, blocking, marks, marks::Marks, settings};
use hubbub_domain::{ConversationId, Event, EventData, Message, Photo, ReplyRef, Timestamp, UserId};
use sqlx::PgConnection;
use uuid::Uuid;

/// Stores a new message and its `message.created` event; a retry with a `client_id` already
/// stored answers with that message as it is now and changes nothing.
pub(super) async fn send_message(
    conn: &mut PgConnection,
    tenant: Tenant,
    message: NewMessage,
) -> StoreResult<SendOutcome> {
    let (conv, last_seq) = lock_conversation_at(conn, tenant, message.conversation_id).await?;
    // Every current member, the sender among them: one statement gives the check, the
    // audience, whether the member blocks the sender, and the member's settings (which the
    // message may change, `rules::settings::after_message`).
    let members: Vec<MemberRow> = sqlx::query_as(
        "SELECT u.id AS user_key, u.uuid, m.joined_seq, u.deleted_at IS NULL AS active, m.id AS member_key,
                m.archived, m.pin_order, m.muted_until, m.hidden, m.notify,
                EXISTS (SELECT 1 FROM blocks b JOIN users bu ON bu.id = b.blocked_id
                        WHERE b.blocker_id = m.user_id AND bu.uuid = $2) AS blocks_sender
         FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = $1 AND m.left_seq IS NULL",
    )
    .bind(conv.key)
    .bind(message.sender.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    // A non-member is told the conversation does not exist, as everywhere else.
    let (sender, visible_after) = members
        .iter()
        .find(|m| m.uuid == message.sender.0 && m.active)
        .map(|m| (m.user_key, m.joined_seq))
        .ok_or(StoreError::NotFound)?;
    if !blocking::may_post(conv.kind, members.iter().any(|m| m.blocks_sender)) {
        return Err(StoreError::Forbidden(blocking::BLOCKED));
    }

    if let Some(client_id) = &message.client_id {
        let existing: Option<(i64, i64)> =
            sqlx::query_as("SELECT id, conversation_id FROM messages WHERE sender_id = $1 AND client_id = $2")
                .bind(sender)
                .bind(client_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
        if let Some((existing_key, existing_conv)) = existing {
            if existing_conv != conv.key {
                return Err(StoreError::Conflict("client_id"));
            }
            let message = load::message_by_key(conn, existing_key).await?;
            return Ok(SendOutcome { message, committed: None, settings_changed: Vec::new() });
        }
    }

    let (reply_key, reply_to) = match message.reply_to {
        Some(reply_to) => {
            let (key, sender_id, text, deleted): (i64, Uuid, String, bool) = sqlx::query_as(
                "SELECT r.id, u.uuid, r.text, r.deleted_at IS NOT NULL FROM messages r JOIN users u ON u.id = r.sender_id
                 WHERE r.uuid = $1 AND r.conversation_id = $2 AND r.seq > $3",
            )
            .bind(reply_to.0)
            .bind(conv.key)
            .bind(visible_after)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?
            .ok_or(StoreError::UnknownReference("reply_to"))?;
            let reply = ReplyRef {
                id: reply_to,
                sender_id: UserId(sender_id),
                text: if deleted { String::new() } else { text },
            };
            (Some(key), Some(reply))
        }
        None => (None, None),
    };

    if let Some(photo) = &message.photo {
        record_media(conn, tenant, photo, MediaPurpose::Message, message.now).await?;
    }
    if let Some(file) = &message.file {
        super::media::record_file(conn, tenant, file, message.now).await?;
    }
    let now = message.now.millis();
    let seq = last_seq + 1;
    let photo = message.photo.as_ref();
    let file = message.file.as_ref();
    let stored = Message {
        id: message.id,
        conversation_id: conv.id,
        seq,
        sender_id: message.sender,
        text: message.text.into_string(),
        photo: photo.map(|p| Photo { url: hubbub_domain::media_path(&p.media_name), width: p.width, height: p.height }),
        file: file.map(hubbub_app::ports::FileInput::attachment),
        reply_to,
        forwarded: message.forwarded,
        reactions: Vec::new(),
        status: None,
        created_at: message.now,
        edited_at: None,
        deleted: false,
        link_preview: None,
        mentions: message.mentions.users.clone(),
        pinned: false,
    };
    let mut settings_changed = Vec::new();
    for member in &members {
        let before = crate::common::stored_settings(
            member.archived,
            member.pin_order,
            member.muted_until,
            member.hidden,
            member.notify.as_deref(),
        )?;
        let user = UserId(member.uuid);
        let Some(after) = settings::after_message(before, user == message.sender, message.now) else { continue };
        sqlx::query("UPDATE members SET archived = $1, hidden = $2 WHERE id = $3")
            .bind(after.archived)
            .bind(after.hidden)
            .bind(member.member_key)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        if settings::visible_change(before, after) {
            settings_changed.push(SettingsChange { user, conversation: conv.id, settings: after.public(conv.kind) });
        }
    }
    let current = members.into_iter().map(|m| UserId(m.uuid)).collect();
    let event = Event::persisted(conv.id, seq, EventData::MessageCreated(stored.clone()));
    let recipients = audience::recipients(&event.data, current);
    let json = event.to_json();
    sqlx::query(
        "WITH bump AS (
             UPDATE conversations SET last_seq = $4, updated_at = $13, last_activity_at = $13 WHERE id = $3
         ), stored AS (
             INSERT INTO messages (tenant_id, uuid, conversation_id, seq, sender_id, text, photo_name, photo_width,
                                   photo_height, reply_to_id, forwarded, client_id, created_at,
                                   file_name, file_display_name, file_content_type, file_size, mentions, mentions_all)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $17, $18, $19, $20, $21, $22)
             RETURNING id
         ), mentioned AS (
             INSERT INTO message_mentions (tenant_id, message_id, user_id)
             SELECT $1, stored.id, u.id FROM stored, users u
             WHERE NOT $22 AND u.tenant_id = $1 AND u.uuid = ANY($23)
         )
         INSERT INTO events (tenant_id, conversation_id, seq, kind, payload, created_at, audience)
         VALUES ($1, $3, $4, $14, $15, $13, $16)",
    )
    .bind(tenant.0)
    .bind(message.id.0)
    .bind(conv.key)
    .bind(seq)
    .bind(sender)
    .bind(stored.text.as_str())
    .bind(photo.map(|p| p.media_name.as_str()))
    .bind(photo.map(|p| p.width as i64))
    .bind(photo.map(|p| p.height as i64))
    .bind(reply_key)
    .bind(message.forwarded)
    .bind(&message.client_id)
    .bind(now)
    .bind(event.data.type_name())
    .bind(&json)
    .bind(crate::common::audience_text(&recipients))
    .bind(file.map(|f| f.media_name.as_str()))
    .bind(file.map(|f| f.file_name.as_str()))
    .bind(file.map(|f| f.content_type.as_str()))
    .bind(file.map(|f| f.size_bytes as i64))
    .bind(crate::rows::mentions_json(&message.mentions.users))
    .bind(message.mentions.all)
    .bind(message.mentions.users.iter().map(|u| u.0).collect::<Vec<Uuid>>())
    .execute(&mut *conn)
    .await
    .map_err(|e| match &e {
        // Only a concurrent send with this client_id into another conversation gets here
        // (one into this conversation queued on the lock and was answered above).
        sqlx::Error::Database(d)
            if d.is_unique_violation() && d.constraint() == Some("messages_sender_id_client_id_key") =>
        {
            StoreError::Conflict("client_id")
        }
        _ => db(e),
    })?;
    let committed = Committed { conversation_id: conv.id, seq, json: Bytes::from(json), recipients: recipients.into() };
    Ok(SendOutcome { message: stored, committed: Some(committed), settings_changed })
}

/// A current member as a send reads them.
#[derive(sqlx::FromRow)]
struct MemberRow {
    user_key: i64,
    uuid: Uuid,
    joined_seq: i64,
    active: bool,
    member_key: i64,
    archived: bool,
    pin_order: Option<i64>,
    muted_until: Option<i64>,
    hidden: bool,
    notify: Option<String>,
    blocks_sender: bool,
}

/// Moves the caller's delivered and read marks forward (never back, never past the last seq;
/// read implies delivered) and records each move for receipts. The member row is locked, so
/// two devices moving one member's marks at once (on two nodes) cannot move them back.
pub(super) async fn advance_marks(
    conn: &mut PgConnection,
    tenant: Tenant,
    me: UserId,
    id: ConversationId,
    delivered: Option<i64>,
    read: Option<i64>,
    now: Timestamp,
) -> StoreResult<MarksChange> {
    let (conv_key, user_key, member_key, old_delivered, old_read, last_seq): (i64, i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "SELECT c.id, u.id, m.id, m.delivered_seq, m.read_seq, c.last_seq FROM conversations c
             JOIN users u ON u.uuid = $2 AND u.tenant_id = $3 AND u.deleted_at IS NULL
             JOIN members m ON m.conversation_id = c.id AND m.user_id = u.id AND m.left_seq IS NULL
             WHERE c.uuid = $1 AND c.tenant_id = $3 AND c.deleted_at IS NULL
             FOR UPDATE OF m",
        )
        .bind(id.0)
        .bind(me.0)
        .bind(tenant.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
    let old = Marks { delivered: old_delivered, read: old_read };
    let Some(Marks { delivered: new_delivered, read: new_read }) = marks::advance(old, delivered, read, last_seq)
    else {
        return Ok(MarksChange::Unchanged);
    };
    sqlx::query("UPDATE members SET delivered_seq = $1, read_seq = $2 WHERE id = $3")
        .bind(new_delivered)
        .bind(new_read)
        .bind(member_key)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    for (kind, old, new) in [("delivered", old_delivered, new_delivered), ("read", old_read, new_read)] {
        if new > old {
            sqlx::query(
                "INSERT INTO mark_moves (tenant_id, conversation_id, user_id, kind, seq, at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(tenant.0)
            .bind(conv_key)
            .bind(user_key)
            .bind(kind)
            .bind(new)
            .bind(now.millis())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        }
    }
    let recipients = load::member_uuids(conn, conv_key).await?.into();
    Ok(MarksChange::Moved { delivered_seq: new_delivered, read_seq: new_read, recipients })
}
