//! Conversation views: a viewer's conversations with the parts that depend on who looks.
//!
//! A former member sees a conversation as it was at their `left_seq` (the port's
//! `ConversationView` says exactly what that is); this file only loads what that view is
//! made of (the name and photo that `remove_member` kept on their row, every member's
//! stay), and `hubbub_app::rules::view` decides what of it they see.

use super::load::{self, ConvRef};
use super::{Tenant, db};
use hubbub_app::ports::{ConversationView, StoreResult};
use hubbub_app::rules::view::{self, LeftView};
use hubbub_domain::{ConversationId, ConversationKind, Role, Timestamp, UserId};
use sqlx::{Row, SqliteConnection};

/// The caller's conversations (or one of them), current and left, each with its members,
/// last message, unread count and the others' lowest marks. The unread count is one indexed
/// range count over (conversation_id, seq); members and the last message are loaded per
/// conversation.
pub(crate) async fn views(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    me: UserId,
    only: Option<ConversationId>,
) -> StoreResult<Vec<ConversationView>> {
    let rows = sqlx::query(
        "SELECT c.id, c.uuid, c.kind, mm.role,
                CASE WHEN mm.left_seq IS NULL THEN
                    (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.seq > mm.read_seq
                        AND m.sender_id != mm.user_id AND m.deleted_at IS NULL)
                ELSE 0 END,
                (SELECT MIN(o.delivered_seq) FROM members o WHERE o.conversation_id = c.id AND o.user_id != mm.user_id AND o.left_seq IS NULL),
                (SELECT MIN(o.read_seq) FROM members o WHERE o.conversation_id = c.id AND o.user_id != mm.user_id AND o.left_seq IS NULL),
                (SELECT MAX(m.id) FROM messages m WHERE m.conversation_id = c.id AND m.seq > mm.joined_seq
                    AND m.seq <= COALESCE(mm.left_seq, c.last_seq)),
                mm.left_seq, mm.left_at, mm.left_name, mm.left_photo_name, c.created_at
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
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let kind: String = row.try_get(2).map_err(db)?;
        let role: String = row.try_get(3).map_err(db)?;
        let conv = ConvRef {
            key: row.try_get(0).map_err(db)?,
            id: ConversationId(row.try_get(1).map_err(db)?),
            kind: ConversationKind::from_db(&kind),
        };
        let last_key: Option<i64> = row.try_get(7).map_err(db)?;
        let last_message = match last_key {
            Some(key) => Some(load::message_by_key(conn, key).await?),
            None => None,
        };
        let mut others_min = (row.try_get(5).map_err(db)?, row.try_get(6).map_err(db)?);
        let snapshot = match row.try_get::<Option<i64>, _>(8).map_err(db)? {
            None => load::snapshot(conn, conv).await?,
            Some(left_seq) => {
                let photo: Option<String> = row.try_get(11).map_err(db)?;
                let left = LeftView {
                    left_seq,
                    left_at: Timestamp::from_millis(row.try_get(9).map_err(db)?),
                    name: row.try_get(10).map_err(db)?,
                    photo_url: photo.as_deref().map(load::media_url),
                };
                let created_at = Timestamp::from_millis(row.try_get(12).map_err(db)?);
                let stays = load::stays(conn, conv.key).await?;
                let snapshot = view::former_snapshot(conv.id, conv.kind, created_at, left, stays);
                others_min = view::others_lowest_marks(&snapshot.members, me);
                snapshot
            }
        };
        out.push(ConversationView {
            snapshot,
            last_message,
            unread_count: row.try_get(4).map_err(db)?,
            my_role: Role::from_db(&role),
            others_min_delivered: others_min.0,
            others_min_read: others_min.1,
        });
    }
    Ok(out)
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
    let row = sqlx::query(
        "SELECT MIN(m.delivered_seq), MIN(m.read_seq) FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = ? AND m.left_seq IS NULL AND u.uuid != ?",
    )
    .bind(conv)
    .bind(me.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    Ok((row.try_get(0).map_err(db)?, row.try_get(1).map_err(db)?))
}
