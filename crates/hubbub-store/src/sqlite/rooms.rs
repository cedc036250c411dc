//! Channels and rooms: creating them, what anyone may know of them, the directory, topic,
//! password, roles and deleting them for everyone. Who may do which is decided in the use
//! cases (`hubbub_domain::policy`); what a role change changes, by
//! `hubbub_app::rules::membership::role_changes`.

use super::conversations::{conversation_updated, created_event, insert_member};
use super::events::{next_seq, record_event};
use super::load::{self, ConvRef, conv_ref};
use super::{SqliteStore, db};
use crate::common::unknown;
use hubbub_app::ports::*;
use hubbub_app::rules::membership::{self, Admission, Standing};
use hubbub_app::rules::view::current_snapshot;
use hubbub_domain::events::{ConversationDeletedData, MemberUpdatedData};
use hubbub_domain::policy::top_role;
use hubbub_domain::{ConversationId, ConversationKind, Event, EventData, Role, Timestamp, Topic, UserId, Visibility};
// Dynamic SQL here is only ever built from constant fragments, never from input.
use sqlx::AssertSqlSafe;
use uuid::Uuid;

pub(super) async fn create_channel(store: &SqliteStore, channel: NewChannel) -> StoreResult<Committed> {
    let tenant = store.tenant;
    store.writer.write(move |conn| Box::pin(async move { insert_channel(conn, tenant, &channel).await })).await
}

/// Inserts a channel (of a space, or a room) with its members, inside the caller's
/// transaction; returns its `conversation.created`.
pub(super) async fn insert_channel(
    conn: &mut sqlx::SqliteConnection,
    tenant: super::Tenant,
    channel: &NewChannel,
) -> StoreResult<Committed> {
    let creator = load::user_key(conn, tenant, channel.creator).await?.ok_or(StoreError::NotFound)?;
    let mut member_keys = Vec::with_capacity(channel.member_ids.len());
    for id in &channel.member_ids {
        member_keys.push(load::user_key(conn, tenant, *id).await?.ok_or(StoreError::UnknownReference("member_ids"))?);
    }
    let space_key: Option<i64> = match channel.space {
        None => None,
        Some(space) => Some(
            sqlx::query_scalar("SELECT id FROM spaces WHERE uuid = ? AND tenant_id = ? AND deleted_at IS NULL")
                .bind(space.0)
                .bind(tenant.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?
                .ok_or(StoreError::NotFound)?,
        ),
    };
    let now = channel.now.millis();
    let kind = ConversationKind::Channel;
    let key: i64 = sqlx::query_scalar(
        "INSERT INTO conversations (tenant_id, uuid, kind, name, visibility, topic, password_hash, last_seq,
                                last_activity_at, created_at, updated_at, space_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) RETURNING id",
    )
    .bind(tenant.0)
    .bind(channel.id.0)
    .bind(kind.as_str())
    .bind(channel.name.as_str())
    .bind(channel.visibility.as_str())
    .bind(channel.topic.as_str())
    .bind(&channel.password_hash)
    .bind(now)
    .bind(now)
    .bind(now)
    .bind(space_key)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    insert_member(conn, tenant, key, creator, Admission::founding(top_role(kind)), channel.now).await?;
    for member in member_keys {
        insert_member(conn, tenant, key, member, Admission::founding(Role::Member), channel.now).await?;
    }
    created_event(conn, tenant, ConvRef { key, id: channel.id, kind }, channel.now).await
}

/// kind, visibility, password hash, member count, space.
type AccessRow = (String, String, Option<String>, i64, Option<Uuid>);

pub(super) async fn conversation_access(store: &SqliteStore, id: ConversationId) -> StoreResult<Option<Access>> {
    let mut conn = store.read().await?;
    let row: Option<AccessRow> = sqlx::query_as(
        "SELECT c.kind, c.visibility, c.password_hash,
                (SELECT COUNT(*) FROM members o WHERE o.conversation_id = c.id AND o.left_seq IS NULL),
                (SELECT s.uuid FROM spaces s WHERE s.id = c.space_id)
         FROM conversations c WHERE c.uuid = ? AND c.tenant_id = ? AND c.deleted_at IS NULL",
    )
    .bind(id.0)
    .bind(store.tenant.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    row.map(|(kind, visibility, password_hash, member_count, space_id)| {
        Ok(Access {
            kind: ConversationKind::from_db(&kind).map_err(unknown)?,
            visibility: Visibility::from_db(&visibility).map_err(unknown)?,
            space_id,
            password_hash,
            member_count,
        })
    })
    .transpose()
}

/// One room of the directory.
#[derive(sqlx::FromRow)]
struct RoomRow {
    key: i64,
    id: Uuid,
    kind: String,
    #[sqlx(flatten)]
    conversation: load::ConversationRow,
    member_count: i64,
    my_role: Option<String>,
}

pub(super) async fn public_rooms(store: &SqliteStore, me: UserId, query: RoomQuery) -> StoreResult<Vec<RoomEntry>> {
    let mut conn = store.read().await?;
    // `LIKE` with `\` as the escape, so the text's own `%` and `_` match themselves.
    let pattern = format!("%{}%", query.text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    // The open ones are what `policy::is_open` says: public channels, here with no space
    // (a space's channels are listed by `space_channels`, to its members only).
    let sql = format!(
        "SELECT c.id AS key, c.uuid AS id, c.kind, {columns},
                (SELECT COUNT(*) FROM members o WHERE o.conversation_id = c.id AND o.left_seq IS NULL) AS member_count,
                (SELECT mm.role FROM members mm JOIN users u ON u.id = mm.user_id
                 WHERE mm.conversation_id = c.id AND u.uuid = ? AND mm.left_seq IS NULL) AS my_role
         FROM conversations c
         WHERE c.tenant_id = ? AND c.kind = ? AND c.visibility = ? AND c.deleted_at IS NULL
           AND c.space_id IS NULL AND c.name LIKE ? ESCAPE '\\' AND (? IS NULL OR c.uuid = ?)
         ORDER BY member_count DESC, c.id DESC LIMIT ?",
        columns = load::CONVERSATION_COLUMNS
    );
    let rows: Vec<RoomRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(me.0)
        .bind(store.tenant.0)
        .bind(ConversationKind::Channel.as_str())
        .bind(Visibility::Public.as_str())
        .bind(pattern)
        .bind(query.only.map(|c| c.0))
        .bind(query.only.map(|c| c.0))
        .bind(i64::from(query.limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    rows.into_iter()
        .map(|row| {
            let kind = ConversationKind::from_db(&row.kind).map_err(unknown)?;
            let conv = ConvRef { key: row.key, id: ConversationId(row.id), kind };
            let snapshot = current_snapshot(row.conversation.facts(conv)?, Vec::new(), row.member_count);
            let my_role = row.my_role.as_deref().map(Role::from_db).transpose().map_err(unknown)?;
            Ok(RoomEntry { snapshot, my_role })
        })
        .collect()
}

pub(super) async fn set_topic(
    store: &SqliteStore,
    id: ConversationId,
    topic: Topic,
    by: UserId,
    now: Timestamp,
) -> StoreResult<Committed> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = conv_ref(conn, tenant, id).await?;
                sqlx::query("UPDATE conversations SET topic = ? WHERE id = ?")
                    .bind(topic.as_str())
                    .bind(conv.key)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                conversation_updated(conn, tenant, conv, now, Some(by)).await
            })
        })
        .await
}

pub(super) async fn set_room_password(
    store: &SqliteStore,
    id: ConversationId,
    password_hash: Option<String>,
    now: Timestamp,
) -> StoreResult<Committed> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = conv_ref(conn, tenant, id).await?;
                sqlx::query("UPDATE conversations SET password_hash = ? WHERE id = ?")
                    .bind(&password_hash)
                    .bind(conv.key)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                conversation_updated(conn, tenant, conv, now, None).await
            })
        })
        .await
}

pub(super) async fn set_member_role(
    store: &SqliteStore,
    id: ConversationId,
    change: RoleChange,
    now: Timestamp,
) -> StoreResult<Vec<Committed>> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = conv_ref(conn, tenant, id).await?;
                // Storage order (`id`) as the succession rule expects, with each member's user.
                let rows: Vec<(i64, Uuid, String, i64, i64)> = sqlx::query_as(
                    "SELECT m.id, u.uuid, m.role, m.joined_seq, m.joined_at FROM members m JOIN users u ON u.id = m.user_id
                     WHERE m.conversation_id = ? AND m.left_seq IS NULL ORDER BY m.id",
                )
                .bind(conv.key)
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?;
                let current = standings(rows)?;
                if !current.iter().any(|m| m.key == change.user) {
                    return Err(StoreError::NotFound);
                }
                let changes = membership::role_changes(conv.kind, &current, change.by, change.user, change.role)
                    .map_err(StoreError::InvalidState)?;
                let mut commits = Vec::with_capacity(changes.len());
                for (user, role) in changes {
                    sqlx::query(
                        "UPDATE members SET role = ? WHERE conversation_id = ? AND left_seq IS NULL
                           AND user_id = (SELECT id FROM users WHERE uuid = ? AND tenant_id = ?)",
                    )
                    .bind(role.as_str())
                    .bind(conv.key)
                    .bind(user.0)
                    .bind(tenant.0)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                    let seq = next_seq(conn, conv.key, now).await?;
                    let event = Event::persisted(conv.id, seq, EventData::MemberUpdated(MemberUpdatedData { user_id: user, role })).by(change.by);
                    let recipients = load::member_uuids(conn, conv.key).await?;
                    commits.push(record_event(conn, tenant, conv, event, recipients, now).await?);
                }
                Ok(commits)
            })
        })
        .await
}

/// Members as the role rules see them, keyed by their public id.
pub(super) fn standings(rows: Vec<(i64, Uuid, String, i64, i64)>) -> StoreResult<Vec<Standing<UserId>>> {
    rows.into_iter()
        .map(|(_, user, role, joined_seq, joined_at)| {
            Ok(Standing {
                key: UserId(user),
                role: Role::from_db(&role).map_err(unknown)?,
                joined_seq,
                joined_at: Timestamp::from_millis(joined_at),
            })
        })
        .collect()
}

pub(super) async fn delete_conversation(
    store: &SqliteStore,
    id: ConversationId,
    by: UserId,
    now: Timestamp,
) -> StoreResult<Committed> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = conv_ref(conn, tenant, id).await?;
                let seq = next_seq(conn, conv.key, now).await?;
                let recipients = load::member_uuids(conn, conv.key).await?;
                let event = Event::persisted(
                    conv.id,
                    seq,
                    EventData::ConversationDeleted(ConversationDeletedData { deleted_by: by }),
                )
                // `deleted_by` is the contract's; `actor_id` says the same, as on every change.
                .by(by);
                let committed = record_event(conn, tenant, conv, event, recipients, now).await?;
                sqlx::query("UPDATE conversations SET deleted_at = ? WHERE id = ?")
                    .bind(now.millis())
                    .bind(conv.key)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                Ok(committed)
            })
        })
        .await
}
