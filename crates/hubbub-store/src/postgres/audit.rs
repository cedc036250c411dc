//! Server administrators and the audit log (PostgreSQL).

use super::{PgStore, db};
use hubbub_app::ports::{AuditFilter, NewAuditEntry, StoreError, StoreResult};
use hubbub_domain::{AuditEntry, Timestamp, UserId, Username};
use uuid::Uuid;

pub(super) async fn set_server_admin(store: &PgStore, username: &Username, admin: bool) -> StoreResult<bool> {
    let (tenant, username) = (store.tenant, username.as_str().to_owned());
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                let updated = sqlx::query(
                    "UPDATE users SET is_admin = $1 WHERE tenant_id = $2 AND username = $3 AND deleted_at IS NULL",
                )
                .bind(admin)
                .bind(tenant.0)
                .bind(&username)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                Ok(updated.rows_affected() > 0)
            })
        })
        .await
}

pub(super) async fn is_server_admin(store: &PgStore, user: UserId) -> StoreResult<bool> {
    let mut conn = store.read().await?;
    let admin: Option<bool> =
        sqlx::query_scalar("SELECT is_admin FROM users WHERE uuid = $1 AND tenant_id = $2 AND deleted_at IS NULL")
            .bind(user.0)
            .bind(store.tenant.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
    Ok(admin.unwrap_or(false))
}

pub(super) async fn record_audit(store: &PgStore, entry: NewAuditEntry) -> StoreResult<()> {
    let tenant = store.tenant;
    store
        .writer
        .write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO audit_log (tenant_id, uuid, at, actor_id, action, target, ip, details)
                     VALUES ($1, $2, $3, (SELECT id FROM users WHERE uuid = $4 AND tenant_id = $1), $5, $6, $7, $8)",
                )
                .bind(tenant.0)
                .bind(entry.id)
                .bind(entry.at.millis())
                .bind(entry.actor.map(|a| a.0))
                .bind(entry.action.as_str())
                .bind(&entry.target)
                .bind(&entry.ip)
                .bind(&entry.details)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                Ok(())
            })
        })
        .await
}

pub(super) async fn audit_entries(store: &PgStore, filter: AuditFilter) -> StoreResult<Vec<AuditEntry>> {
    let mut conn = store.read().await?;
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT a.uuid AS id, a.at, u.uuid AS actor_id, a.action, a.target, a.ip, a.details
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
         WHERE a.tenant_id = $1
           AND ($2::UUID IS NULL OR u.uuid = $2)
           AND ($3::TEXT IS NULL OR a.action = $3)
           AND ($4::UUID IS NULL OR a.id < (SELECT b.id FROM audit_log b WHERE b.uuid = $4))
         ORDER BY a.id DESC LIMIT $5",
    )
    .bind(store.tenant.0)
    .bind(filter.actor.map(|a| a.0))
    .bind(filter.action.map(|a| a.as_str()))
    .bind(filter.before)
    .bind(i64::from(filter.limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    rows.into_iter().map(AuditEntry::try_from).collect()
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: Uuid,
    at: i64,
    actor_id: Option<Uuid>,
    action: String,
    target: Option<String>,
    ip: Option<String>,
    details: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> StoreResult<AuditEntry> {
        Ok(AuditEntry {
            id: row.id,
            at: Timestamp::from_millis(row.at),
            actor_id: row.actor_id.map(UserId),
            action: row.action,
            target: row.target,
            ip: row.ip,
            details: serde_json::from_str(&row.details).map_err(|e| StoreError::Other(Box::new(e)))?,
        })
    }
}
