//! Server administration over HTTP: the audit log, for server administrators (granted
//! with `hubbub admin grant USERNAME`).

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Auth};
use axum::Json;
use axum::extract::State;
use hubbub_app::usecases::admin::audit;
use hubbub_domain::{AuditEntry, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only what this user did.
    #[param(value_type = Option<String>, format = Uuid)]
    pub actor: Option<UserId>,
    /// Only this action (`login`, `login.failed`, `logout`, `password.changed`,
    /// `member.role_changed`, `member.removed`, `message.deleted_by_other`,
    /// `conversation.deleted`, `admin.granted`, `admin.revoked`).
    pub action: Option<String>,
    /// An entry's id: only older entries (the next page).
    #[param(value_type = Option<String>, format = Uuid)]
    pub before: Option<uuid::Uuid>,
    /// 1–200 (larger is clamped to 200), default 50.
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
}

/// The audit log of security-relevant actions, newest first.
#[utoipa::path(get, path = "/api/admin/audit", operation_id = "audit_log", tag = "admin", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditPage),
        (status = 403, description = "The caller is not a server administrator", body = ErrorBody),
        (status = 422, description = "An unknown action, or `limit` 0", body = ErrorBody)))]
pub async fn audit_log(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let query =
        audit::AuditQuery { actor: query.actor, action: query.action, before: query.before, limit: query.limit };
    Ok(Json(AuditPage { entries: audit::list(&state.app, actor, query).await? }))
}
