//! Each member's own settings of a conversation and their clear of its history, kept on
//! their member row (PostgreSQL). The rules (`hubbub_app::rules::settings`) decide; this
//! file loads what they need inside the write and stores what they return.
//!
//! Locks, in this order: the user's row (so two devices pinning at once, on any nodes,
//! count each other's pins: the limit holds), then the conversation's row (a send changes
//! the same member row in its transaction, under that lock: without it a settings change
//! read before a send could write back an `archived` the send had just cleared).

use super::load::{self, lock_conversation};
use super::{PgStore, db};
use hubbub_app::ports::{SettingsPatch, StoreError, StoreResult};
use hubbub_app::rules::settings::{self, Pins};
use hubbub_domain::{ChatSettings, ConversationId, NotifyLevel, Timestamp, UserId};

pub(super) async fn update_settings(
    store: &PgStore,
    me: UserId,
    id: ConversationId,
    patch: SettingsPatch,
    now: Timestamp,
) -> StoreResult<ChatSettings> {
    let tenant = store.tenant;
    store
        .writer
        .write_in(id, move |conn| {
            Box::pin(async move {
                let user: i64 = sqlx::query_scalar(
                    "SELECT id FROM users WHERE uuid = $1 AND tenant_id = $2 AND deleted_at IS NULL FOR UPDATE",
                )
                .bind(me.0)
                .bind(tenant.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?
                .ok_or(StoreError::NotFound)?;
                let conv = lock_conversation(conn, tenant, id).await?;
                #[allow(clippy::type_complexity)]
                let (member, archived, pin_order, muted_until, hidden, notify): (
                    i64,
                    bool,
                    Option<i64>,
                    Option<i64>,
                    bool,
                    Option<String>,
                ) =
                    sqlx::query_as(
                        "SELECT id, archived, pin_order, muted_until, hidden, notify FROM members
                         WHERE conversation_id = $1 AND user_id = $2",
                    )
                    .bind(conv.key)
                    .bind(user)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?
                    .ok_or(StoreError::NotFound)?;
                let (pinned_elsewhere, highest_order): (i64, i64) = sqlx::query_as(
                    "SELECT COUNT(*) FILTER (WHERE m.id != $1 AND c.deleted_at IS NULL), COALESCE(MAX(m.pin_order), 0)::BIGINT
                     FROM members m JOIN conversations c ON c.id = m.conversation_id
                     WHERE m.user_id = $2 AND m.pin_order IS NOT NULL",
                )
                .bind(member)
                .bind(user)
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
                let current = crate::common::stored_settings(archived, pin_order, muted_until, hidden, notify.as_deref())?;
                let next = settings::apply(current, &patch, Pins { pinned_elsewhere, highest_order }, now)
                    .map_err(StoreError::InvalidState)?;
                sqlx::query("UPDATE members SET archived = $1, pin_order = $2, muted_until = $3, notify = $4 WHERE id = $5")
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

pub(super) async fn clear_history(store: &PgStore, me: UserId, id: ConversationId, hide: bool) -> StoreResult<()> {
    let tenant = store.tenant;
    store
        .writer
        .write_in(id, move |conn| {
            Box::pin(async move {
                // Locked first, so `last_seq` is the last seq committed and no send is half-way.
                let conv = lock_conversation(conn, tenant, id).await?;
                let user = load::user_key(conn, tenant, me).await?.ok_or(StoreError::NotFound)?;
                let updated = sqlx::query(
                    "UPDATE members SET cleared_seq = (SELECT last_seq FROM conversations WHERE id = $1), hidden = $2
                     WHERE conversation_id = $1 AND user_id = $3",
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
