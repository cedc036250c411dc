//! Users: search, profiles, the caller's own profile.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use axum::Json;
use axum::extract::State;
use hubbub_app::usecases::user::{self, update_profile::ProfileInput};
use hubbub_domain::{User, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Prefix of a username or of a word of a display name, case-insensitive.
    #[serde(default)]
    pub q: String,
    /// 1–100, default 20.
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<User>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub username: Option<String>,
    /// Up to 500 characters.
    pub about: Option<String>,
}

/// Search users by username or display-name prefix.
#[utoipa::path(get, path = "/api/users", operation_id = "search_users", tag = "users", params(SearchQuery), security(("bearer" = [])),
    responses((status = 200, body = UserList), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<Json<UserList>> {
    let users = user::search::search_as(&state.app, Some(caller.user_id), &query.q, query.limit).await?;
    Ok(Json(UserList { users }))
}

/// The caller's own profile.
#[utoipa::path(get, path = "/api/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = User)))]
pub async fn me(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<User>> {
    Ok(Json(user::get::get(&state.app, actor.user_id).await?))
}

/// Change the caller's display name, username or about text.
#[utoipa::path(patch, path = "/api/users/me", tag = "users", request_body = ProfileUpdate, security(("bearer" = [])),
    responses((status = 200, body = User), (status = 409, description = "Username taken", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_me(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<ProfileUpdate>,
) -> ApiResult<Json<User>> {
    let input = ProfileInput { username: body.username, display_name: body.display_name, about: body.about };
    Ok(Json(user::update_profile::update_profile(&state.app, actor, input).await?))
}

/// One user's profile. Someone who blocks the caller shows no presence (offline, never seen).
#[utoipa::path(get, path = "/api/users/{userId}", operation_id = "get_user", tag = "users", security(("bearer" = [])),
    params(("userId" = String, Path, format = Uuid)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<User>> {
    Ok(Json(user::get::get_as(&state.app, caller.user_id, id).await?))
}
