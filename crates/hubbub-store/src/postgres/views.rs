//! Conversation views: a viewer's conversations with the parts that depend on who looks.
//!
//! A former member sees a conversation as it was at their `left_seq` (the port's
//! `ConversationView` says exactly what that is); this file only loads what that view is
//! made of (the name and photo that `remove_member` kept on their row, every member's
//! stay), and `hubbub_app::rules::view` decides what of it they see.

use super::load::{self, ConvRef};
use super::{Tenant, db};
use crate::common::unknown;
use hubbub_app::ports::{ConversationView, StoreError, StoreResult};
use hubbub_app::rules::settings as rules_settings;
use hubbub_app::rules::view::{self, LeftView};
use hubbub_domain::{ConversationId, ConversationKind, Role, Timestamp, UserId, Visibility};
use sqlx::PgConnection;
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
    conn: &mut PgConnection,
    tenant: Tenant,
    me: UserId,
    only: Option<ConversationId>,
) -> StoreResult<Vec<ConversationView>> {
    let rows: Vec<ViewRow> = sqlx::query_as(
        "SELECT c.id AS key, c.uuid AS id, c.kind, mm.role,
                (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.seq > GREATEST(mm.read_seq, mm.cleared_seq)
                    AND m.sender_id != mm.user_id AND m.deleted_at IS NULL) AS unread_count,
                (SELECT MIN(o.delivered_seq) FROM members o WHERE o.conversation_id = c.id AND o.user_id != mm.user_id AND o.left_seq IS NULL)
                    AS others_min_delivered,
                (SELECT MIN(o.read_seq) FROM members o WHERE o.conversation_id = c.id AND o.user_id != mm.user_id AND o.left_seq IS NULL)
                    AS others_min_read,
                (SELECT MAX(m.id) FROM messages m WHERE m.conversation_id = c.id AND m.seq > GREATEST(mm.joined_seq, mm.cleared_seq)
                    AND m.seq <= COALESCE(mm.left_seq, c.last_seq)) AS last_message_key,
                mm.left_seq, mm.left_at, mm.left_name, mm.left_photo_name, mm.left_topic, c.created_at,
                c.visibility, c.password_hash IS NOT NULL AS has_password,
                mm.archived, mm.pin_order, mm.muted_until, mm.hidden
         FROM users me
         JOIN members mm ON mm.user_id = me.id
         JOIN conversations c ON c.id = mm.conversation_id AND c.deleted_at IS NULL
         WHERE me.uuid = $1 AND me.tenant_id = $2 AND ($3 IS NULL OR c.uuid = $4)
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
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let kind = ConversationKind::from_db(&row.kind).map_err(unknown)?;
        let conv = ConvRef { key: row.key, id: ConversationId(row.id), kind };
        let last_message = match row.last_message_key {
            Some(key) => Some(load::message_by_key(conn, key).await?),
            None => None,
        };
        let mut others_min = (row.others_min_delivered, row.others_min_read);
        let snapshot = match row.left_seq {
            None => load::snapshot(conn, conv).await?,
            Some(left_seq) => {
                let left = LeftView {
                    left_seq,
                    // Set with `left_seq`, in the same statement.
                    left_at: Timestamp::from_millis(
                        row.left_at
                            .ok_or_else(|| StoreError::Other("a membership with left_seq but no left_at".into()))?,
                    ),
                    name: row.left_name,
                    photo_url: row.left_photo_name.as_deref().map(load::media_url),
                    topic: row.left_topic.unwrap_or_default(),
                    visibility: Visibility::from_db(&row.visibility).map_err(unknown)?,
                    has_password: row.has_password,
                };
                let created_at = Timestamp::from_millis(row.created_at);
                let stays = load::stays(conn, conv.key).await?;
                let snapshot = view::former_snapshot(conv.id, conv.kind, created_at, left, stays);
                others_min = view::others_lowest_marks(&snapshot.members, me);
                snapshot
            }
        };
        let alias = view::alias_for_viewer(&snapshot, me, &aliases);
        out.push(ConversationView {
            settings: crate::common::stored_settings(row.archived, row.pin_order, row.muted_until, row.hidden).public(),
            pin_order: row.pin_order,
            hidden: row.hidden,
            alias,
            snapshot,
            last_message,
            unread_count: view::unread_count(row.left_seq, row.unread_count),
            my_role: Role::from_db(&row.role).map_err(unknown)?,
            others_min_delivered: others_min.0,
            others_min_read: others_min.1,
        });
    }
    Ok(if only.is_none() { rules_settings::arrange(out) } else { out })
}

/// The viewer's aliases, by the user they name (for `rules::view::alias_for_viewer`).
async fn aliases(conn: &mut PgConnection, tenant: Tenant, me: UserId) -> StoreResult<HashMap<UserId, String>> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT u.uuid, ct.alias FROM contacts ct JOIN users owner ON owner.id = ct.owner_id JOIN users u ON u.id = ct.user_id
         WHERE owner.uuid = $1 AND owner.tenant_id = $2 AND ct.alias IS NOT NULL",
    )
    .bind(me.0)
    .bind(tenant.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(rows.into_iter().map(|(user, alias)| (UserId(user), alias)).collect())
}

/// One of the viewer's conversations, with what their view of it needs.
#[derive(sqlx::FromRow)]
struct ViewRow {
    key: i64,
    id: Uuid,
    kind: String,
    role: String,
    unread_count: i64,
    others_min_delivered: Option<i64>,
    others_min_read: Option<i64>,
    last_message_key: Option<i64>,
    left_seq: Option<i64>,
    left_at: Option<i64>,
    left_name: Option<String>,
    left_photo_name: Option<String>,
    left_topic: Option<String>,
    created_at: i64,
    visibility: String,
    has_password: bool,
    archived: bool,
    pin_order: Option<i64>,
    muted_until: Option<i64>,
    hidden: bool,
}

/// The lowest marks among the other members, for the status of the caller's messages: the
/// current members, or for a former member those at their `left_seq`.
pub(crate) async fn others_min_marks(
    conn: &mut PgConnection,
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
         WHERE m.conversation_id = $1 AND m.left_seq IS NULL AND u.uuid != $2",
    )
    .bind(conv)
    .bind(me.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)
}
