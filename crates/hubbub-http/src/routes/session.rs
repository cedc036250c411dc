//! Accounts and sessions: register, log in, log out, WebSocket tickets, password change.

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth, ClientAddr, SESSION_COOKIE, origin_allowed};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubbub_app::usecases::account::{self, Authenticated, register::RegisterInput};
use hubbub_domain::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3–32 characters of `[a-z0-9_.]`, unique case-insensitively.
    pub username: String,
    /// 8–256 characters.
    pub password: String,
    /// 1–64 characters; defaults to the username.
    pub display_name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuthResponse {
    pub user: User,
    /// Opaque bearer token (256 random bits). Also set as the `hubbub_session` cookie.
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct TicketResponse {
    /// Single use, valid 60 s: `GET /api/ws?ticket=...`.
    pub ticket: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Registration and login from a browser set a cookie, so they too must come from an
/// allowed origin when the browser says where it comes from (login CSRF).
fn check_unauthenticated_origin(headers: &HeaderMap, state: &AppState) -> ApiResult<()> {
    if !headers.contains_key(header::ORIGIN) || origin_allowed(headers, state) {
        Ok(())
    } else {
        Err(ApiError::forbidden("cross-origin request refused"))
    }
}

fn session_cookie(state: &AppState, token: &str) -> HeaderValue {
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    // A year: like a messenger's web client, a session lasts until the user logs out.
    let value = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}");
    HeaderValue::from_str(&value).expect("tokens are URL-safe base64")
}

fn signed_in(state: &AppState, status: StatusCode, auth: Authenticated) -> Response {
    let cookie = session_cookie(state, &auth.token);
    let mut response = (status, Json(AuthResponse { user: auth.user, token: auth.token })).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

/// Create an account (and sign in).
#[utoipa::path(post, path = "/api/users", tag = "session", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; the cookie is set too", body = AuthResponse),
        (status = 403, description = "From a browser page of a foreign Origin", body = ErrorBody),
        (status = 409, description = "Username taken (case-insensitively)", body = ErrorBody),
        (status = 422, description = "Invalid username, password or display name", body = ErrorBody),
        (status = 429, description = "Too many registrations from this client address (by default 10 an hour; \
            an IPv6 client counts by its /64); `Retry-After` says how many seconds to wait", body = ErrorBody),
        (status = 503, description = "The database is temporarily unavailable; retry later", body = ErrorBody),
    ))]
pub async fn register(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> ApiResult<Response> {
    check_unauthenticated_origin(&headers, &state)?;
    let input = RegisterInput { username: body.username, password: body.password, display_name: body.display_name };
    let auth = account::register::register(&state.app, input, client).await?;
    Ok(signed_in(&state, StatusCode::CREATED, auth))
}

/// Sign in.
#[utoipa::path(post, path = "/api/session", tag = "session", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the cookie is set too", body = AuthResponse),
        (status = 401, description = "Any mismatch", body = ErrorBody),
        (status = 429, description = "Too many failed attempts: for this username from this client address \
            (10 in 5 minutes), from this address for any usernames (30 in 5 minutes), or, once a username has \
            failed 100 times in 5 minutes, from an address that already failed for it (one attempt per 5 s); \
            an IPv6 client counts by its /64. `Retry-After` says how many seconds to wait", body = ErrorBody),
        (status = 403, description = "From a browser page of a foreign Origin", body = ErrorBody),
        (status = 503, description = "The database is temporarily unavailable; retry later", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    check_unauthenticated_origin(&headers, &state)?;
    let auth = account::login::login(&state.app, &body.username, &body.password, client).await?;
    Ok(signed_in(&state, StatusCode::OK, auth))
}

/// Sign out: the token stops working and this session's WebSockets close.
#[utoipa::path(delete, path = "/api/session", tag = "session", security(("bearer" = [])),
    responses((status = 204, description = "Signed out")))]
pub async fn logout(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Response> {
    account::logout::logout(&state.app, actor).await?;
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&clear).expect("static cookie"));
    Ok(response)
}

/// A single-use WebSocket ticket, valid 60 s, for clients that cannot send headers.
#[utoipa::path(post, path = "/api/ws/ticket", tag = "session", security(("bearer" = [])),
    responses((status = 201, body = TicketResponse)))]
pub async fn ws_ticket(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<(StatusCode, Json<TicketResponse>)> {
    let ticket = account::ws_ticket::issue(&state.app, actor).await?;
    Ok((StatusCode::CREATED, Json(TicketResponse { ticket })))
}

/// Change the password; every other session ends and its sockets close.
#[utoipa::path(put, path = "/api/users/me/password", tag = "users", request_body = PasswordChange, security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed"),
        (status = 422, description = "Wrong current password or invalid new one", body = ErrorBody),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    account::change_password::change_password(&state.app, actor, &body.current_password, &body.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}
