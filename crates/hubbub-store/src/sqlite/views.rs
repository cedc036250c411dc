//! Conversation views: a viewer's conversations with the parts that depend on who looks.
//!
//! A former member sees a conversation as it was at their `left_seq` (the port's
//! `ConversationView` says exactly what that is); this file only loads what that view is
//! made of (the name and photo that `remove_member` kept on their row, every member's
//! stay), and `hubbub_app::rules::view` decides what of it they see.

use super::load;
use super::{Tenant, db};
use crate::view_rows::ViewRow;
use hubbub_app::ports::{ConversationView, StoreResult};
use hubbub_app::rules::view;
use hubbub_domain::{ConversationId, UserId};
use sqlx::SqliteConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// The caller's conversations (or one of them), current and left, each with its members,
/// last message, unread count and the others' lowest marks. The unread count is one indexed
/// range count over (conversation_id, seq); members and the last message are loaded per
/// conversation. Both start after the viewer's clear of the history, if later than their
/// addition (`rules::history::visible_from`, the bound of everything they may see). The
/// whole list (`only` unset) is arranged by `rules::settings::arrange`: hidden ones left
/// out, pinned ones first.
pub(crate) async fn views(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    me: UserId,
    only: Option<ConversationId>,
) -> StoreResult<Vec<ConversationView>> {
    let rows: Vec<ViewRow> = sqlx::query_as(
        "SELECT c.id AS key, c.uuid AS id, c.kind, mm.role,
                (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.seq > MAX(mm.read_seq, mm.cleared_seq)
                    AND m.sender_id != mm.user_id AND m.deleted_at IS NULL) AS unread_count,
                (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.seq > MAX(mm.read_seq, mm.cleared_seq)
                    AND m.sender_id != mm.user_id AND m.deleted_at IS NULL
                    AND (m.mentions_all = 1 OR EXISTS (SELECT 1 FROM message_mentions x WHERE x.message_id = m.id AND x.user_id = mm.user_id)))
                    AS unread_mentions,
                (SELECT MIN(o.delivered_seq) FROM members o WHERE o.conversation_id = c.id AND o.user_id != mm.user_id AND o.left_seq IS NULL)
                    AS others_min_delivered,
                (SELECT MIN(o.read_seq) FROM members o WHERE o.conversation_id = c.id AND o.user_id != mm.user_id AND o.left_seq IS NULL)
                    AS others_min_read,
                (SELECT MAX(m.id) FROM messages m WHERE m.conversation_id = c.id AND m.seq > MAX(mm.joined_seq, mm.cleared_seq)
                    AND m.seq <= COALESCE(mm.left_seq, c.last_seq)) AS last_message_key,
                mm.left_seq, mm.left_at, mm.left_name, mm.left_photo_name, mm.left_topic, c.created_at,
                c.visibility, c.password_hash IS NOT NULL AS has_password,
                mm.archived, mm.pin_order, mm.muted_until, mm.hidden, mm.notify
         FROM users me
         JOIN members mm ON mm.user_id = me.id
         JOIN conversations c ON c.id = mm.conversation_id AND c.deleted_at IS NULL
         WHERE me.uuid = ? AND me.tenant_id = ? AND (? IS NULL OR c.uuid = ?)
         ORDER BY COALESCE(mm.left_at, c.last_activity_at) DESC, c.id DESC",
    )
    .bind(me.0)
    .bind(tenant.0)
    .bind(only.map(|c| c.0))
    .bind(only.map(|c| c.0))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let aliases = aliases(conn, tenant, me).await?;
    crate::view_rows::assemble(conn, me, only, rows, aliases).await
}

/// The viewer's aliases, by the user they name (for `rules::view::alias_for_viewer`).
async fn aliases(conn: &mut SqliteConnection, tenant: Tenant, me: UserId) -> StoreResult<HashMap<UserId, String>> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT u.uuid, ct.alias FROM contacts ct JOIN users owner ON owner.id = ct.owner_id JOIN users u ON u.id = ct.user_id
         WHERE owner.uuid = ? AND owner.tenant_id = ? AND ct.alias IS NOT NULL",
    )
    .bind(me.0)
    .bind(tenant.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(rows.into_iter().map(|(user, alias)| (UserId(user), alias)).collect())
}

/// The lowest marks among the other members, for the status of the caller's messages: the
/// current members, or for a former member those at their `left_seq`.
pub(crate) async fn others_min_marks(
    conn: &mut SqliteConnection,
    conv: i64,
    me: UserId,
    left_seq: Option<i64>,
) -> StoreResult<(Option<i64>, Option<i64>)> {
    if let Some(left_seq) = left_seq {
        let members = view::members_at(load::stays(conn, conv).await?, left_seq);
        return Ok(view::others_lowest_marks(&members, me));
    }
    sqlx::query_as(
        "SELECT MIN(m.delivered_seq), MIN(m.read_seq) FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = ? AND m.left_seq IS NULL AND u.uuid != ?",
    )
    .bind(conv)
    .bind(me.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)
}
