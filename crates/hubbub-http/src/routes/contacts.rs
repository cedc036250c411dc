//! Contacts (the caller's address book, with aliases) and blocking.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, Auth, OptionalJson};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hubbub_app::usecases::contact;
use hubbub_domain::{Contact, User, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ContactList {
    pub contacts: Vec<Contact>,
}

#[derive(Serialize, ToSchema)]
pub struct BlockedList {
    pub users: Vec<User>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    /// The caller's own name for this person (1–64 characters), seen by the caller only,
    /// instead of their display name. The whole contact is replaced: leaving it out, null or
    /// blank removes the alias.
    pub alias: Option<String>,
}

/// The caller's contacts, by the name the caller sees (alias, else display name).
#[utoipa::path(get, path = "/api/contacts", operation_id = "list_contacts", tag = "contacts", security(("bearer" = [])),
    responses((status = 200, body = ContactList)))]
pub async fn list(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<ContactList>> {
    Ok(Json(ContactList { contacts: contact::list::list(&state.app, actor).await? }))
}

/// Add a user to the caller's contacts, or replace their alias (the body may be left out:
/// a contact without alias).
#[utoipa::path(put, path = "/api/contacts/{userId}", operation_id = "set_contact", tag = "contacts", request_body = ContactRequest, security(("bearer" = [])),
    params(("userId" = String, Path, format = Uuid)),
    responses((status = 200, body = Contact), (status = 404, description = "No such user", body = ErrorBody),
        (status = 422, description = "An alias over 64 characters, or oneself", body = ErrorBody)))]
pub async fn set(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(user): ApiPath<UserId>,
    OptionalJson(body): OptionalJson<ContactRequest>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(contact::set::set(&state.app, actor, user, body.alias).await?))
}

/// Remove a user from the caller's contacts (204 also when they were not there).
#[utoipa::path(delete, path = "/api/contacts/{userId}", operation_id = "delete_contact", tag = "contacts", security(("bearer" = [])),
    params(("userId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Not a contact (any more)"), (status = 404, description = "No such user", body = ErrorBody),
        (status = 422, description = "Oneself", body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(user): ApiPath<UserId>,
) -> ApiResult<StatusCode> {
    contact::remove::remove(&state.app, actor, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Block a user: they can no longer open or post in a direct conversation with the caller
/// (403), and get none of the caller's presence or typing. Blocking twice changes nothing.
#[utoipa::path(put, path = "/api/users/{userId}/block", operation_id = "block_user", tag = "contacts", security(("bearer" = [])),
    params(("userId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Blocked"), (status = 404, description = "No such user", body = ErrorBody),
        (status = 422, description = "Oneself", body = ErrorBody)))]
pub async fn block(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(user): ApiPath<UserId>,
) -> ApiResult<StatusCode> {
    contact::block::set_blocked(&state.app, actor, user, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unblock a user (204 also when they were not blocked).
#[utoipa::path(delete, path = "/api/users/{userId}/block", operation_id = "unblock_user", tag = "contacts", security(("bearer" = [])),
    params(("userId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Not blocked (any more)"), (status = 404, description = "No such user", body = ErrorBody),
        (status = 422, description = "Oneself", body = ErrorBody)))]
pub async fn unblock(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(user): ApiPath<UserId>,
) -> ApiResult<StatusCode> {
    contact::block::set_blocked(&state.app, actor, user, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The users the caller blocks, in the order blocked.
#[utoipa::path(get, path = "/api/blocks", operation_id = "list_blocks", tag = "contacts", security(("bearer" = [])),
    responses((status = 200, body = BlockedList)))]
pub async fn blocks(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<BlockedList>> {
    Ok(Json(BlockedList { users: contact::block::blocked(&state.app, actor).await? }))
}
