//! Each member's own settings of a conversation (archive, pin, mute) and their clear of its
//! history, kept on their member row. The rules (`hubbub_app::rules::settings`) decide;
//! this file loads what they need inside the write and stores what they return.

use super::load;
use super::{SqliteStore, db};
use hubbub_app::ports::{SettingsPatch, StoreError, StoreResult};
use hubbub_app::rules::settings::{self, Pins};
use hubbub_domain::{ChatSettings, ConversationId, NotifyLevel, Timestamp, UserId};

pub(super) async fn update_settings(
    store: &SqliteStore,
    me: UserId,
    id: ConversationId,
    patch: SettingsPatch,
    now: Timestamp,
) -> StoreResult<ChatSettings> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = load::conv_ref(conn, tenant, id).await?;
                let user = load::user_key(conn, tenant, me).await?.ok_or(StoreError::NotFound)?;
                #[allow(clippy::type_complexity)]
                let (member, archived, pin_order, muted_until, hidden, notify): (
                    i64,
                    bool,
                    Option<i64>,
                    Option<i64>,
                    bool,
                    Option<String>,
                ) = sqlx::query_as(
                    "SELECT id, archived, pin_order, muted_until, hidden, notify FROM members
                         WHERE conversation_id = ? AND user_id = ?",
                )
                .bind(conv.key)
                .bind(user)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?
                .ok_or(StoreError::NotFound)?;
                // The single writer serialises this count with every other pin.
                let (pinned_elsewhere, highest_order): (i64, i64) = sqlx::query_as(
                    "SELECT COUNT(*) FILTER (WHERE m.id != ?1 AND c.deleted_at IS NULL), COALESCE(MAX(m.pin_order), 0)
                     FROM members m JOIN conversations c ON c.id = m.conversation_id
                     WHERE m.user_id = ?2 AND m.pin_order IS NOT NULL",
                )
                .bind(member)
                .bind(user)
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
                let current =
                    crate::common::stored_settings(archived, pin_order, muted_until, hidden, notify.as_deref())?;
                let next = settings::apply(current, &patch, Pins { pinned_elsewhere, highest_order }, now)
                    .map_err(StoreError::InvalidState)?;
                sqlx::query("UPDATE members SET archived = ?, pin_order = ?, muted_until = ?, notify = ? WHERE id = ?")
                    .bind(next.archived)
                    .bind(next.pin_order)
                    .bind(next.muted_until.map(Timestamp::millis))
                    .bind(next.notify.map(NotifyLevel::as_str))
                    .bind(member)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                Ok(next.public(conv.kind))
            })
        })
        .await
}

pub(super) async fn clear_history(store: &SqliteStore, me: UserId, id: ConversationId, hide: bool) -> StoreResult<()> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = load::conv_ref(conn, tenant, id).await?;
                let user = load::user_key(conn, tenant, me).await?.ok_or(StoreError::NotFound)?;
                let updated = sqlx::query(
                    "UPDATE members SET cleared_seq = (SELECT last_seq FROM conversations WHERE id = ?1), hidden = ?2
                     WHERE conversation_id = ?1 AND user_id = ?3",
                )
                .bind(conv.key)
                .bind(hide)
                .bind(user)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                if updated.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            })
        })
        .await
}
