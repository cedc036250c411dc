use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, AuditFilter, NewAuditEntry};
use hubbub_domain::{AuditAction, AuditEntry, Timestamp, UserId};
use std::net::IpAddr;

/// Entries per page when the caller names no limit, and at most.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// Appends an entry to the audit log. Called by the use cases of the audited actions after
/// they succeeded (or, for a failed login, failed). A failure to record is logged and does
/// not undo or refuse the action: the action already happened, and the log line carries
/// the same facts for the operator.
pub(crate) async fn record(
    app: &App,
    actor: Option<UserId>,
    action: AuditAction,
    target: Option<String>,
    ip: Option<IpAddr>,
    details: serde_json::Value,
) {
    let entry = NewAuditEntry {
        id: uuid::Uuid::now_v7(),
        at: Timestamp::now(),
        actor,
        action,
        target,
        ip: ip.map(|ip| ip.to_string()),
        details: details.to_string(),
    };
    if let Err(error) = app.store.record_audit(entry).await {
        tracing::warn!(%error, action = action.as_str(), "could not write an audit entry");
    }
}

/// What `GET /api/admin/audit` asks for, as sent.
#[derive(Debug, Default)]
pub struct AuditQuery {
    pub actor: Option<UserId>,
    pub action: Option<String>,
    /// An entry id: only older entries.
    pub before: Option<uuid::Uuid>,
    pub limit: Option<u32>,
}

/// The audit log, newest first, for server administrators only (403 for anyone else).
pub async fn list(app: &App, caller: Actor, query: AuditQuery) -> AppResult<Vec<AuditEntry>> {
    if !app.store.is_server_admin(caller.user_id).await? {
        return Err(AppError::Forbidden("only server administrators may read the audit log"));
    }
    let limit = match query.limit {
        None => DEFAULT_LIMIT,
        Some(0) => return Err(AppError::validation("limit", "must be at least 1")),
        Some(n) => n.min(MAX_LIMIT),
    };
    let action = match query.action.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(text) => {
            Some(AuditAction::parse(text).ok_or_else(|| AppError::validation("action", "is not an audited action"))?)
        }
    };
    Ok(app.store.audit_entries(AuditFilter { actor: query.actor, action, before: query.before, limit }).await?)
}
