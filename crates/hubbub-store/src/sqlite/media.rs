//! The bookkeeping of stored files: their records and every place that uses them.

use super::{SqliteStore, Tenant, db};
use hubbub_app::ports::*;
use hubbub_domain::{ConversationId, Timestamp, UserId};
use sqlx::SqliteConnection;
use uuid::Uuid;

pub(super) async fn media_records(store: &SqliteStore) -> StoreResult<Vec<MediaRecord>> {
    let mut conn = store.read().await?;
    let rows: Vec<MediaRow> = sqlx::query_as(
        "SELECT name, content_type, size_bytes, width, height, purpose FROM media WHERE tenant_id = ? AND purpose <> 'file' ORDER BY id",
    )
    .bind(store.tenant.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|row| MediaRecord {
            media_name: row.name,
            content_type: row.content_type,
            size_bytes: row.size_bytes as u64,
            width: row.width as u32,
            height: row.height as u32,
            purpose: crate::common::purpose_from_text(&row.purpose),
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct MediaRow {
    name: String,
    content_type: String,
    size_bytes: i64,
    width: i64,
    height: i64,
    purpose: String,
}

/// One place a file is used, as `media_uses` reads it: `place` says which, and the other
/// columns are set as that place needs.
#[derive(sqlx::FromRow)]
struct UseRow {
    place: i64,
    conversation: Option<Uuid>,
    user: Option<Uuid>,
    seq: Option<i64>,
    file_name: Option<String>,
    content_type: Option<String>,
}

impl TryFrom<UseRow> for MediaUse {
    type Error = StoreError;

    fn try_from(row: UseRow) -> StoreResult<MediaUse> {
        let missing = || StoreError::Other("a media use without its conversation".into());
        let conversation = || row.conversation.map(ConversationId).ok_or_else(missing);
        Ok(match row.place {
            PLACE_PROFILE => MediaUse::UserPhoto,
            PLACE_GROUP => MediaUse::GroupPhoto(conversation()?),
            PLACE_FORMER_VIEW => MediaUse::FormerGroupPhoto {
                conversation: conversation()?,
                user: UserId(row.user.ok_or_else(missing)?),
            },
            PLACE_MESSAGE_FILE => MediaUse::MessageFile {
                conversation: conversation()?,
                seq: row.seq.ok_or_else(missing)?,
                file_name: row.file_name.clone().unwrap_or_default(),
                content_type: row.content_type.clone().unwrap_or_default(),
            },
            _ => MediaUse::MessagePhoto { conversation: conversation()?, seq: row.seq.ok_or_else(missing)? },
        })
    }
}

const PLACE_PROFILE: i64 = 0;
const PLACE_GROUP: i64 = 1;
const PLACE_FORMER_VIEW: i64 = 2;
const PLACE_MESSAGE_FILE: i64 = 4;

pub(super) async fn update_media(store: &SqliteStore, old_name: &str, record: MediaRecord) -> StoreResult<()> {
    let tenant = store.tenant;
    let old_name = old_name.to_owned();
    store
        .writer
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
                sqlx::query(
                    "UPDATE messages SET photo_name = ?1, photo_width = ?2, photo_height = ?3 WHERE photo_name = ?4",
                )
                .bind(&record.media_name)
                .bind(record.width as i64)
                .bind(record.height as i64)
                .bind(&old_name)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                sqlx::query(
                    "UPDATE messages SET link_image_name = ?1, link_image_width = ?2, link_image_height = ?3
                     WHERE link_image_name = ?4",
                )
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

pub(super) async fn media_uses(store: &SqliteStore, media_name: &str) -> StoreResult<Vec<MediaUse>> {
    let mut conn = store.read().await?;
    // One indexed lookup per place a file can be used: 0 profile, 1 group, 2 a former
    // member's view of a group, 3 message photo, 4 message file (the `PLACE_*` constants).
    let rows: Vec<UseRow> = sqlx::query_as(
        "SELECT 0 AS place, NULL AS conversation, NULL AS user, NULL AS seq,
             NULL AS file_name, NULL AS content_type FROM users WHERE photo_name = ?1 AND tenant_id = ?2
         UNION ALL
         SELECT 1, uuid, NULL, NULL, NULL, NULL FROM conversations WHERE photo_name = ?1 AND tenant_id = ?2 AND deleted_at IS NULL
         UNION ALL
         SELECT 2, c.uuid, u.uuid, NULL, NULL, NULL FROM members m
             JOIN conversations c ON c.id = m.conversation_id JOIN users u ON u.id = m.user_id
             WHERE m.left_photo_name = ?1 AND m.tenant_id = ?2 AND c.deleted_at IS NULL
         UNION ALL
         SELECT 3, c.uuid, NULL, msg.seq, NULL, NULL FROM messages msg JOIN conversations c ON c.id = msg.conversation_id
             WHERE (msg.photo_name = ?1 OR msg.link_image_name = ?1) AND msg.tenant_id = ?2
                 AND msg.deleted_at IS NULL
         UNION ALL
         SELECT 4, c.uuid, NULL, msg.seq, msg.file_display_name, msg.file_content_type
             FROM messages msg JOIN conversations c ON c.id = msg.conversation_id
             WHERE msg.file_name = ?1 AND msg.tenant_id = ?2 AND msg.deleted_at IS NULL",
    )
    .bind(media_name)
    .bind(store.tenant.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    rows.into_iter().map(MediaUse::try_from).collect()
}

/// Whether anything still uses the file, a former member's view of a group included.
pub(super) async fn is_media_referenced(conn: &mut SqliteConnection, name: &str) -> StoreResult<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE photo_name = ?1)
             OR EXISTS (SELECT 1 FROM conversations WHERE photo_name = ?1)
             OR EXISTS (SELECT 1 FROM members WHERE left_photo_name = ?1)
             OR EXISTS (SELECT 1 FROM messages WHERE photo_name = ?1 AND deleted_at IS NULL)
             OR EXISTS (SELECT 1 FROM messages WHERE link_image_name = ?1 AND deleted_at IS NULL)
             OR EXISTS (SELECT 1 FROM messages WHERE file_name = ?1 AND deleted_at IS NULL)",
    )
    .bind(name)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)
}

/// The replaced file, if nothing references it any more after the change.
/// Its record goes in the same transaction; the caller deletes the file after the commit
/// (a crash in between leaves an unreferenced file, never a reference to a missing one).
pub(super) async fn orphan(conn: &mut SqliteConnection, name: Option<String>) -> StoreResult<Option<String>> {
    match name {
        Some(name) if !is_media_referenced(conn, &name).await? => {
            sqlx::query("DELETE FROM media WHERE name = ?").bind(&name).execute(&mut *conn).await.map_err(db)?;
            Ok(Some(name))
        }
        _ => Ok(None),
    }
}

/// Records a stored file; a file shared by forwarded copies is recorded once.
pub(super) async fn record_media(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    photo: &PhotoInput,
    purpose: MediaPurpose,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(super::INSERT_MEDIA)
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

pub(super) use crate::common::purpose_text;
