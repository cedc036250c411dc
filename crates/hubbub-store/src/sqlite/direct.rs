//! The hot writes, as direct jobs: synchronous rusqlite code with cached prepared statements,
//! run by the writer on its rusqlite connection (see `writer.rs` for why there are two).
//!
//! Each function here is one whole use case's write, exactly as its sqlx twin used to be;
//! the writer wraps it in a savepoint inside the run's transaction. Everything they need is
//! resolved inside that transaction, so a check and the change it guards can never see two
//! different states of the database.

use super::Tenant;
use super::load::ConvRef;
use bytes::Bytes;
use hubbub_app::ports::{
    Committed, MarksChange, MediaPurpose, NewMessage, SendOutcome, SettingsChange, StoreError, StoreResult,
};
use hubbub_app::rules::{audience, blocking, marks, marks::Marks, settings};
use hubbub_domain::media_path;
use hubbub_domain::{ConversationId, ConversationKind, Event, EventData, Message, Photo, ReplyRef, Timestamp, UserId};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

pub(crate) fn db(error: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::*;
    match &error {
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(failure.code, DatabaseBusy | DatabaseLocked | CannotOpen | SystemIoFailure | DiskFull) =>
        {
            StoreError::Unavailable(error.to_string())
        }
        _ => StoreError::Other(Box::new(error)),
    }
}

/// What a send did: stored a new message, or found the one an earlier request with the same
/// `client_id` stored (the caller loads it once the run has committed).
// Built once per send and moved straight to the caller: boxing the big variant would add an
// allocation to the hottest write and save nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Sent {
    New(SendOutcome),
    Repeat(i64),
}

/// Stores a new message and its `message.created` event.
///
/// The hottest write there is: every statement here is paid once per message on the single
/// writer. It resolves conversation, sender and membership in one query, takes the seq and
/// bumps the activity time in one UPDATE, and builds the stored message from what it just
/// wrote instead of reading it back.
pub(crate) fn send_message(conn: &Connection, tenant: Tenant, message: NewMessage) -> StoreResult<Sent> {
    // `blocked`: a current member blocks the sender (one probe of an index that is almost
    // always empty for the sender).
    let (conv_key, kind, sender, joined_seq, blocked) = conn
        .prepare_cached(
            "SELECT c.id, c.kind, u.id, m.joined_seq,
                    EXISTS (SELECT 1 FROM blocks b JOIN members o ON o.user_id = b.blocker_id
                            WHERE b.blocked_id = u.id AND o.conversation_id = c.id AND o.left_seq IS NULL)
             FROM conversations c
             JOIN users u ON u.uuid = ?2 AND u.tenant_id = ?3 AND u.deleted_at IS NULL
             LEFT JOIN members m ON m.conversation_id = c.id AND m.user_id = u.id AND m.left_seq IS NULL
             WHERE c.uuid = ?1 AND c.tenant_id = ?3 AND c.deleted_at IS NULL",
        )
        .map_err(db)?
        .query_row(params![message.conversation_id.0, message.sender.0, tenant.0], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, bool>(4)?,
            ))
        })
        .optional()
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
    // A non-member is told the conversation does not exist, as everywhere else.
    let visible_after = joined_seq.ok_or(StoreError::NotFound)?;
    let kind = ConversationKind::from_db(&kind).map_err(crate::common::unknown)?;
    let conv = ConvRef { key: conv_key, id: message.conversation_id, kind };
    if !blocking::may_post(conv.kind, blocked) {
        return Err(StoreError::Forbidden(blocking::BLOCKED));
    }

    if let Some(client_id) = &message.client_id {
        let existing = conn
            .prepare_cached("SELECT id, conversation_id FROM messages WHERE sender_id = ? AND client_id = ?")
            .map_err(db)?
            .query_row(params![sender, client_id], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))
            .optional()
            .map_err(db)?;
        if let Some((existing_key, existing_conv)) = existing {
            if existing_conv != conv.key {
                return Err(StoreError::Conflict("client_id"));
            }
            return Ok(Sent::Repeat(existing_key));
        }
    }

    let (reply_key, reply_to) = match message.reply_to {
        Some(reply_to) => {
            let (key, sender_id, text, deleted) = conn
                .prepare_cached(
                    "SELECT r.id, u.uuid, r.text, r.deleted_at IS NOT NULL FROM messages r JOIN users u ON u.id = r.sender_id
                     WHERE r.uuid = ? AND r.conversation_id = ? AND r.seq > ?",
                )
                .map_err(db)?
                .query_row(params![reply_to.0, conv.key, visible_after], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, Uuid>(1)?, row.get::<_, String>(2)?, row.get::<_, bool>(3)?))
                })
                .optional()
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

    let now = message.now.millis();
    if let Some(photo) = &message.photo {
        // A file shared by forwarded copies is recorded once.
        conn.prepare_cached(super::INSERT_MEDIA)
            .map_err(db)?
            .execute(params![
                tenant.0,
                photo.media_name,
                photo.content_type,
                photo.width as i64,
                photo.height as i64,
                photo.size_bytes as i64,
                super::media::purpose_text(MediaPurpose::Message),
                now
            ])
            .map_err(db)?;
    }

    if let Some(file) = &message.file {
        conn.prepare_cached(super::INSERT_MEDIA)
            .map_err(db)?
            .execute(params![
                tenant.0,
                file.media_name,
                file.content_type,
                0i64,
                0i64,
                file.size_bytes as i64,
                crate::common::FILE_PURPOSE,
                now
            ])
            .map_err(db)?;
    }

    let seq: i64 = conn
        .prepare_cached(
            "UPDATE conversations SET last_seq = last_seq + 1, updated_at = ?1, last_activity_at = ?1
             WHERE id = ?2 RETURNING last_seq",
        )
        .map_err(db)?
        .query_row(params![now, conv.key], |row| row.get(0))
        .map_err(db)?;
    let photo = message.photo.as_ref();
    let file = message.file.as_ref();
    conn.prepare_cached(
        "INSERT INTO messages (tenant_id, uuid, conversation_id, seq, sender_id, text, photo_name, photo_width, photo_height,
                               reply_to_id, forwarded, client_id, created_at,
                               file_name, file_display_name, file_content_type, file_size, mentions, mentions_all)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .map_err(db)?
    .execute(params![
        tenant.0,
        message.id.0,
        conv.key,
        seq,
        sender,
        message.text.as_str(),
        photo.map(|p| p.media_name.as_str()),
        photo.map(|p| p.width as i64),
        photo.map(|p| p.height as i64),
        reply_key,
        message.forwarded,
        message.client_id,
        now,
        file.map(|f| f.media_name.as_str()),
        file.map(|f| f.file_name.as_str()),
        file.map(|f| f.content_type.as_str()),
        file.map(|f| f.size_bytes as i64),
        crate::rows::mentions_json(&message.mentions.users),
        message.mentions.all
    ])
    .map_err(db)?;
    if !message.mentions.users.is_empty() {
        super::mentions::insert_rows(conn, tenant, conn.last_insert_rowid(), &message.mentions)?;
    }

    let stored = Message {
        id: message.id,
        conversation_id: conv.id,
        seq,
        sender_id: message.sender,
        text: message.text.into_string(),
        photo: photo.map(|p| Photo { url: media_path(&p.media_name), width: p.width, height: p.height }),
        file: file.map(hubbub_app::ports::FileInput::attachment),
        reply_to,
        forwarded: message.forwarded,
        reactions: Vec::new(),
        status: None,
        created_at: message.now,
        edited_at: None,
        deleted: false,
        link_preview: None,
        mentions: message.mentions.users,
        pinned: false,
    };
    let (current, settings_changed) = settings_after_message(conn, conv, message.sender, message.now)?;
    let event = Event::persisted(conv.id, seq, EventData::MessageCreated(stored.clone()));
    let committed = record_event(conn, tenant, conv, event, current, message.now)?;
    Ok(Sent::New(SendOutcome { message: stored, committed: Some(committed), settings_changed }))
}

/// Moves the caller's delivered and read marks forward (never back, never past the last seq;
/// read implies delivered) and records each move for receipts.
pub(crate) fn advance_marks(
    conn: &Connection,
    tenant: Tenant,
    me: UserId,
    id: ConversationId,
    delivered: Option<i64>,
    read: Option<i64>,
    now: Timestamp,
) -> StoreResult<MarksChange> {
    let (conv_key, user_key, member_key, old_delivered, old_read, last_seq) = conn
        .prepare_cached(
            "SELECT c.id, u.id, m.id, m.delivered_seq, m.read_seq, c.last_seq FROM conversations c
             JOIN users u ON u.uuid = ?2 AND u.tenant_id = ?3 AND u.deleted_at IS NULL
             JOIN members m ON m.conversation_id = c.id AND m.user_id = u.id AND m.left_seq IS NULL
             WHERE c.uuid = ?1 AND c.tenant_id = ?3 AND c.deleted_at IS NULL",
        )
        .map_err(db)?
        .query_row(params![id.0, me.0, tenant.0], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })
        .optional()
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
    let old = Marks { delivered: old_delivered, read: old_read };
    let Some(Marks { delivered: new_delivered, read: new_read }) = marks::advance(old, delivered, read, last_seq)
    else {
        return Ok(MarksChange::Unchanged);
    };
    conn.prepare_cached("UPDATE members SET delivered_seq = ?, read_seq = ? WHERE id = ?")
        .map_err(db)?
        .execute(params![new_delivered, new_read, member_key])
        .map_err(db)?;
    for (kind, old, new) in [("delivered", old_delivered, new_delivered), ("read", old_read, new_read)] {
        if new > old {
            conn.prepare_cached(
                "INSERT INTO mark_moves (tenant_id, conversation_id, user_id, kind, seq, at) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .map_err(db)?
            .execute(params![tenant.0, conv_key, user_key, kind, new, now.millis()])
            .map_err(db)?;
        }
    }
    let recipients = member_uuids(conn, conv_key)?.into();
    Ok(MarksChange::Moved { delivered_seq: new_delivered, read_seq: new_read, recipients })
}

pub(crate) fn set_last_seen(conn: &Connection, tenant: Tenant, id: UserId, at: Timestamp) -> StoreResult<()> {
    conn.prepare_cached("UPDATE users SET last_seen_at = ? WHERE uuid = ? AND tenant_id = ?")
        .map_err(db)?
        .execute(params![at.millis(), id.0, tenant.0])
        .map_err(db)?;
    Ok(())
}

/// The current members (the event's audience) and what the new message does to their
/// settings (`rules::settings::after_message`), stored here, in the send's transaction. The
/// members' rows are read in the same statement that gives the audience, so the send pays
/// for this only when someone's chat comes back.
fn settings_after_message(
    conn: &Connection,
    conv: ConvRef,
    sender: UserId,
    now: Timestamp,
) -> StoreResult<(Vec<UserId>, Vec<SettingsChange>)> {
    let mut statement = conn
        .prepare_cached(
            "SELECT u.uuid, m.id, m.archived, m.pin_order, m.muted_until, m.hidden, m.notify
             FROM members m JOIN users u ON u.id = m.user_id
             WHERE m.conversation_id = ? AND m.left_seq IS NULL",
        )
        .map_err(db)?;
    let rows = statement
        .query_map([conv.key], |row| {
            Ok((
                UserId(row.get::<_, Uuid>(0)?),
                row.get::<_, i64>(1)?,
                (row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get::<_, Option<String>>(6)?),
            ))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    let mut members = Vec::with_capacity(rows.len());
    let mut changed = Vec::new();
    for (user, member, (archived, pin_order, muted_until, hidden, notify)) in rows {
        members.push(user);
        let before = crate::common::stored_settings(archived, pin_order, muted_until, hidden, notify.as_deref())?;
        let Some(after) = settings::after_message(before, user == sender, now) else { continue };
        conn.prepare_cached("UPDATE members SET archived = ?, hidden = ? WHERE id = ?")
            .map_err(db)?
            .execute(params![after.archived, after.hidden, member])
            .map_err(db)?;
        if settings::visible_change(before, after) {
            changed.push(SettingsChange { user, conversation: conv.id, settings: after.public(conv.kind) });
        }
    }
    Ok((members, changed))
}

fn member_uuids(conn: &Connection, conv: i64) -> StoreResult<Vec<UserId>> {
    let mut statement = conn.prepare_cached(super::MEMBER_UUIDS).map_err(db)?;
    let ids = statement.query_map([conv], |row| row.get::<_, Uuid>(0).map(UserId)).map_err(db)?;
    ids.collect::<Result<_, _>>().map_err(db)
}

/// Stores a persisted event in the conversation's log and returns its committed form, for
/// the audience the rule gives from the current members.
fn record_event(
    conn: &Connection,
    tenant: Tenant,
    conv: ConvRef,
    event: Event,
    current_members: Vec<UserId>,
    now: Timestamp,
) -> StoreResult<Committed> {
    let seq = event.seq.expect("persisted events carry a seq");
    // Moves the list through the rule: no copy, no allocation on the send path.
    let recipients = audience::recipients(&event.data, current_members);
    let json = event.to_json();
    conn.prepare_cached(super::INSERT_EVENT)
        .map_err(db)?
        .execute(params![
            tenant.0,
            conv.key,
            seq,
            event.data.type_name(),
            json,
            now.millis(),
            super::audience_text(&recipients)
        ])
        .map_err(db)?;
    Ok(Committed { conversation_id: conv.id, seq, json: Bytes::from(json), recipients: recipients.into() })
}
