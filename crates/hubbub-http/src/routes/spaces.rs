//! Spaces: creating and listing them, their members and their channels. Everything of a
//! space is 404 to someone not in it; who may do what is `hubbub_domain::policy`'s
//! decision, applied by the use cases (`hubbub_app::usecases::space`).

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hubbub_app::usecases::conversation::create_channel::NewRoom;
use hubbub_app::usecases::space;
use hubbub_domain::{Conversation, Role, Space, SpaceChannel, SpaceId, SpaceMember, UserId, Visibility};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSpaceRequest {
    /// 1–100 characters.
    pub name: String,
    /// At most 250 characters, one line.
    pub description: Option<String>,
    /// Members besides the caller (who becomes the owner); all of them are put in `general`.
    pub member_ids: Option<Vec<UserId>>,
}

#[derive(Serialize, ToSchema)]
pub struct SpaceList {
    /// The caller's spaces, oldest first.
    pub spaces: Vec<Space>,
}

#[derive(Serialize, ToSchema)]
pub struct SpaceMemberList {
    /// Oldest first.
    pub members: Vec<SpaceMember>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddSpaceMembersRequest {
    pub user_ids: Vec<UserId>,
}

#[derive(Serialize, ToSchema)]
pub struct SpaceChannelList {
    /// The space's public channels and the private ones the caller is in (for the space's
    /// owner and admins, every private channel: they manage them and may join them without
    /// an invitation), oldest first (`general` first): directory entries (no member list,
    /// nothing unread) with `joined`.
    pub channels: Vec<SpaceChannel>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSpaceChannelRequest {
    /// 1–100 characters.
    pub name: String,
    /// `public` (every member of the space may join it) or `private` (by invitation).
    pub visibility: Option<Visibility>,
    /// At most 250 characters.
    pub topic: Option<String>,
    /// Members of the space to put in the channel besides the caller (its owner).
    pub member_ids: Option<Vec<UserId>>,
}

/// Create a space, with the caller as its owner and its public channel `general`, which
/// every member is in. Members hear `space.created` and `conversation.created` (of `general`).
#[utoipa::path(post, path = "/api/spaces", operation_id = "create_space", tag = "spaces", request_body = CreateSpaceRequest, security(("bearer" = [])),
    responses((status = 201, body = Space), (status = 422, description = "A bad name or description, or an unknown member", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateSpaceRequest>,
) -> ApiResult<(StatusCode, Json<Space>)> {
    let members = body.member_ids.unwrap_or_default();
    let created = space::create::create(&state.app, actor, &body.name, body.description.as_deref(), members).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The caller's spaces.
#[utoipa::path(get, path = "/api/spaces", operation_id = "list_spaces", tag = "spaces", security(("bearer" = [])),
    responses((status = 200, body = SpaceList)))]
pub async fn list(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<SpaceList>> {
    Ok(Json(SpaceList { spaces: space::list(&state.app, actor.user_id).await? }))
}

/// One of the caller's spaces.
#[utoipa::path(get, path = "/api/spaces/{id}", operation_id = "get_space", tag = "spaces", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Space), (status = 404, description = "No such space, or the caller is not in it", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<SpaceId>,
) -> ApiResult<Json<Space>> {
    Ok(Json(space::get(&state.app, actor.user_id, id).await?))
}

/// The members of a space, with their roles.
#[utoipa::path(get, path = "/api/spaces/{id}/members", operation_id = "list_space_members", tag = "spaces", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = SpaceMemberList), (status = 404, description = "No such space, or the caller is not in it", body = ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<SpaceId>,
) -> ApiResult<Json<SpaceMemberList>> {
    Ok(Json(SpaceMemberList { members: space::members::list(&state.app, actor.user_id, id).await? }))
}

/// Add people to a space (its owner and admins) as members, and to its `general` channel.
/// Those already in it are left as they are. The space's members hear `space.member_added`.
#[utoipa::path(post, path = "/api/spaces/{id}/members", operation_id = "add_space_members", tag = "spaces", request_body = AddSpaceMembersRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Added"), (status = 403, description = "Not an owner or admin of the space", body = ErrorBody),
        (status = 404, description = "No such space, or the caller is not in it", body = ErrorBody),
        (status = 422, description = "No user, or an unknown one", body = ErrorBody)))]
pub async fn add_members(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<SpaceId>,
    ApiJson(body): ApiJson<AddSpaceMembersRequest>,
) -> ApiResult<StatusCode> {
    space::members::add(&state.app, actor, id, body.user_ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The channels of a space the caller may see: its public ones and the private ones the
/// caller is in. Public ones are joined with `POST /api/conversations/{id}/join`.
#[utoipa::path(get, path = "/api/spaces/{id}/channels", operation_id = "list_space_channels", tag = "spaces", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = SpaceChannelList), (status = 404, description = "No such space, or the caller is not in it", body = ErrorBody)))]
pub async fn channels(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<SpaceId>,
) -> ApiResult<Json<SpaceChannelList>> {
    Ok(Json(SpaceChannelList { channels: space::channels::list(&state.app, actor, id).await? }))
}

/// Create a channel in a space (its owner and admins), with the caller as its owner.
#[utoipa::path(post, path = "/api/spaces/{id}/channels", operation_id = "create_space_channel", tag = "spaces", request_body = CreateSpaceChannelRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 201, body = Conversation), (status = 403, description = "Not an owner or admin of the space", body = ErrorBody),
        (status = 404, description = "No such space, or the caller is not in it", body = ErrorBody),
        (status = 422, description = "A bad name, visibility or topic, or a member who is not in the space", body = ErrorBody)))]
pub async fn create_channel(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<SpaceId>,
    ApiJson(body): ApiJson<CreateSpaceChannelRequest>,
) -> ApiResult<(StatusCode, Json<Conversation>)> {
    let room = NewRoom {
        name: body.name,
        visibility: body.visibility,
        topic: body.topic,
        password: None,
        member_ids: body.member_ids.unwrap_or_default(),
    };
    Ok((StatusCode::CREATED, Json(space::channels::create(&state.app, actor, id, room).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSpaceRequest {
    /// 1–100 characters.
    pub name: Option<String>,
    /// At most 250 characters, one line; empty removes it.
    pub description: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpaceRoleRequest {
    /// `owner` (hands ownership over: the caller becomes an admin), `admin` or `member`.
    pub role: Role,
}

/// Rename a space or change its description (its owner and admins); members hear
/// `space.updated`.
#[utoipa::path(patch, path = "/api/spaces/{id}", operation_id = "update_space", tag = "spaces", request_body = UpdateSpaceRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Space), (status = 403, description = "Not an owner or admin of the space", body = ErrorBody),
        (status = 404, description = "No such space, or the caller is not in it", body = ErrorBody),
        (status = 422, description = "A bad name or description", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<SpaceId>,
    ApiJson(body): ApiJson<UpdateSpaceRequest>,
) -> ApiResult<Json<Space>> {
    let updated =
        space::manage::update(&state.app, actor, id, body.name.as_deref(), body.description.as_deref()).await?;
    Ok(Json(updated))
}

/// Delete a space and all its channels (its owner). Each channel's members hear
/// `conversation.deleted`, the space's members `space.deleted`.
#[utoipa::path(delete, path = "/api/spaces/{id}", operation_id = "delete_space", tag = "spaces", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Not the space's owner", body = ErrorBody),
        (status = 404, description = "No such space, or the caller is not in it", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<SpaceId>,
) -> ApiResult<StatusCode> {
    space::manage::delete(&state.app, actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove someone from a space (its owner and admins; an admin cannot remove the owner),
/// or leave it with `me`. They are also removed from every channel of the space.
#[utoipa::path(delete, path = "/api/spaces/{id}/members/{userId}", operation_id = "remove_space_member", tag = "spaces", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("userId" = String, Path, description = "A user id, or `me` to leave")),
    responses((status = 204, description = "Removed"), (status = 403, description = "The caller's role does not allow it", body = ErrorBody),
        (status = 404, description = "No such space, the caller is not in it, or the user is not", body = ErrorBody),
        (status = 409, description = "The owner cannot leave: hand ownership over first", body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, who)): ApiPath<(SpaceId, String)>,
) -> ApiResult<StatusCode> {
    let user = if who == "me" {
        actor.user_id
    } else {
        UserId::parse(&who).map_err(|_| ApiError::bad_request("userId must be a UUID or `me`"))?
    };
    space::manage::remove(&state.app, actor, id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change a member's space role: the owner gives any role (`owner` hands ownership over),
/// admins move people between `member` and `admin`. Members hear `space.updated`.
#[utoipa::path(put, path = "/api/spaces/{id}/members/{userId}/role", operation_id = "set_space_role", tag = "spaces", request_body = SpaceRoleRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("userId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Changed (or it already was that role)"),
        (status = 403, description = "The caller's role does not allow this change", body = ErrorBody),
        (status = 404, description = "No such space, the caller is not in it, or the user is not", body = ErrorBody),
        (status = 409, description = "The owner's own role: hand ownership over instead", body = ErrorBody)))]
pub async fn set_role(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, user)): ApiPath<(SpaceId, UserId)>,
    ApiJson(body): ApiJson<SpaceRoleRequest>,
) -> ApiResult<StatusCode> {
    space::manage::set_role(&state.app, actor, id, user, body.role).await?;
    Ok(StatusCode::NO_CONTENT)
}
