//! Link previews: attaching one to a message, as a change of its own.

use super::load::lock_conversation;
use super::media::{lock_media_name, record_media};
use super::messages::{message_key, message_updated};
use super::{PgStore, db};
use hubbub_app::ports::*;
use hubbub_domain::{ConversationId, Message, MessageId, Timestamp};

pub(super) async fn set_link_preview(
    store: &PgStore,
    id: ConversationId,
    message: MessageId,
    preview: NewLinkPreview,
    now: Timestamp,
) -> StoreResult<(Message, Committed)> {
    let tenant = store.tenant;
    store
        .writer
        .write_in(id, move |conn| {
            Box::pin(async move {
                let conv = lock_conversation(conn, tenant, id).await?;
                let key = message_key(conn, conv.key, message).await?;
                match &preview.image {
                    Some(LinkImage::Fresh(photo)) => {
                        record_media(conn, tenant, photo, MediaPurpose::Message, now).await?;
                    }
                    Some(LinkImage::Cached(photo)) => {
                        // Serialised with the writes that may delete its record (`orphan`).
                        lock_media_name(conn, &photo.media_name).await?;
                        let recorded: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM media WHERE name = $1)")
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
                    "UPDATE messages SET link_url = $1, link_title = $2, link_description = $3, link_site_name = $4,
                         link_image_name = $5, link_image_width = $6, link_image_height = $7
                     WHERE id = $8 AND deleted_at IS NULL",
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
