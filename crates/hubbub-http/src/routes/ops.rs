//! Operations: health, the OpenAPI document, and the JSON 404 for unknown API paths.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::atomic::Ordering;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database does not accept writes.
    pub status: &'static str,
    pub database: &'static str,
    /// Live WebSocket connections on this node.
    pub connections: u64,
    pub version: &'static str,
}

/// Liveness and readiness: 200 when the database accepts a write, 503 otherwise.
#[utoipa::path(get, path = "/api/health", tag = "operations",
    responses((status = 200, body = Health), (status = 503, description = "The database does not accept writes", body = Health)))]
pub async fn health(State(state): State<AppState>) -> Response {
    let connections = state.app.hub.stats().connections.load(Ordering::Relaxed);
    let version = env!("CARGO_PKG_VERSION");
    match state.app.store.health().await {
        Ok(()) => Json(Health { status: "ok", database: "ok", connections, version }).into_response(),
        Err(error) => {
            tracing::error!(%error, "health check: database not writable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health { status: "unavailable", database: "unavailable", connections, version }),
            )
                .into_response()
        }
    }
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
