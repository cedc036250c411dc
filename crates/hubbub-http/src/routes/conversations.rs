//! Conversations: direct, group and room, members, names, read and delivered marks. What
//! only rooms have (the directory, joining, topics, passwords, roles, deleting) is in
//! `rooms.rs`.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hubbub_app::usecases::conversation::{self, create, mark::MarkKind};
use hubbub_domain::{Conversation, ConversationId, UserId, Visibility};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ConversationList {
    pub conversations: Vec<Conversation>,
}

/// What `POST /api/conversations` creates.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NewKind {
    /// A group (the default): the caller is its admin.
    #[default]
    Group,
    /// A standalone room (a channel with no space): the caller is its owner.
    Channel,
}

/// A new group (`{name, member_ids}`), or with `kind: "channel"` a room
/// (`{kind, name, visibility, topic?, password?, member_ids?}`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversationRequest {
    #[serde(default)]
    pub kind: NewKind,
    /// 1–100 characters.
    pub name: String,
    /// The other initial members (the caller is added as admin, or owner of a room); at
    /// most 1023. Required for a group (may be empty), optional for a room.
    #[schema(value_type = Option<Vec<String>>)]
    pub member_ids: Option<Vec<UserId>>,
    /// Rooms only, and required for them: public rooms are listed and anyone may join.
    pub visibility: Option<Visibility>,
    /// Rooms only: at most 250 characters.
    pub topic: Option<String>,
    /// Public rooms only: the password joining asks for (8–256 characters), stored as an
    /// Argon2id hash.
    pub password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMembersRequest {
    #[schema(value_type = Vec<String>)]
    pub user_ids: Vec<UserId>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRequest {
    /// Marks only move forward: a lower seq is ignored; a seq beyond the last is clamped.
    pub seq: i64,
}

/// The caller's conversations: pinned ones first, in the order pinned, then the others by
/// most recent activity; those the caller hid (`POST .../clear` with `hide`) are left out
/// until their next message. Each carries the caller's own `settings`. Conversations the caller has left
/// are included as they were at the leaving: `members` empty, `unread_count` 0, and
/// `last_seq`/`last_message` stopping at the removal.
#[utoipa::path(get, path = "/api/conversations", operation_id = "list_conversations", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, body = ConversationList)))]
pub async fn list(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<ConversationList>> {
    let conversations = conversation::list::list(&state.app, actor).await?;
    Ok(Json(ConversationList { conversations }))
}

/// Create a group (the caller becomes its admin) or, with `kind: "channel"`, a standalone
/// room (the caller becomes its owner).
#[utoipa::path(post, path = "/api/conversations", tag = "conversations", request_body = NewConversationRequest, security(("bearer" = [])),
    responses((status = 201, body = Conversation), (status = 422, description = "Bad name, topic, visibility or password, room fields on a group, unknown user or too many members", body = ErrorBody)))]
pub async fn create_group(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<NewConversationRequest>,
) -> ApiResult<(StatusCode, Json<Conversation>)> {
    let kind = match body.kind {
        NewKind::Group => create::NewKind::Group,
        NewKind::Channel => create::NewKind::Channel,
    };
    let new = create::NewConversation {
        kind,
        name: body.name,
        member_ids: body.member_ids,
        visibility: body.visibility,
        topic: body.topic,
        password: body.password,
    };
    let created = create::create(&state.app, actor, new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The direct conversation with a user: 201 when created now, 200 when it existed.
#[utoipa::path(post, path = "/api/users/{userId}/conversation", tag = "conversations", security(("bearer" = [])),
    params(("userId" = String, Path, format = Uuid)),
    responses((status = 200, body = Conversation), (status = 201, body = Conversation), (status = 404, body = ErrorBody), (status = 422, description = "With oneself", body = ErrorBody)))]
pub async fn open_direct(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(other): ApiPath<UserId>,
) -> ApiResult<(StatusCode, Json<Conversation>)> {
    let (found, created) = conversation::open_direct::open_direct(&state.app, actor, other).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(found)))
}

/// One conversation: the caller's view of one they are or were in, or the directory entry
/// of a public room they may join (`my_role` null, no member list).
#[utoipa::path(get, path = "/api/conversations/{id}", operation_id = "get_conversation", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Conversation), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<Conversation>> {
    Ok(Json(conversation::get::get(&state.app, actor, id).await?))
}

/// Rename a group or room (its owner and admins).
#[utoipa::path(put, path = "/api/conversations/{id}/name", tag = "conversations", request_body = RenameRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Conversation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rename(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<RenameRequest>,
) -> ApiResult<Json<Conversation>> {
    Ok(Json(conversation::rename::rename(&state.app, actor, id, &body.name).await?))
}

/// Add members to a group or room (its owner and admins); adding a current member again
/// changes nothing.
#[utoipa::path(post, path = "/api/conversations/{id}/members", tag = "conversations", request_body = AddMembersRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Conversation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_members(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<AddMembersRequest>,
) -> ApiResult<Json<Conversation>> {
    Ok(Json(conversation::add_members::add_members(&state.app, actor, id, body.user_ids).await?))
}

/// Remove a member (the owner and admins; an admin cannot remove the owner), or leave
/// (anyone, with their own id). When the last owner of a room (or the last admin of a
/// group) leaves, the longest-standing admin (else member) takes the role: leaving is never
/// refused.
#[utoipa::path(delete, path = "/api/conversations/{id}/members/{userId}", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("userId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Removed (or was not a member)"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, user)): ApiPath<(ConversationId, UserId)>,
) -> ApiResult<StatusCode> {
    conversation::remove_member::remove_member(&state.app, actor, id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move the caller's read mark forward.
#[utoipa::path(put, path = "/api/conversations/{id}/read", tag = "conversations", request_body = MarkRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Stored, or ignored when not ahead of the current mark"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<MarkRequest>,
) -> ApiResult<StatusCode> {
    conversation::mark::mark(&state.app, actor, id, MarkKind::Read, body.seq).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move the caller's delivered mark forward.
#[utoipa::path(put, path = "/api/conversations/{id}/delivered", tag = "conversations", request_body = MarkRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Stored, or ignored when not ahead of the current mark"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mark_delivered(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<MarkRequest>,
) -> ApiResult<StatusCode> {
    conversation::mark::mark(&state.app, actor, id, MarkKind::Delivered, body.seq).await?;
    Ok(StatusCode::NO_CONTENT)
}
