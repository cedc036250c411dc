//! Photos: uploads through the media pipeline, and `GET /media/{name}` with access checks.

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hubbub_app::AppError;
use hubbub_app::ports::Actor;
use hubbub_app::usecases::{conversation, message::send::SendInput, user};
use hubbub_domain::{Conversation, ConversationId, User};

/// The contract's upload limit.
pub const UPLOAD_LIMIT_BYTES: usize = 20 * 1024 * 1024;

#[derive(Clone)]
pub struct MediaState {}

fn not_configured() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "photo storage is not configured",
    )
}

pub async fn photo_message_input(
    state: &AppState,
    _actor: Actor,
    _id: ConversationId,
    _request: axum::extract::Request,
) -> ApiResult<SendInput> {
    let _media = state.media.as_ref().ok_or_else(not_configured)?;
    Err(not_configured())
}

pub async fn discard_unsent_upload(_state: &AppState, _error: &AppError) {}

pub async fn remove_orphan(_state: &AppState, _name: Option<String>) {}

/// Set the caller's profile photo (multipart field `photo`).
#[utoipa::path(put, path = "/api/users/me/photo", tag = "media", security(("bearer" = [])),
    request_body(content = crate::routes::messages::PhotoMessageForm, content_type = "multipart/form-data"),
    responses((status = 200, body = User), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_my_photo(
    State(state): State<AppState>,
    Auth(_actor): Auth,
) -> ApiResult<Json<User>> {
    let _media = state.media.as_ref().ok_or_else(not_configured)?;
    Err(not_configured())
}

/// Remove the caller's profile photo.
#[utoipa::path(delete, path = "/api/users/me/photo", tag = "media", security(("bearer" = [])),
    responses((status = 200, body = User)))]
pub async fn delete_my_photo(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<User>> {
    let (user, replaced) = user::set_photo::set_photo(&state.app, actor, None).await?;
    remove_orphan(&state, replaced).await;
    Ok(Json(user))
}

/// Set a group's photo (admins; multipart field `photo`).
#[utoipa::path(put, path = "/api/conversations/{id}/photo", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    request_body(content = crate::routes::messages::PhotoMessageForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Conversation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_group_photo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<Conversation>> {
    conversation::set_photo::authorize(&state.app, actor, id).await?;
    let _media = state.media.as_ref().ok_or_else(not_configured)?;
    Err(not_configured())
}

/// Remove a group's photo (admins).
#[utoipa::path(delete, path = "/api/conversations/{id}/photo", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Conversation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_group_photo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<Conversation>> {
    let (conversation, replaced) =
        conversation::set_photo::set_photo(&state.app, actor, id, None).await?;
    remove_orphan(&state, replaced).await;
    Ok(Json(conversation))
}

pub async fn serve(State(state): State<AppState>) -> ApiResult<Response> {
    let _media = state.media.as_ref().ok_or_else(not_configured)?;
    Err(not_configured())
}
