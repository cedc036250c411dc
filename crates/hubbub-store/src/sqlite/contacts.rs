//! Each user's address book (contacts with aliases) and the users they block. Only stored
//! and loaded here: what a block takes away is decided in `hubbub_app::rules::blocking`.

use super::load::{self, UserRow};
use super::{SqliteStore, db};
use hubbub_app::ports::{StoreError, StoreResult};
use hubbub_domain::{Contact, Timestamp, User, UserId};
// Dynamic SQL here is only ever built from constant fragments, never from input.
use sqlx::AssertSqlSafe;

#[derive(sqlx::FromRow)]
struct ContactRow {
    #[sqlx(flatten)]
    user: UserRow,
    alias: Option<String>,
}

pub(super) async fn contact_list(store: &SqliteStore, me: UserId) -> StoreResult<Vec<Contact>> {
    let mut conn = store.read().await?;
    let sql = format!(
        "SELECT {}, ct.alias FROM contacts ct JOIN users owner ON owner.id = ct.owner_id JOIN users u ON u.id = ct.user_id
         WHERE owner.uuid = ? AND owner.tenant_id = ? AND u.deleted_at IS NULL ORDER BY ct.id",
        load::USER_COLUMNS
    );
    let rows: Vec<ContactRow> =
        sqlx::query_as(AssertSqlSafe(sql)).bind(me.0).bind(store.tenant.0).fetch_all(&mut *conn).await.map_err(db)?;
    Ok(rows.into_iter().map(|row| Contact { user: row.user.into(), alias: row.alias }).collect())
}

pub(super) async fn set_contact(
    store: &SqliteStore,
    me: UserId,
    user: UserId,
    alias: Option<String>,
    now: Timestamp,
) -> StoreResult<Contact> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let owner = load::user_key(conn, tenant, me).await?.ok_or(StoreError::NotFound)?;
                let other = load::user_key(conn, tenant, user).await?.ok_or(StoreError::NotFound)?;
                sqlx::query(
                    "INSERT INTO contacts (tenant_id, owner_id, user_id, alias, created_at) VALUES (?, ?, ?, ?, ?)
                     ON CONFLICT (owner_id, user_id) DO UPDATE SET alias = excluded.alias",
                )
                .bind(tenant.0)
                .bind(owner)
                .bind(other)
                .bind(&alias)
                .bind(now.millis())
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                Ok(Contact { user: load::user_by_key(conn, other).await?, alias })
            })
        })
        .await
}

pub(super) async fn delete_contact(store: &SqliteStore, me: UserId, user: UserId) -> StoreResult<()> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "DELETE FROM contacts WHERE tenant_id = ?1
                         AND owner_id = (SELECT id FROM users WHERE uuid = ?2 AND tenant_id = ?1)
                         AND user_id = (SELECT id FROM users WHERE uuid = ?3 AND tenant_id = ?1)",
                )
                .bind(tenant.0)
                .bind(me.0)
                .bind(user.0)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                Ok(())
            })
        })
        .await
}

pub(super) async fn set_blocked(
    store: &SqliteStore,
    me: UserId,
    user: UserId,
    blocked: bool,
    now: Timestamp,
) -> StoreResult<()> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let blocker = load::user_key(conn, tenant, me).await?.ok_or(StoreError::NotFound)?;
                let other = load::user_key(conn, tenant, user).await?.ok_or(StoreError::NotFound)?;
                let query = if blocked {
                    sqlx::query(
                        "INSERT INTO blocks (tenant_id, blocker_id, blocked_id, created_at) VALUES (?, ?, ?, ?)
                         ON CONFLICT (blocker_id, blocked_id) DO NOTHING",
                    )
                    .bind(tenant.0)
                    .bind(blocker)
                    .bind(other)
                    .bind(now.millis())
                } else {
                    sqlx::query("DELETE FROM blocks WHERE tenant_id = ? AND blocker_id = ? AND blocked_id = ?")
                        .bind(tenant.0)
                        .bind(blocker)
                        .bind(other)
                };
                query.execute(&mut *conn).await.map_err(db)?;
                Ok(())
            })
        })
        .await
}

pub(super) async fn blocked_users(store: &SqliteStore, me: UserId) -> StoreResult<Vec<User>> {
    let mut conn = store.read().await?;
    let sql = format!(
        "SELECT {} FROM blocks b JOIN users blocker ON blocker.id = b.blocker_id JOIN users u ON u.id = b.blocked_id
         WHERE blocker.uuid = ? AND blocker.tenant_id = ? ORDER BY b.id",
        load::USER_COLUMNS
    );
    let rows: Vec<UserRow> =
        sqlx::query_as(AssertSqlSafe(sql)).bind(me.0).bind(store.tenant.0).fetch_all(&mut *conn).await.map_err(db)?;
    Ok(rows.into_iter().map(User::from).collect())
}

pub(super) async fn blockers_of(store: &SqliteStore, user: UserId) -> StoreResult<Vec<UserId>> {
    let mut conn = store.read().await?;
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT blocker.uuid FROM blocks b JOIN users blocked ON blocked.id = b.blocked_id
         JOIN users blocker ON blocker.id = b.blocker_id
         WHERE blocked.uuid = ? AND blocked.tenant_id = ? ORDER BY b.id",
    )
    .bind(user.0)
    .bind(store.tenant.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(ids.into_iter().map(UserId).collect())
}
