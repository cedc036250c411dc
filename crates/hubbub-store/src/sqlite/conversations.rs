//! Conversations, their members and the members' marks.

use super::events::{next_seq, record_event};
use super::load::{self, ConvRef, conv_ref};
use super::media::{orphan, record_media};
use super::{SqliteStore, Tenant, db, direct, views};
use crate::common::unknown;
use hubbub_app::ports::*;
use hubbub_app::rules::audience;
use hubbub_app::rules::membership::{self, Admission, Standing};
use hubbub_domain::events::MemberRemovedData;
use hubbub_domain::{ConversationId, ConversationKind, Event, EventData, GroupName, Member, Role, Timestamp, UserId};
// Dynamic SQL here is only ever built from constant fragments, never from input.
use sqlx::{AssertSqlSafe, SqliteConnection};
use std::sync::Arc;
use uuid::Uuid;

pub(super) async fn list_conversations(store: &SqliteStore, me: UserId) -> StoreResult<Vec<ConversationView>> {
    let mut tx = store.read_snapshot().await?;
    views::views(&mut tx, store.tenant, me, None).await
}

pub(super) async fn conversation_seqs(store: &SqliteStore, me: UserId) -> StoreResult<Vec<ConversationSeq>> {
    let mut conn = store.read().await?;
    let rows: Vec<(Uuid, i64, bool)> = sqlx::query_as(
        "SELECT c.uuid, COALESCE(mm.left_seq, c.last_seq), mm.hidden
         FROM users me
         JOIN members mm ON mm.user_id = me.id
         JOIN conversations c ON c.id = mm.conversation_id AND c.deleted_at IS NULL
         WHERE me.uuid = ? AND me.tenant_id = ?",
    )
    .bind(me.0)
    .bind(store.tenant.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(id, last_seq, hidden)| ConversationSeq { id: ConversationId(id), last_seq, hidden })
        .collect())
}

pub(super) async fn conversation(
    store: &SqliteStore,
    me: UserId,
    id: ConversationId,
) -> StoreResult<Option<ConversationView>> {
    let mut tx = store.read_snapshot().await?;
    Ok(views::views(&mut tx, store.tenant, me, Some(id)).await?.pop())
}

pub(super) async fn membership(store: &SqliteStore, me: UserId, id: ConversationId) -> StoreResult<Option<Membership>> {
    let mut conn = store.read().await?;
    let row: Option<MembershipRow> = sqlx::query_as(
        "SELECT c.kind, m.role, m.joined_seq, m.left_seq, m.cleared_seq,
                (SELECT COUNT(*) FROM members o WHERE o.conversation_id = c.id AND o.left_seq IS NULL) AS member_count
         FROM conversations c
         JOIN members m ON m.conversation_id = c.id
         JOIN users u ON u.id = m.user_id
         WHERE c.uuid = ? AND c.tenant_id = ? AND u.uuid = ? AND c.deleted_at IS NULL",
    )
    .bind(id.0)
    .bind(store.tenant.0)
    .bind(me.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    row.map(|row| {
        Ok(Membership {
            kind: ConversationKind::from_db(&row.kind).map_err(unknown)?,
            role: Role::from_db(&row.role).map_err(unknown)?,
            visible_after: row.joined_seq,
            left_seq: row.left_seq,
            member_count: row.member_count,
            cleared_seq: row.cleared_seq,
        })
    })
    .transpose()
}

#[derive(sqlx::FromRow)]
struct MembershipRow {
    kind: String,
    role: String,
    joined_seq: i64,
    left_seq: Option<i64>,
    cleared_seq: i64,
    member_count: i64,
}

pub(super) async fn member_ids(store: &SqliteStore, id: ConversationId) -> StoreResult<Arc<[UserId]>> {
    let mut conn = store.read().await?;
    let conv = conv_ref(&mut conn, store.tenant, id).await?;
    Ok(load::member_uuids(&mut conn, conv.key).await?.into())
}

pub(super) async fn create_group(store: &SqliteStore, group: NewGroup) -> StoreResult<Committed> {
    let tenant = store.tenant;
    store.writer
        .write(move |conn| {
            Box::pin(async move {
                let creator = load::user_key(conn, tenant, group.creator).await?.ok_or(StoreError::NotFound)?;
                let mut member_keys = Vec::with_capacity(group.member_ids.len());
                for id in &group.member_ids {
                    member_keys.push(load::user_key(conn, tenant, *id).await?.ok_or(StoreError::UnknownReference("member_ids"))?);
                }
                let now = group.now.millis();
                let key: i64 = sqlx::query_scalar(
                    "INSERT INTO conversations (tenant_id, uuid, kind, name, last_seq, last_activity_at, created_at, updated_at)
                     VALUES (?, ?, 'group', ?, 0, ?, ?, ?) RETURNING id",
                )
                .bind(tenant.0)
                .bind(group.id.0)
                .bind(group.name.as_str())
                .bind(now)
                .bind(now)
                .bind(now)
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
                insert_member(conn, tenant, key, creator, Admission::founding(Role::Admin), group.now).await?;
                for member in member_keys {
                    insert_member(conn, tenant, key, member, Admission::founding(Role::Member), group.now).await?;
                }
                let conv = ConvRef { key, id: group.id, kind: ConversationKind::Group };
                created_event(conn, tenant, conv, group.now).await
            })
        })
        .await
}

pub(super) async fn open_direct(
    store: &SqliteStore,
    me: UserId,
    other: UserId,
    new_id: ConversationId,
    now: Timestamp,
) -> StoreResult<(ConversationId, Option<Committed>)> {
    let tenant = store.tenant;
    store.writer
        .write(move |conn| {
            Box::pin(async move {
                let (low, high) = if me < other { (me, other) } else { (other, me) };
                let direct_key = format!("{low}:{high}");
                let existing: Option<Uuid> =
                    sqlx::query_scalar("SELECT uuid FROM conversations WHERE tenant_id = ? AND direct_key = ?")
                        .bind(tenant.0)
                        .bind(&direct_key)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(db)?;
                if let Some(existing) = existing {
                    return Ok((ConversationId(existing), None));
                }
                let me_key = load::user_key(conn, tenant, me).await?.ok_or(StoreError::NotFound)?;
                let other_key = load::user_key(conn, tenant, other).await?.ok_or(StoreError::NotFound)?;
                let key: i64 = sqlx::query_scalar(
                    "INSERT INTO conversations (tenant_id, uuid, kind, direct_key, last_seq, last_activity_at, created_at, updated_at)
                     VALUES (?, ?, 'direct', ?, 0, ?, ?, ?) RETURNING id",
                )
                .bind(tenant.0)
                .bind(new_id.0)
                .bind(&direct_key)
                .bind(now.millis())
                .bind(now.millis())
                .bind(now.millis())
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
                insert_member(conn, tenant, key, me_key, Admission::founding(Role::Member), now).await?;
                insert_member(conn, tenant, key, other_key, Admission::founding(Role::Member), now).await?;
                let conv = ConvRef { key, id: new_id, kind: ConversationKind::Direct };
                Ok((new_id, Some(created_event(conn, tenant, conv, now).await?)))
            })
        })
        .await
}

pub(super) async fn rename_group(
    store: &SqliteStore,
    id: ConversationId,
    name: GroupName,
    by: UserId,
    now: Timestamp,
) -> StoreResult<Committed> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = conv_ref(conn, tenant, id).await?;
                sqlx::query("UPDATE conversations SET name = ? WHERE id = ?")
                    .bind(name.as_str())
                    .bind(conv.key)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                conversation_updated(conn, tenant, conv, now, Some(by)).await
            })
        })
        .await
}

pub(super) async fn set_group_photo(
    store: &SqliteStore,
    id: ConversationId,
    photo: Option<PhotoInput>,
    by: UserId,
    now: Timestamp,
) -> StoreResult<(Committed, Option<String>)> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let media_name = photo.as_ref().map(|p| p.media_name.clone());
                if let Some(photo) = &photo {
                    record_media(conn, tenant, photo, MediaPurpose::Avatar, now).await?;
                }
                let conv = conv_ref(conn, tenant, id).await?;
                let old: Option<String> = sqlx::query_scalar("SELECT photo_name FROM conversations WHERE id = ?")
                    .bind(conv.key)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
                sqlx::query("UPDATE conversations SET photo_name = ? WHERE id = ?")
                    .bind(&media_name)
                    .bind(conv.key)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                let committed = conversation_updated(conn, tenant, conv, now, Some(by)).await?;
                let replaced = orphan(conn, old.filter(|old| Some(old) != media_name.as_ref())).await?;
                Ok((committed, replaced))
            })
        })
        .await
}

pub(super) async fn add_members(
    store: &SqliteStore,
    id: ConversationId,
    users: Vec<UserId>,
    by: UserId,
    now: Timestamp,
) -> StoreResult<AddedMembers> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = conv_ref(conn, tenant, id).await?;
                let mut keys = Vec::with_capacity(users.len());
                for user in &users {
                    keys.push((
                        *user,
                        load::user_key(conn, tenant, *user).await?.ok_or(StoreError::UnknownReference("user_ids"))?,
                    ));
                }
                let mut commits = Vec::new();
                let mut left_photos = Vec::new();
                for (user, key) in keys {
                    let existing = member_row(conn, conv.key, key).await?;
                    if existing.as_ref().is_some_and(|m| m.left_seq.is_none()) {
                        continue;
                    }
                    let seq = next_seq(conn, conv.key, now).await?;
                    let admission = Admission::added_at(seq);
                    match existing {
                        Some(former) => {
                            readmit_member(conn, former.key, admission, now).await?;
                            left_photos.extend(former.left_photo);
                        }
                        None => insert_member(conn, tenant, conv.key, key, admission, now).await?,
                    }
                    let member = member_of(conn, conv.key, key).await?;
                    let current = load::member_uuids(conn, conv.key).await?;
                    let event = Event::persisted(conv.id, seq, EventData::MemberAdded(member)).by(by);
                    commits.push(record_event(conn, tenant, conv, event, current, now).await?);
                    let snapshot = load::snapshot(conn, conv).await?;
                    commits.push(audience::welcome(conv.id, seq, snapshot, user));
                }
                // Someone joining a room everyone had left finds nobody in its top role:
                // succession fills it, as when its last holder leaves.
                if !commits.is_empty()
                    && let Some(promoted) = promote_heir(conn, tenant, conv, now).await?
                {
                    commits.push(promoted);
                }
                let mut unreferenced = Vec::new();
                for name in left_photos {
                    unreferenced.extend(orphan(conn, Some(name)).await?);
                }
                Ok(AddedMembers { committed: commits, unreferenced })
            })
        })
        .await
}

pub(super) async fn remove_member(
    store: &SqliteStore,
    id: ConversationId,
    user: UserId,
    by: UserId,
    now: Timestamp,
) -> StoreResult<RemoveOutcome> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let conv = conv_ref(conn, tenant, id).await?;
                let Some(key) = load::user_key(conn, tenant, user).await? else {
                    return Ok(RemoveOutcome::NotAMember);
                };
                let Some(member) = member_row(conn, conv.key, key).await?.filter(|m| m.left_seq.is_none()) else {
                    return Ok(RemoveOutcome::NotAMember);
                };
                let seq = next_seq(conn, conv.key, now).await?;
                // What the leaver could see is kept with their membership: their view of
                // the conversation stays as it is now (see `ConversationView`).
                sqlx::query(
                    "UPDATE members SET left_seq = ?1, left_at = ?2,
                         (left_name, left_photo_name, left_topic) = (SELECT name, photo_name, topic FROM conversations WHERE id = ?3)
                     WHERE id = ?4",
                )
                .bind(seq)
                .bind(now.millis())
                .bind(conv.key)
                .bind(member.key)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                let current = load::member_uuids(conn, conv.key).await?;
                // `by == user`: they left; anyone else removed them.
                let removed = EventData::MemberRemoved(MemberRemovedData { user_id: user });
                let event = Event::persisted(conv.id, seq, removed).by(by);
                let committed = record_event(conn, tenant, conv, event, current, now).await?;
                let leaver = Role::from_db(&member.role).map_err(unknown)?;
                let promoted = if membership::succession_needed(conv.kind, leaver) {
                    promote_heir(conn, tenant, conv, now).await?
                } else {
                    None
                };
                Ok(RemoveOutcome::Removed { committed, promoted })
            })
        })
        .await
}

pub(super) async fn advance_marks(
    store: &SqliteStore,
    me: UserId,
    id: ConversationId,
    delivered: Option<i64>,
    read: Option<i64>,
    now: Timestamp,
) -> StoreResult<MarksChange> {
    let tenant = store.tenant;
    store.writer.write_direct(move |conn| direct::advance_marks(conn, tenant, me, id, delivered, read, now)).await
}

/// Records a change to a conversation's settings as `conversation.updated`, made by `actor`
/// (`None`: by no one, e.g. succession).
pub(super) async fn conversation_updated(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    conv: ConvRef,
    now: Timestamp,
    actor: Option<UserId>,
) -> StoreResult<Committed> {
    snapshot_event(conn, tenant, conv, now, EventData::ConversationUpdated, actor).await
}

/// The first event of every conversation: seq 1, to every initial member.
pub(super) async fn created_event(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    conv: ConvRef,
    now: Timestamp,
) -> StoreResult<Committed> {
    snapshot_event(conn, tenant, conv, now, EventData::ConversationCreated, None).await
}

/// Takes the next seq and records the conversation as it now is, to every current member.
pub(super) async fn snapshot_event(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    conv: ConvRef,
    now: Timestamp,
    kind: fn(hubbub_domain::ConversationSnapshot) -> EventData,
    actor: Option<UserId>,
) -> StoreResult<Committed> {
    let seq = next_seq(conn, conv.key, now).await?;
    let snapshot = load::snapshot(conn, conv).await?;
    let recipients = load::member_uuids(conn, conv.key).await?;
    record_event(conn, tenant, conv, Event::persisted(conv.id, seq, kind(snapshot)).by(actor), recipients, now).await
}

/// What a write needs of one membership row, current or ended.
#[derive(sqlx::FromRow)]
pub(super) struct MemberState {
    #[sqlx(rename = "id")]
    key: i64,
    role: String,
    left_seq: Option<i64>,
    /// The photo kept for a former member's view of the group.
    #[sqlx(rename = "left_photo_name")]
    left_photo: Option<String>,
}

pub(super) async fn member_row(conn: &mut SqliteConnection, conv: i64, user: i64) -> StoreResult<Option<MemberState>> {
    sqlx::query_as("SELECT id, role, left_seq, left_photo_name FROM members WHERE conversation_id = ? AND user_id = ?")
        .bind(conv)
        .bind(user)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)
}

pub(super) async fn member_of(conn: &mut SqliteConnection, conv: i64, user: i64) -> StoreResult<Member> {
    let sql = format!(
        "SELECT {}, {} FROM members m JOIN users u ON u.id = m.user_id WHERE m.conversation_id = ? AND m.user_id = ?",
        load::USER_COLUMNS,
        load::MEMBER_COLUMNS
    );
    let row: load::MemberRow =
        sqlx::query_as(AssertSqlSafe(sql)).bind(conv).bind(user).fetch_one(&mut *conn).await.map_err(db)?;
    row.try_into()
}

/// Stores a new member's row as the admission rule made it.
pub(super) async fn insert_member(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    conv: i64,
    user: i64,
    admission: Admission,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO members (tenant_id, conversation_id, user_id, role, joined_seq, joined_at, delivered_seq, read_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(tenant.0)
    .bind(conv)
    .bind(user)
    .bind(admission.role.as_str())
    .bind(admission.joined_seq)
    .bind(now.millis())
    .bind(admission.delivered_seq)
    .bind(admission.read_seq)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// Starts a former member's new stay on their row, as the admission rule made it; what
/// was kept for their view of the group goes with the old stay, and a chat they had hidden
/// is back in their list (they are told of it, `conversation.created`).
pub(super) async fn readmit_member(
    conn: &mut SqliteConnection,
    member: i64,
    admission: Admission,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE members SET role = ?, joined_seq = ?, joined_at = ?, delivered_seq = ?, read_seq = ?,
             left_seq = NULL, left_at = NULL, left_name = NULL, left_photo_name = NULL, left_topic = NULL, hidden = FALSE
         WHERE id = ?",
    )
    .bind(admission.role.as_str())
    .bind(admission.joined_seq)
    .bind(now.millis())
    .bind(admission.delivered_seq)
    .bind(admission.read_seq)
    .bind(member)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// Applies the succession rule: when it names an heir, they get the kind's top role (a
/// group's admin, a room's owner), announced as `conversation.updated` (whose snapshot
/// carries the roles).
pub(super) async fn promote_heir(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    conv: ConvRef,
    now: Timestamp,
) -> StoreResult<Option<Committed>> {
    // Storage order (`id`) is the rule's last tie-break.
    let rows: Vec<(i64, String, i64, i64)> = sqlx::query_as(
        "SELECT id, role, joined_seq, joined_at FROM members WHERE conversation_id = ? AND left_seq IS NULL ORDER BY id",
    )
    .bind(conv.key)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let current = rows
        .into_iter()
        .map(|(key, role, joined_seq, joined_at)| {
            Ok(Standing {
                key,
                role: Role::from_db(&role).map_err(unknown)?,
                joined_seq,
                joined_at: Timestamp::from_millis(joined_at),
            })
        })
        .collect::<StoreResult<Vec<Standing<i64>>>>()?;
    let Some(heir) = membership::heir(conv.kind, &current) else { return Ok(None) };
    sqlx::query("UPDATE members SET role = ? WHERE id = ?")
        .bind(hubbub_domain::policy::top_role(conv.kind).as_str())
        .bind(heir)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    // Nobody chose the heir: the event has no actor.
    Ok(Some(conversation_updated(conn, tenant, conv, now, None).await?))
}
