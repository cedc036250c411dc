//! Assembling a viewer's conversation views from the rows both adapters read (`ViewRow`):
//! the same on SQLite and PostgreSQL, which differ only in the query that reads the rows and
//! in how a connection loads a message, a snapshot or the stays (`ViewParts`).

use crate::common::{stored_settings, unknown};
use crate::rows::ConvRef;
use hubbub_app::ports::{ConversationView, StoreError, StoreResult};
use hubbub_app::rules::settings as rules_settings;
use hubbub_app::rules::view::{self, LeftView, Stay};
use hubbub_domain::media_path;
use hubbub_domain::{
    ConversationId, ConversationKind, ConversationSnapshot, Message, Role, Timestamp, UserId, Visibility,
};
use std::collections::HashMap;
use uuid::Uuid;

/// What assembling a view loads, per conversation, from the adapter's connection.
pub(crate) trait ViewParts: Send {
    fn message_by_key(&mut self, key: i64) -> impl Future<Output = StoreResult<Message>> + Send;
    fn snapshot(&mut self, conv: ConvRef) -> impl Future<Output = StoreResult<ConversationSnapshot>> + Send;
    fn stays(&mut self, conv: i64) -> impl Future<Output = StoreResult<Vec<Stay>>> + Send;
}

/// The views of `rows` (one per conversation of the viewer `me`), with the viewer's aliases;
/// the whole list (`only` unset) arranged by `rules::settings::arrange`.
pub(crate) async fn assemble(
    parts: &mut impl ViewParts,
    me: UserId,
    only: Option<ConversationId>,
    rows: Vec<ViewRow>,
    aliases: HashMap<UserId, String>,
) -> StoreResult<Vec<ConversationView>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let kind = ConversationKind::from_db(&row.kind).map_err(unknown)?;
        let conv = ConvRef { key: row.key, id: ConversationId(row.id), kind };
        let last_message = match row.last_message_key {
            Some(key) => Some(parts.message_by_key(key).await?),
            None => None,
        };
        let mut others_min = (row.others_min_delivered, row.others_min_read);
        let snapshot = match row.left_seq {
            None => parts.snapshot(conv).await?,
            Some(left_seq) => {
                let left = LeftView {
                    left_seq,
                    // Set with `left_seq`, in the same statement.
                    left_at: Timestamp::from_millis(
                        row.left_at
                            .ok_or_else(|| StoreError::Other("a membership with left_seq but no left_at".into()))?,
                    ),
                    name: row.left_name,
                    photo_url: row.left_photo_name.as_deref().map(media_path),
                    topic: row.left_topic.unwrap_or_default(),
                    visibility: Visibility::from_db(&row.visibility).map_err(unknown)?,
                    has_password: row.has_password,
                };
                let created_at = Timestamp::from_millis(row.created_at);
                let stays = parts.stays(conv.key).await?;
                let snapshot = view::former_snapshot(conv.id, conv.kind, created_at, left, stays);
                others_min = view::others_lowest_marks(&snapshot.members, me);
                snapshot
            }
        };
        let alias = view::alias_for_viewer(&snapshot, me, &aliases);
        out.push(ConversationView {
            settings: stored_settings(row.archived, row.pin_order, row.muted_until, row.hidden, row.notify.as_deref())?
                .public(conv.kind),
            pin_order: row.pin_order,
            hidden: row.hidden,
            alias,
            snapshot,
            last_message,
            unread_count: view::unread_count(row.left_seq, row.unread_count),
            // Counted like the unread count (a former member has nothing unread).
            unread_mentions: view::unread_count(row.left_seq, row.unread_mentions),
            my_role: Role::from_db(&row.role).map_err(unknown)?,
            others_min_delivered: others_min.0,
            others_min_read: others_min.1,
        });
    }
    Ok(if only.is_none() { rules_settings::arrange(out) } else { out })
}

/// One of the viewer's conversations, with what their view of it needs.
#[derive(sqlx::FromRow)]
pub(crate) struct ViewRow {
    key: i64,
    id: Uuid,
    kind: String,
    role: String,
    unread_count: i64,
    unread_mentions: i64,
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
    notify: Option<String>,
}
