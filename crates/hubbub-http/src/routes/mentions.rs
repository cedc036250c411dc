//! Mentions, pins and edit history: the messages that mention the caller, a conversation's
//! pinned messages, and the earlier versions of an edited message.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hubbub_app::usecases::message;
use hubbub_domain::{ConversationId, Message, MessageId, MessageVersion};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MentionsQuery {
    /// 1–200 (larger is clamped to 200); default 50.
    pub limit: Option<u32>,
    /// A message id: only mentions older than that message (the last one of the previous
    /// page). An unknown id is 422.
    #[param(value_type = Option<String>, format = Uuid)]
    pub before: Option<MessageId>,
}

#[derive(Serialize, ToSchema)]
pub struct MentionPage {
    /// Newest first.
    pub messages: Vec<Message>,
    /// Older mentions exist beyond this page (ask again with `before` = the last id).
    pub has_more: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PinList {
    /// The latest pinned first.
    pub messages: Vec<Message>,
}

#[derive(Serialize, ToSchema)]
pub struct VersionList {
    /// The earlier versions, oldest first; the current text is the message's own.
    pub versions: Vec<MessageVersion>,
}

/// Recent messages of others that mention the caller (`@username`, or `@channel`/`@all` in
/// channels and groups), newest first: only those the caller may still see (their
/// membership window and cleared history; deleted messages left out).
#[utoipa::path(get, path = "/api/mentions", tag = "messages", security(("bearer" = [])),
    params(MentionsQuery),
    responses((status = 200, body = MentionPage), (status = 422, body = ErrorBody)))]
pub async fn mentions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(query): ApiQuery<MentionsQuery>,
) -> ApiResult<Json<MentionPage>> {
    let page = message::mentioned::mentions(&state.app, actor, query.before, query.limit).await?;
    Ok(Json(MentionPage { messages: page.messages, has_more: page.has_more }))
}

/// Pin a message to its conversation: either person of a direct chat; elsewhere the owner
/// and admins (and the admins of a channel's space). Members hear `message.updated` with
/// a seq of its own; pinning a pinned message changes nothing.
#[utoipa::path(put, path = "/api/conversations/{id}/messages/{msgId}/pin", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("msgId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Pinned"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "The message was deleted", body = ErrorBody)))]
pub async fn pin(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, msg)): ApiPath<(ConversationId, MessageId)>,
) -> ApiResult<StatusCode> {
    message::pin::set_pinned(&state.app, actor, id, msg, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unpin a message (by whom may pin it); unpinning what is not pinned changes nothing.
#[utoipa::path(delete, path = "/api/conversations/{id}/messages/{msgId}/pin", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("msgId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Unpinned"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "The message was deleted", body = ErrorBody)))]
pub async fn unpin(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, msg)): ApiPath<(ConversationId, MessageId)>,
) -> ApiResult<StatusCode> {
    message::pin::set_pinned(&state.app, actor, id, msg, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The pinned messages the caller may see, the latest pinned first.
#[utoipa::path(get, path = "/api/conversations/{id}/pins", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = PinList), (status = 404, body = ErrorBody)))]
pub async fn pins(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<PinList>> {
    Ok(Json(PinList { messages: message::pins::pins(&state.app, actor, id).await? }))
}

/// The earlier versions of a message's text (each edit keeps the text it replaced, with the
/// `edited_at` it had: null for the text as first sent), for whoever may see the message.
#[utoipa::path(get, path = "/api/conversations/{id}/messages/{msgId}/history", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("msgId" = String, Path, format = Uuid)),
    responses((status = 200, body = VersionList), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, msg)): ApiPath<(ConversationId, MessageId)>,
) -> ApiResult<Json<VersionList>> {
    Ok(Json(VersionList { versions: message::history::history(&state.app, actor, id, msg).await? }))
}
