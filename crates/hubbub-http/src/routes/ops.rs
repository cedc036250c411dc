//! Operations: health, the OpenAPI document, and the JSON 404 for unknown API paths.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`; `degraded` when this node serves but other nodes do not hear it (the cluster bus
    /// is down); `unavailable` when the database does not accept writes.
    pub status: &'static str,
    /// `ok` or `unavailable`.
    pub database: &'static str,
    /// `ok` (in-process, or connected to NATS) or `disconnected`.
    pub bus: &'static str,
    /// Why the status is not `ok`, one line each.
    pub reasons: Vec<String>,
    /// Live WebSocket connections on this node.
    pub connections: u64,
    pub version: &'static str,
}

/// Liveness and readiness: 200 when the database accepts a write (`degraded` if the cluster
/// bus is down, since the node still serves), 503 otherwise.
#[utoipa::path(get, path = "/api/health", tag = "operations",
    responses(
        (status = 200, description = "Serving: `ok`, or `degraded` with its reasons", body = Health),
        (status = 503, description = "The database does not accept writes", body = Health),
    ))]
pub async fn health(State(state): State<AppState>) -> Response {
    use hubbub_app::usecases::ops::health::{self, Status};
    let report = health::health(&state.app).await;
    let (code, status) = match report.status {
        Status::Ok => (StatusCode::OK, "ok"),
        Status::Degraded => (StatusCode::OK, "degraded"),
        Status::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    let body = Health {
        status,
        database: if report.database_ok { "ok" } else { "unavailable" },
        bus: match report.bus {
            hubbub_app::ports::BusHealth::Connected => "ok",
            hubbub_app::ports::BusHealth::Disconnected(_) => "disconnected",
        },
        reasons: report.reasons,
        connections: report.connections,
        version: env!("CARGO_PKG_VERSION"),
    };
    (code, Json(body)).into_response()
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json")))]
pub async fn openapi_json(State(state): State<AppState>) -> Response {
    let (_, doc) = crate::api(&state);
    Json(doc).into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}
