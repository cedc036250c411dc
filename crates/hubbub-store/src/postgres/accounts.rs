//! Accounts, sessions, WebSocket tickets and user profiles (PostgreSQL).

use super::load::{self, UserRow};
use super::media::{orphan, record_media};
use super::{PgStore, Tenant, db};
use hubbub_app::ports::*;
use hubbub_domain::{Timestamp, User, UserId, Username};
// Dynamic SQL here is only ever built from constant fragments, never from input.
use sqlx::{AssertSqlSafe, PgConnection};
use uuid::Uuid;

pub(super) async fn create_account(store: &PgStore, account: NewAccount, session: NewSession) -> StoreResult<User> {
    let tenant = store.tenant;
    store.writer
        .write(move |conn| {
            Box::pin(async move {
                let inserted: Result<i64, _> = sqlx::query_scalar(
                    "INSERT INTO users (tenant_id, uuid, username, display_name, display_name_lower, password_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(tenant.0)
                .bind(account.id.0)
                .bind(account.username.as_str())
                .bind(&account.display_name)
                .bind(account.display_name.to_lowercase())
                .bind(&account.password_hash)
                .bind(account.now.millis())
                .fetch_one(&mut *conn)
                .await;
                let key: i64 = match inserted {
                    Ok(key) => key,
                    Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("username")),
                    Err(e) => return Err(db(e)),
                };
                insert_session(conn, tenant, key, &session).await?;
                load::user_by_key(conn, key).await
            })
        })
        .await
}

pub(super) async fn credentials(store: &PgStore, username: &Username) -> StoreResult<Option<Credentials>> {
    let mut conn = store.read().await?;
    let row: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT uuid, password_hash FROM users WHERE tenant_id = $1 AND username = $2 AND deleted_at IS NULL",
    )
    .bind(store.tenant.0)
    .bind(username.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    Ok(row.map(|(user_id, password_hash)| Credentials { user_id: UserId(user_id), password_hash }))
}

pub(super) async fn create_session(store: &PgStore, user: UserId, session: NewSession) -> StoreResult<()> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let key = load::user_key(conn, tenant, user).await?.ok_or(StoreError::NotFound)?;
                insert_session(conn, tenant, key, &session).await
            })
        })
        .await
}

pub(super) async fn session_by_token(
    store: &PgStore,
    digest: &TokenDigest,
    _now: Timestamp,
) -> StoreResult<Option<Actor>> {
    let mut conn = store.read().await?;
    let row: Option<(Uuid, Uuid, Vec<u8>)> = sqlx::query_as(
        "SELECT s.uuid, u.uuid, s.token_hash FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.tenant_id = $2 AND u.deleted_at IS NULL",
    )
    .bind(&digest[..])
    .bind(store.tenant.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    let Some((session_id, user_id, stored)) = row else { return Ok(None) };
    let stored: TokenDigest = stored.try_into().map_err(|_| StoreError::NotFound)?;
    if !hubbub_app::security::digests_equal(&stored, digest) {
        return Ok(None);
    }
    Ok(Some(Actor { session_id: SessionId(session_id), user_id: UserId(user_id) }))
}

pub(super) async fn delete_session(store: &PgStore, session: SessionId) -> StoreResult<()> {
    let tenant = store.tenant;
    store.writer
        .write(move |conn| {
            Box::pin(async move {
                sqlx::query("DELETE FROM ws_tickets WHERE session_id = (SELECT id FROM sessions WHERE uuid = $1 AND tenant_id = $2)")
                    .bind(session.0)
                    .bind(tenant.0)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                sqlx::query("DELETE FROM sessions WHERE uuid = $1 AND tenant_id = $2")
                    .bind(session.0)
                    .bind(tenant.0)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                Ok(())
            })
        })
        .await
}

pub(super) async fn missing_sessions(store: &PgStore, sessions: &[SessionId]) -> StoreResult<Vec<SessionId>> {
    let ids: Vec<Uuid> = sessions.iter().map(|s| s.0).collect();
    let mut conn = store.read().await?;
    let existing: std::collections::HashSet<Uuid> =
        sqlx::query_scalar("SELECT uuid FROM sessions WHERE tenant_id = $1 AND uuid = ANY($2)")
            .bind(store.tenant.0)
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
            .into_iter()
            .collect();
    Ok(sessions.iter().filter(|s| !existing.contains(&s.0)).copied().collect())
}

pub(super) async fn password_hash(store: &PgStore, user: UserId) -> StoreResult<String> {
    let mut conn = store.read().await?;
    sqlx::query_scalar("SELECT password_hash FROM users WHERE uuid = $1 AND tenant_id = $2")
        .bind(user.0)
        .bind(store.tenant.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)
}

pub(super) async fn change_password(
    store: &PgStore,
    user: UserId,
    new_hash: String,
    keep: SessionId,
) -> StoreResult<Vec<SessionId>> {
    let tenant = store.tenant;
    store.writer
        .write(move |conn| {
            Box::pin(async move {
                let key = load::user_key(conn, tenant, user).await?.ok_or(StoreError::NotFound)?;
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(&new_hash)
                    .bind(key)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                let ended: Vec<Uuid> = sqlx::query_scalar("SELECT uuid FROM sessions WHERE user_id = $1 AND uuid != $2")
                    .bind(key)
                    .bind(keep.0)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(db)?;
                sqlx::query(
                    "DELETE FROM ws_tickets WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1 AND uuid != $2)",
                )
                .bind(key)
                .bind(keep.0)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND uuid != $2")
                    .bind(key)
                    .bind(keep.0)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                Ok(ended.into_iter().map(SessionId).collect())
            })
        })
        .await
}

pub(super) async fn create_ws_ticket(
    store: &PgStore,
    actor: Actor,
    digest: TokenDigest,
    expires_at: Timestamp,
) -> StoreResult<()> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                // Expired tickets are swept here, where tickets are made, so the table
                // stays as small as the number of tickets issued in the last minute.
                sqlx::query("DELETE FROM ws_tickets WHERE expires_at < $1")
                    .bind(Timestamp::now().millis())
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                let inserted = sqlx::query(
                    "INSERT INTO ws_tickets (tenant_id, session_id, token_hash, expires_at)
                     SELECT $1, id, $2, $3 FROM sessions WHERE uuid = $4 AND tenant_id = $5",
                )
                .bind(tenant.0)
                .bind(&digest[..])
                .bind(expires_at.millis())
                .bind(actor.session_id.0)
                .bind(tenant.0)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                if inserted.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            })
        })
        .await
}

pub(super) async fn redeem_ws_ticket(
    store: &PgStore,
    digest: &TokenDigest,
    now: Timestamp,
) -> StoreResult<Option<Actor>> {
    let tenant = store.tenant;
    let digest = *digest;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let row: Option<(i64, i64)> = sqlx::query_as(
                    "DELETE FROM ws_tickets WHERE token_hash = $1 AND tenant_id = $2 RETURNING session_id, expires_at",
                )
                .bind(&digest[..])
                .bind(tenant.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
                let Some((session, expires_at)) = row else { return Ok(None) };
                if expires_at < now.millis() {
                    return Ok(None);
                }
                let actor: Option<(Uuid, Uuid)> = sqlx::query_as(
                    "SELECT s.uuid, u.uuid FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
                )
                .bind(session)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
                Ok(actor
                    .map(|(session_id, user_id)| Actor { session_id: SessionId(session_id), user_id: UserId(user_id) }))
            })
        })
        .await
}

pub(super) async fn user(store: &PgStore, id: UserId) -> StoreResult<Option<User>> {
    let mut conn = store.read().await?;
    let sql = format!(
        "SELECT {} FROM users u WHERE u.uuid = $1 AND u.tenant_id = $2 AND u.deleted_at IS NULL",
        load::USER_COLUMNS
    );
    let row: Option<UserRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id.0)
        .bind(store.tenant.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    Ok(row.map(User::from))
}

pub(super) async fn search_users(store: &PgStore, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
    let escaped: String = prefix
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM users u WHERE u.tenant_id = $3 AND u.deleted_at IS NULL
         AND (u.username LIKE $1 ESCAPE '\\' OR u.display_name_lower LIKE $1 ESCAPE '\\' OR u.display_name_lower LIKE $2 ESCAPE '\\')
         ORDER BY u.username COLLATE \"C\" LIMIT $4",
        load::USER_COLUMNS
    );
    let mut conn = store.read().await?;
    let rows: Vec<UserRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(format!("{escaped}%"))
        .bind(format!("% {escaped}%"))
        .bind(store.tenant.0)
        .bind(limit as i64)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    Ok(rows.into_iter().map(User::from).collect())
}

pub(super) async fn update_profile(store: &PgStore, id: UserId, patch: ProfilePatch) -> StoreResult<User> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let key = load::user_key(conn, tenant, id).await?.ok_or(StoreError::NotFound)?;
                if let Some(username) = &patch.username {
                    let updated = sqlx::query("UPDATE users SET username = $1 WHERE id = $2")
                        .bind(username.as_str())
                        .bind(key)
                        .execute(&mut *conn)
                        .await;
                    match updated {
                        Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("username")),
                        other => other.map_err(db)?,
                    };
                }
                if let Some(name) = &patch.display_name {
                    sqlx::query("UPDATE users SET display_name = $1, display_name_lower = $2 WHERE id = $3")
                        .bind(name)
                        .bind(name.to_lowercase())
                        .bind(key)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                }
                if let Some(about) = &patch.about {
                    sqlx::query("UPDATE users SET about = $1 WHERE id = $2")
                        .bind(about)
                        .bind(key)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                }
                load::user_by_key(conn, key).await
            })
        })
        .await
}

pub(super) async fn set_user_photo(
    store: &PgStore,
    id: UserId,
    photo: Option<PhotoInput>,
) -> StoreResult<(User, Option<String>)> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let media_name = photo.as_ref().map(|p| p.media_name.clone());
                if let Some(photo) = &photo {
                    record_media(conn, tenant, photo, MediaPurpose::Avatar, Timestamp::now()).await?;
                }
                let key = load::user_key(conn, tenant, id).await?.ok_or(StoreError::NotFound)?;
                let old: Option<String> = sqlx::query_scalar("SELECT photo_name FROM users WHERE id = $1")
                    .bind(key)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
                sqlx::query("UPDATE users SET photo_name = $1 WHERE id = $2")
                    .bind(&media_name)
                    .bind(key)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                let replaced = orphan(conn, old.filter(|old| Some(old) != media_name.as_ref())).await?;
                Ok((load::user_by_key(conn, key).await?, replaced))
            })
        })
        .await
}

pub(super) async fn contacts(store: &PgStore, id: UserId, max_group: Option<u32>) -> StoreResult<Vec<UserId>> {
    let mut conn = store.read().await?;
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT u.uuid FROM users me
         JOIN members a ON a.user_id = me.id AND a.left_seq IS NULL
         JOIN conversations c ON c.id = a.conversation_id
         JOIN members b ON b.conversation_id = a.conversation_id AND b.left_seq IS NULL
         JOIN users u ON u.id = b.user_id
         WHERE me.uuid = $1 AND me.tenant_id = $2
           AND ($3 IS NULL OR c.kind = 'direct'
                OR (SELECT COUNT(*) FROM members x WHERE x.conversation_id = c.id AND x.left_seq IS NULL) <= $3)",
    )
    .bind(id.0)
    .bind(store.tenant.0)
    .bind(max_group.map(i64::from))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let mut contacts: Vec<UserId> = ids.into_iter().map(UserId).collect();
    if !contacts.contains(&id) {
        contacts.push(id);
    }
    Ok(contacts)
}

pub(super) async fn set_last_seen(store: &PgStore, id: UserId, at: Timestamp) -> StoreResult<()> {
    // One statement: no transaction, and no conversation to order.
    let mut conn = store.read().await?;
    sqlx::query("UPDATE users SET last_seen_at = $1 WHERE uuid = $2 AND tenant_id = $3")
        .bind(at.millis())
        .bind(id.0)
        .bind(store.tenant.0)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

pub(super) async fn insert_session(
    conn: &mut PgConnection,
    tenant: Tenant,
    user: i64,
    session: &NewSession,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO sessions (tenant_id, uuid, user_id, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(tenant.0)
        .bind(session.id.0)
        .bind(user)
        .bind(&session.token_digest[..])
        .bind(session.now.millis())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

pub(super) use crate::common::is_unique_violation;
