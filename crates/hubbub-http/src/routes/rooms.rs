//! Rooms and what channels add to conversations: the directory, joining (with a password),
//! topics, passwords, roles, and deleting a conversation for everyone. Who may do what is
//! `hubbub_domain::policy`'s decision, applied by the use cases.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hubbub_app::usecases::conversation;
use hubbub_domain::{Conversation, ConversationId, Role, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoomsQuery {
    /// Part of a room's name, case-insensitive (at least for ASCII letters); none lists
    /// every public room. At most 100 characters.
    pub q: Option<String>,
    /// 1–100 (larger is clamped to 100), default 20.
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct RoomList {
    /// Public rooms, most members first. Directory entries carry no member list
    /// (`members` empty, `member_count` counts them), no last message and nothing unread;
    /// `my_role` is the caller's role in the rooms they are in, null in the others.
    pub rooms: Vec<Conversation>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// The room's password, if it has one (`has_password`).
    pub password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicRequest {
    /// At most 250 characters; empty removes the topic.
    pub topic: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    /// The new password (8–256 characters), or null to remove it.
    #[schema(required = true)]
    pub password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// `owner` (rooms only: hands ownership over, the caller becomes an admin), `admin`
    /// or `member`.
    pub role: Role,
}

/// The room directory: public rooms, searchable by name.
#[utoipa::path(get, path = "/api/rooms", operation_id = "list_rooms", tag = "conversations", params(RoomsQuery), security(("bearer" = [])),
    responses((status = 200, body = RoomList), (status = 422, description = "`limit` 0 or `q` too long", body = ErrorBody)))]
pub async fn list_rooms(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(query): ApiQuery<RoomsQuery>,
) -> ApiResult<Json<RoomList>> {
    let rooms = conversation::rooms::rooms(&state.app, actor, query.q.as_deref(), query.limit).await?;
    Ok(Json(RoomList { rooms }))
}

/// Join a public room or a public channel of one's space (as a member); an owner or admin of
/// a space may also join its private channels, which they manage. Already being in it
/// changes nothing. Existing members hear `member.added`, the caller's devices
/// `conversation.created`.
#[utoipa::path(post, path = "/api/conversations/{id}/join", operation_id = "join_conversation", tag = "conversations", request_body = JoinRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Conversation),
        (status = 403, description = "The room's password is missing or wrong (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such conversation, or not one the caller may join (a private room)", body = ErrorBody),
        (status = 422, description = "The room is full", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords for this room (5 in 5 minutes)", body = ErrorBody)))]
pub async fn join(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<JoinRequest>,
) -> ApiResult<Json<Conversation>> {
    Ok(Json(conversation::join::join(&state.app, actor, id, body.password.as_deref()).await?))
}

/// Set the topic of a group or room (its owner and admins); members hear
/// `conversation.updated`.
#[utoipa::path(put, path = "/api/conversations/{id}/topic", operation_id = "set_topic", tag = "conversations", request_body = TopicRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Conversation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "Too long, or a direct conversation", body = ErrorBody)))]
pub async fn set_topic(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<TopicRequest>,
) -> ApiResult<Json<Conversation>> {
    Ok(Json(conversation::set_topic::set_topic(&state.app, actor, id, &body.topic).await?))
}

/// Set or remove the password of a public room (its owner). Members hear
/// `conversation.updated` (`has_password`).
#[utoipa::path(put, path = "/api/conversations/{id}/password", operation_id = "set_room_password", tag = "conversations", request_body = PasswordRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Conversation), (status = 403, description = "Not the owner", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "A bad password, or not a public room", body = ErrorBody)))]
pub async fn set_password(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<PasswordRequest>,
) -> ApiResult<Json<Conversation>> {
    Ok(Json(conversation::set_password::set_password(&state.app, actor, id, body.password.as_deref()).await?))
}

/// Change a member's role: a room's owner gives any role (`owner` hands ownership over);
/// admins move people between `member` and `admin`. Members hear one `member.updated` per
/// role that changed.
#[utoipa::path(put, path = "/api/conversations/{id}/members/{userId}/role", operation_id = "set_member_role", tag = "conversations", request_body = RoleRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("userId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Changed (or it already was that role)"),
        (status = 403, description = "The caller's role does not allow this change", body = ErrorBody),
        (status = 404, description = "No such conversation, or the user is not a current member", body = ErrorBody),
        (status = 409, description = "Nobody would be left in the top role (owner of a room, admin of a group): hand it over first", body = ErrorBody),
        (status = 422, description = "A direct conversation, or `owner` in a group", body = ErrorBody)))]
pub async fn set_role(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, user)): ApiPath<(ConversationId, UserId)>,
    ApiJson(body): ApiJson<RoleRequest>,
) -> ApiResult<StatusCode> {
    conversation::set_role::set_role(&state.app, actor, id, user, body.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a group or room for everyone (a room's owner, a group's admins). Members hear
/// `conversation.deleted`; it leaves every list and everything about it answers 404.
#[utoipa::path(delete, path = "/api/conversations/{id}", operation_id = "delete_conversation", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Deleted"), (status = 403, description = "The caller may not delete it", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, description = "A direct conversation", body = ErrorBody)))]
pub async fn delete_conversation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<StatusCode> {
    conversation::delete::delete(&state.app, actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
