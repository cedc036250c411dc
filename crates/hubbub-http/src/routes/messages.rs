//! Messages: history, send, edit, delete, forward, reactions, receipts, and the event log.

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubbub_app::usecases::message::{self, send::SendInput};
use hubbub_domain::{ConversationId, Message, MessageId, Receipt, UserReaction};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages with a seq below this (older).
    pub before: Option<i64>,
    /// Messages with a seq above this (newer).
    pub after: Option<i64>,
    /// 1–200 (larger is clamped to 200); default 50.
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct MessagePage {
    /// Ascending by seq.
    pub messages: Vec<Message>,
    /// More exist beyond this page in the direction of the cursor.
    pub has_more: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// 1–4096 Unicode scalar values.
    pub text: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub reply_to: Option<MessageId>,
    /// Chosen by the client (1–64 bytes); the same value again returns the stored message.
    pub client_id: Option<String>,
}

/// Multipart form of a photo or file message: one `photo` (JPEG, PNG, WebP or GIF; stored
/// re-encoded) or one `file` (anything; stored as sent, served as a download under its
/// cleaned file name), not both (422); at most 20 MiB (413).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PhotoMessageForm {
    #[schema(value_type = Option<String>, format = Binary)]
    pub photo: Option<Vec<u8>>,
    /// Any file; its part's `filename` (path stripped, control characters dropped, at most
    /// 255 bytes) and `Content-Type` are kept as labels.
    #[schema(value_type = Option<String>, format = Binary)]
    pub file: Option<Vec<u8>>,
    pub text: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub reply_to: Option<String>,
    pub client_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    pub text: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardRequest {
    /// 1–20 conversations the caller is a member of.
    #[schema(value_type = Vec<String>)]
    pub conversation_ids: Vec<ConversationId>,
}

#[derive(Serialize, ToSchema)]
pub struct MessageList {
    pub messages: Vec<Message>,
}

#[derive(Serialize, ToSchema)]
pub struct ReceiptList {
    pub receipts: Vec<Receipt>,
}

#[derive(Serialize, ToSchema)]
pub struct ReactionList {
    pub reactions: Vec<UserReaction>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactRequest {
    /// A single emoji (one grapheme: pictographs with modifiers or ZWJ sequences, flags, keycaps).
    pub emoji: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Return every change with a seq above this.
    pub after: i64,
}

/// The event log page; `events` holds the same objects the WebSocket carries.
#[derive(Serialize, ToSchema)]
pub struct EventPage {
    #[schema(value_type = Vec<hubbub_domain::Event>)]
    pub events: Vec<serde_json::Value>,
    pub has_more: bool,
}

/// A page of history.
#[utoipa::path(get, path = "/api/conversations/{id}/messages", operation_id = "list_messages", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), HistoryQuery),
    responses((status = 200, body = MessagePage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<MessagePage>> {
    let page = message::list::list(&state.app, actor, id, query.before, query.after, query.limit).await?;
    Ok(Json(MessagePage { messages: page.messages, has_more: page.has_more }))
}

/// Send a message: JSON, or multipart with a `photo` or a `file`. 201 when stored now, 200
/// when the same `client_id` was sent before (the stored message is returned).
#[utoipa::path(post, path = "/api/conversations/{id}/messages", operation_id = "send_message", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    request_body(content(
        (SendRequest = "application/json"),
        (PhotoMessageForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, body = Message), (status = 200, description = "A retry of an earlier send", body = Message),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn send(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
    request: axum::extract::Request,
) -> ApiResult<Response> {
    // The JSON variant is held to the same Content-Type rule as every `ApiJson` route (a
    // `text/plain` body is what a cross-site form can send without a preflight).
    let media_type = crate::extract::media_type(request.headers());
    let input = if media_type.as_deref() == Some("multipart/form-data") {
        crate::media::photo_message_input(&state, actor, id, request).await?
    } else if !media_type.as_deref().is_some_and(crate::extract::is_json_media_type) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json or multipart/form-data",
        ));
    } else {
        // This route accepts uploads, so its body limit is the upload limit; the JSON
        // variant still gets the JSON limit.
        let bytes = axum::body::to_bytes(request.into_body(), crate::JSON_BODY_LIMIT)
            .await
            .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the body is too large"))?;
        let body: SendRequest = crate::extract::parse_json(&bytes)?;
        SendInput { text: body.text, reply_to: body.reply_to, client_id: body.client_id, photo: None, file: None }
    };
    let sent = message::send::send(&state.app, actor, id, input).await?;
    let status = if sent.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(sent.message)).into_response())
}

/// Edit the text of one's own message.
#[utoipa::path(patch, path = "/api/conversations/{id}/messages/{msgId}", operation_id = "edit_message", tag = "messages", request_body = EditRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("msgId" = String, Path, format = Uuid)),
    responses((status = 200, body = Message), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "Deleted", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, msg)): ApiPath<(ConversationId, MessageId)>,
    ApiJson(body): ApiJson<EditRequest>,
) -> ApiResult<Json<Message>> {
    Ok(Json(message::edit::edit(&state.app, actor, id, msg, &body.text).await?))
}

/// Delete a message for everyone (its sender, or a group admin).
#[utoipa::path(delete, path = "/api/conversations/{id}/messages/{msgId}", operation_id = "delete_message", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("msgId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Deleted (or already was)"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, msg)): ApiPath<(ConversationId, MessageId)>,
) -> ApiResult<StatusCode> {
    message::delete::delete(&state.app, actor, id, msg).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forward a message into other conversations.
#[utoipa::path(post, path = "/api/conversations/{id}/messages/{msgId}/forward", tag = "messages", request_body = ForwardRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("msgId" = String, Path, format = Uuid)),
    responses((status = 201, body = MessageList), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn forward(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, msg)): ApiPath<(ConversationId, MessageId)>,
    ApiJson(body): ApiJson<ForwardRequest>,
) -> ApiResult<(StatusCode, Json<MessageList>)> {
    let messages = message::forward::forward(&state.app, actor, id, msg, body.conversation_ids).await?;
    Ok((StatusCode::CREATED, Json(MessageList { messages })))
}

/// When each member received and read one of the caller's messages (sender only).
#[utoipa::path(get, path = "/api/conversations/{id}/messages/{msgId}/receipts", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("msgId" = String, Path, format = Uuid)),
    responses((status = 200, body = ReceiptList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn receipts(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, msg)): ApiPath<(ConversationId, MessageId)>,
) -> ApiResult<Json<ReceiptList>> {
    Ok(Json(ReceiptList { receipts: message::receipts::receipts(&state.app, actor, id, msg).await? }))
}

/// Who reacted with what.
#[utoipa::path(get, path = "/api/conversations/{id}/messages/{msgId}/reactions", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("msgId" = String, Path, format = Uuid)),
    responses((status = 200, body = ReactionList), (status = 404, body = ErrorBody)))]
pub async fn reactions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, msg)): ApiPath<(ConversationId, MessageId)>,
) -> ApiResult<Json<ReactionList>> {
    Ok(Json(ReactionList { reactions: message::reactions::reactions(&state.app, actor, id, msg).await? }))
}

/// Set the caller's reaction (one per user; replaces an earlier one).
#[utoipa::path(put, path = "/api/conversations/{id}/messages/{msgId}/reactions", tag = "messages", request_body = ReactRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("msgId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Set"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn react(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, msg)): ApiPath<(ConversationId, MessageId)>,
    ApiJson(body): ApiJson<ReactRequest>,
) -> ApiResult<StatusCode> {
    message::react::react(&state.app, actor, id, msg, Some(&body.emoji)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove the caller's reaction.
#[utoipa::path(delete, path = "/api/conversations/{id}/messages/{msgId}/reactions", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("msgId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Removed (or there was none)"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn unreact(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, msg)): ApiPath<(ConversationId, MessageId)>,
) -> ApiResult<StatusCode> {
    message::react::react(&state.app, actor, id, msg, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every change after `after`, in order, in the WebSocket's event shape (500 per page).
#[utoipa::path(get, path = "/api/conversations/{id}/events", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), EventsQuery),
    responses((status = 200, body = EventPage), (status = 404, body = ErrorBody), (status = 410, description = "No longer kept; reload the conversation", body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> ApiResult<Response> {
    let page = message::events::events_after(&state.app, actor, id, query.after).await?;
    // The stored events are already JSON: splice them in rather than parse and re-serialise.
    let mut body = Vec::with_capacity(page.events.iter().map(|e| e.len() + 1).sum::<usize>() + 32);
    body.extend_from_slice(b"{\"events\":[");
    for (i, event) in page.events.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(event);
    }
    body.extend_from_slice(if page.has_more { b"],\"has_more\":true}" } else { b"],\"has_more\":false}" });
    Ok(([(header::CONTENT_TYPE, "application/json")], Body::from(body)).into_response())
}
