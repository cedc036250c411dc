//! Link previews: attaching one to a message, or taking it away, each a change of its own;
//! and reading one back as a preview to attach elsewhere (a forwarded copy).

use super::load::conv_ref;
use super::media::{orphan, record_media};
use super::messages::{message_key, message_updated};
use super::{SqliteStore, db};
use hubbub_app::ports::*;
use hubbub_domain::{ConversationId, Message, MessageId, Timestamp};
use sqlx::SqliteConnection;

pub(super) async fn set_link_preview(
    store: &SqliteStore,
    id: ConversationId,
    message: MessageId,
    preview: NewLinkPreview,
    now: Timestamp,
) -> StoreResult<(Message, Committed)> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = conv_ref(conn, tenant, id).await?;
                let key = message_key(conn, conv.key, message).await?;
                match &preview.image {
                    Some(LinkImage::Fresh(photo)) => {
                        record_media(conn, tenant, photo, MediaPurpose::Message, now).await?;
                    }
                    Some(LinkImage::Cached(photo)) => {
                        let recorded: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM media WHERE name = ?)")
                            .bind(&photo.media_name)
                            .fetch_one(&mut *conn)
                            .await
                            .map_err(db)?;
                        if !recorded {
                            return Err(StoreError::NotFound);
                        }
                    }
                    None => {}
                }
                let image = preview.image.as_ref().map(LinkImage::photo);
                let updated = sqlx::query(
                    "UPDATE messages SET link_url = ?, link_title = ?, link_description = ?, link_site_name = ?,
                         link_image_name = ?, link_image_width = ?, link_image_height = ?
                     WHERE id = ? AND deleted_at IS NULL",
                )
                .bind(&preview.url)
                .bind(&preview.title)
                .bind(&preview.description)
                .bind(&preview.site_name)
                .bind(image.map(|p| p.media_name.as_str()))
                .bind(image.map(|p| p.width as i64))
                .bind(image.map(|p| p.height as i64))
                .bind(key)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                if updated.rows_affected() == 0 {
                    // The fresh image's record goes with the rolled-back savepoint.
                    return Err(StoreError::InvalidState("the message was deleted"));
                }
                message_updated(conn, tenant, conv, key, now).await
            })
        })
        .await
}

pub(super) async fn clear_link_preview(
    store: &SqliteStore,
    id: ConversationId,
    message: MessageId,
    now: Timestamp,
) -> StoreResult<Option<ClearedLinkPreview>> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = conv_ref(conn, tenant, id).await?;
                let key = message_key(conn, conv.key, message).await?;
                let had: Option<(String, Option<String>)> =
                    sqlx::query_as("SELECT link_url, link_image_name FROM messages WHERE id = ? AND link_url IS NOT NULL")
                        .bind(key)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(db)?;
                // Nothing to take away (never had one, or a tombstone): no change, no event.
                let Some((_, image)) = had else { return Ok(None) };
                sqlx::query(
                    "UPDATE messages SET link_url = NULL, link_title = NULL, link_description = NULL, link_site_name = NULL,
                         link_image_name = NULL, link_image_width = NULL, link_image_height = NULL
                     WHERE id = ?",
                )
                .bind(key)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                let (message, committed) = message_updated(conn, tenant, conv, key, now).await?;
                let unreferenced = orphan(conn, image).await?;
                Ok(Some(ClearedLinkPreview { message, committed, unreferenced }))
            })
        })
        .await
}

/// A message's preview as a preview to attach to another message (its forwarded copy):
/// its image is the same stored file (`LinkImage::Cached`, checked again when attached).
pub(super) async fn preview_of(conn: &mut SqliteConnection, message_key: i64) -> StoreResult<Option<NewLinkPreview>> {
    let row: Option<PreviewRow> = sqlx::query_as(
        "SELECT m.link_url, m.link_title, m.link_description, m.link_site_name, m.link_image_name,
                m.link_image_width, m.link_image_height, md.content_type, md.size_bytes
         FROM messages m LEFT JOIN media md ON md.name = m.link_image_name
         WHERE m.id = ? AND m.link_url IS NOT NULL",
    )
    .bind(message_key)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    Ok(row.map(|row| NewLinkPreview {
        url: row.link_url,
        title: row.link_title.unwrap_or_default(),
        description: row.link_description,
        site_name: row.link_site_name,
        image: row.link_image_name.map(|media_name| {
            LinkImage::Cached(PhotoInput {
                media_name,
                content_type: row.content_type.unwrap_or_default(),
                size_bytes: row.size_bytes.unwrap_or(0) as u64,
                width: row.link_image_width.unwrap_or(0) as u32,
                height: row.link_image_height.unwrap_or(0) as u32,
            })
        }),
    }))
}

#[derive(sqlx::FromRow)]
struct PreviewRow {
    link_url: String,
    link_title: Option<String>,
    link_description: Option<String>,
    link_site_name: Option<String>,
    link_image_name: Option<String>,
    link_image_width: Option<i64>,
    link_image_height: Option<i64>,
    /// From the media record (a `LEFT JOIN`, so typed as optional).
    content_type: Option<String>,
    size_bytes: Option<i64>,
}
