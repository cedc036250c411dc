//! Spaces (the PostgreSQL side of `sqlite/spaces.rs`): creating one with its `general` channel, a member's spaces, the members, adding
//! people (to the space, then to `general` in a transaction of its own) and the channels a
//! member may see. Who may do which is decided in the use cases (`hubbub_domain::policy`).

use super::load::{self, UserRow};
use super::rooms::insert_channel;
use super::{PgStore, db};
use crate::common::unknown;
use hubbub_app::ports::*;
use hubbub_app::rules::view::current_snapshot;
use hubbub_domain::media_path;
use hubbub_domain::{
    ConversationId, ConversationKind, Role, Space, SpaceId, SpaceMember, Timestamp, Topic, UserId, Visibility,
};
// Dynamic SQL here is only ever built from constant fragments, never from input.
use sqlx::AssertSqlSafe;
use uuid::Uuid;

pub(super) async fn create_space(store: &PgStore, space: NewSpace) -> StoreResult<Committed> {
    let tenant = store.tenant;
    // The space's write is its new `general` channel's (a row nobody else can hold yet).
    store
        .writer
        .write_in(space.general, move |conn| {
            Box::pin(async move {
                let creator = load::user_key(conn, tenant, space.creator).await?.ok_or(StoreError::NotFound)?;
                let mut member_keys = Vec::with_capacity(space.member_ids.len());
                for id in &space.member_ids {
                    member_keys.push(
                        load::user_key(conn, tenant, *id).await?.ok_or(StoreError::UnknownReference("member_ids"))?,
                    );
                }
                let now = space.now.millis();
                let key: i64 = sqlx::query_scalar(
                    "INSERT INTO spaces (tenant_id, uuid, name, description, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(tenant.0)
                .bind(space.id.0)
                .bind(space.name.as_str())
                .bind(&space.description)
                .bind(now)
                .bind(now)
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
                let founders = std::iter::once((creator, Role::Owner)).chain(member_keys.iter().map(|k| (*k, Role::Member)));
                for (user, role) in founders {
                    sqlx::query(
                        "INSERT INTO space_members (tenant_id, space_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(tenant.0)
                    .bind(key)
                    .bind(user)
                    .bind(role.as_str())
                    .bind(now)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                }
                let general = general_channel(&space);
                insert_channel(conn, tenant, &general).await
            })
        })
        .await
}

/// The `general` channel every space starts with: public, owned by the space's creator,
/// with every initial member in it.
fn general_channel(space: &NewSpace) -> NewChannel {
    NewChannel {
        id: space.general,
        space: Some(space.id),
        creator: space.creator,
        name: hubbub_domain::GroupName::parse("general").expect("a valid name"),
        visibility: Visibility::Public,
        topic: Topic::empty(),
        password_hash: None,
        member_ids: space.member_ids.clone(),
        now: space.now,
    }
}

#[derive(sqlx::FromRow)]
struct SpaceRow {
    uuid: Uuid,
    name: String,
    description: String,
    photo_name: Option<String>,
    created_at: i64,
    member_count: i64,
    my_role: String,
}

pub(super) async fn spaces(store: &PgStore, me: UserId, only: Option<SpaceId>) -> StoreResult<Vec<Space>> {
    let mut conn = store.read().await?;
    let rows: Vec<SpaceRow> = sqlx::query_as(
        "SELECT s.uuid, s.name, s.description, s.photo_name, s.created_at,
                (SELECT COUNT(*) FROM space_members o WHERE o.space_id = s.id) AS member_count,
                sm.role AS my_role
         FROM space_members sm JOIN spaces s ON s.id = sm.space_id JOIN users u ON u.id = sm.user_id
         WHERE sm.tenant_id = $1 AND u.uuid = $2 AND s.deleted_at IS NULL AND ($3::uuid IS NULL OR s.uuid = $4)
         ORDER BY s.id",
    )
    .bind(store.tenant.0)
    .bind(me.0)
    .bind(only.map(|s| s.0))
    .bind(only.map(|s| s.0))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    rows.into_iter()
        .map(|row| {
            Ok(Space {
                id: SpaceId(row.uuid),
                name: row.name,
                description: row.description,
                photo_url: row.photo_name.as_deref().map(media_path),
                my_role: Role::from_db(&row.my_role).map_err(unknown)?,
                member_count: row.member_count,
                created_at: Timestamp::from_millis(row.created_at),
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct SpaceMemberRow {
    #[sqlx(flatten)]
    user: UserRow,
    role: String,
    joined_at: i64,
}

pub(super) async fn space_members(store: &PgStore, id: SpaceId) -> StoreResult<Vec<SpaceMember>> {
    let mut conn = store.read().await?;
    let sql = format!(
        "SELECT {columns}, sm.role, sm.joined_at
         FROM space_members sm JOIN spaces s ON s.id = sm.space_id JOIN users u ON u.id = sm.user_id
         WHERE s.uuid = $1 AND s.tenant_id = $2 AND s.deleted_at IS NULL ORDER BY sm.id",
        columns = load::USER_COLUMNS
    );
    let rows: Vec<SpaceMemberRow> =
        sqlx::query_as(AssertSqlSafe(sql)).bind(id.0).bind(store.tenant.0).fetch_all(&mut *conn).await.map_err(db)?;
    rows.into_iter()
        .map(|row| {
            Ok(SpaceMember {
                user: row.user.into(),
                role: Role::from_db(&row.role).map_err(unknown)?,
                joined_at: Timestamp::from_millis(row.joined_at),
            })
        })
        .collect()
}

pub(super) async fn add_space_members(
    store: &PgStore,
    id: SpaceId,
    users: Vec<UserId>,
    by: UserId,
    now: Timestamp,
) -> StoreResult<SpaceMembersAdded> {
    let tenant = store.tenant;
    let (added, general) = store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let space: i64 =
                    sqlx::query_scalar("SELECT id FROM spaces WHERE uuid = $1 AND tenant_id = $2 AND deleted_at IS NULL")
                        .bind(id.0)
                        .bind(tenant.0)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(db)?
                        .ok_or(StoreError::NotFound)?;
                let mut added = Vec::new();
                for user in users {
                    let key =
                        load::user_key(conn, tenant, user).await?.ok_or(StoreError::UnknownReference("user_ids"))?;
                    let inserted = sqlx::query(
                        "INSERT INTO space_members (tenant_id, space_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (space_id, user_id) DO NOTHING",
                    )
                    .bind(tenant.0)
                    .bind(space)
                    .bind(key)
                    .bind(Role::Member.as_str())
                    .bind(now.millis())
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?
                    .rows_affected();
                    if inserted == 1 && !added.contains(&user) {
                        added.push(user);
                    }
                }
                // `general` is the space's first channel, made with it.
                let general: Option<(Uuid, Option<i64>)> = sqlx::query_as(
                    "SELECT uuid, deleted_at FROM conversations WHERE space_id = $1 ORDER BY id LIMIT 1",
                )
                .bind(space)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
                let general = general.filter(|(_, deleted)| deleted.is_none()).map(|(uuid, _)| ConversationId(uuid));
                Ok(SpaceWrite { added, general })
            })
        })
        .await
        .map(|w| (w.added, w.general))?;
    // The channel's own write, one transaction of its own (as any addition to it), which
    // locks that one conversation: no transaction here holds two conversations' rows.
    let general = match general {
        Some(general) if !added.is_empty() => {
            Some(super::conversations::add_members(store, general, added.clone(), by, now).await?)
        }
        _ => None,
    };
    Ok(SpaceMembersAdded { added, general })
}

/// What a write to a space alone did: who it added, and its `general` channel.
pub(crate) struct SpaceWrite {
    pub added: Vec<UserId>,
    pub general: Option<ConversationId>,
}

impl crate::common::CommitsNothing for SpaceWrite {}

/// One channel of a space, as `space_channels` lists it.
#[derive(sqlx::FromRow)]
struct ChannelRow {
    key: i64,
    id: Uuid,
    #[sqlx(flatten)]
    conversation: load::ConversationRow,
    member_count: i64,
    my_role: Option<String>,
}

pub(super) async fn space_channels(store: &PgStore, me: UserId, id: SpaceId) -> StoreResult<Vec<RoomEntry>> {
    let mut conn = store.read().await?;
    let sql = format!(
        "SELECT c.id AS key, c.uuid AS id, {columns},
                (SELECT COUNT(*) FROM members o WHERE o.conversation_id = c.id AND o.left_seq IS NULL) AS member_count,
                (SELECT mm.role FROM members mm JOIN users u ON u.id = mm.user_id
                 WHERE mm.conversation_id = c.id AND u.uuid = $1 AND mm.left_seq IS NULL) AS my_role
         FROM conversations c JOIN spaces s ON s.id = c.space_id
         WHERE s.uuid = $2 AND s.tenant_id = $3 AND s.deleted_at IS NULL AND c.deleted_at IS NULL
         ORDER BY c.id",
        columns = load::CONVERSATION_COLUMNS
    );
    let rows: Vec<ChannelRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(me.0)
        .bind(id.0)
        .bind(store.tenant.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let conv = load::ConvRef { key: row.key, id: ConversationId(row.id), kind: ConversationKind::Channel };
        let snapshot = current_snapshot(row.conversation.facts(conv)?, Vec::new(), row.member_count);
        let my_role = row.my_role.as_deref().map(Role::from_db).transpose().map_err(unknown)?;
        entries.push(RoomEntry { snapshot, my_role });
    }
    Ok(entries)
}

/// The key of a live space, or `NotFound`.
async fn space_key(conn: &mut sqlx::PgConnection, tenant: super::Tenant, id: SpaceId) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT id FROM spaces WHERE uuid = $1 AND tenant_id = $2 AND deleted_at IS NULL")
        .bind(id.0)
        .bind(tenant.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)
}

pub(super) async fn set_space_roles(store: &PgStore, id: SpaceId, changes: Vec<(UserId, Role)>) -> StoreResult<()> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let space = space_key(conn, tenant, id).await?;
                for (user, role) in changes {
                    let updated = sqlx::query(
                        "UPDATE space_members SET role = $1
                         WHERE space_id = $2 AND user_id = (SELECT id FROM users WHERE uuid = $3 AND tenant_id = $4)",
                    )
                    .bind(role.as_str())
                    .bind(space)
                    .bind(user.0)
                    .bind(tenant.0)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?
                    .rows_affected();
                    if updated == 0 {
                        return Err(StoreError::NotFound);
                    }
                }
                Ok(())
            })
        })
        .await
}

pub(super) async fn remove_space_member(
    store: &PgStore,
    id: SpaceId,
    user: UserId,
) -> StoreResult<Vec<ConversationId>> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let space = space_key(conn, tenant, id).await?;
                let key = load::user_key(conn, tenant, user).await?.ok_or(StoreError::NotFound)?;
                let removed = sqlx::query("DELETE FROM space_members WHERE space_id = $1 AND user_id = $2")
                    .bind(space)
                    .bind(key)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?
                    .rows_affected();
                if removed == 0 {
                    return Err(StoreError::NotFound);
                }
                let channels: Vec<Uuid> = sqlx::query_scalar(
                    "SELECT c.uuid FROM conversations c JOIN members m ON m.conversation_id = c.id
                     WHERE c.space_id = $1 AND c.deleted_at IS NULL AND m.user_id = $2 AND m.left_seq IS NULL
                     ORDER BY c.id",
                )
                .bind(space)
                .bind(key)
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?;
                Ok(Channels(channels.into_iter().map(ConversationId).collect()))
            })
        })
        .await
        .map(|c| c.0)
}

pub(super) async fn update_space(
    store: &PgStore,
    id: SpaceId,
    name: Option<hubbub_domain::GroupName>,
    description: Option<String>,
    now: Timestamp,
) -> StoreResult<()> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let space = space_key(conn, tenant, id).await?;
                sqlx::query(
                    "UPDATE spaces SET name = COALESCE($1::text, name), description = COALESCE($2::text, description), updated_at = $3
                     WHERE id = $4",
                )
                .bind(name.as_ref().map(|n| n.as_str().to_owned()))
                .bind(description)
                .bind(now.millis())
                .bind(space)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                Ok(())
            })
        })
        .await
}

pub(super) async fn delete_space(store: &PgStore, id: SpaceId, now: Timestamp) -> StoreResult<Vec<ConversationId>> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let space = space_key(conn, tenant, id).await?;
                sqlx::query("UPDATE spaces SET deleted_at = $1 WHERE id = $2")
                    .bind(now.millis())
                    .bind(space)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                let channels: Vec<Uuid> = sqlx::query_scalar(
                    "SELECT uuid FROM conversations WHERE space_id = $1 AND deleted_at IS NULL ORDER BY id",
                )
                .bind(space)
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?;
                Ok(Channels(channels.into_iter().map(ConversationId).collect()))
            })
        })
        .await
        .map(|c| c.0)
}

/// Channels of a space a write found (to be changed next, each in a transaction of its own).
pub(crate) struct Channels(pub Vec<ConversationId>);

impl crate::common::CommitsNothing for Channels {}
