//! Web Push: the server's VAPID key and the caller's browser subscriptions.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hubbub_app::ports::PushSubscription;
use hubbub_app::usecases::push::subscribe;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct PushKey {
    /// The VAPID application server key: an uncompressed P-256 point, base64url without
    /// padding (give it to `pushManager.subscribe` as `applicationServerKey`).
    pub public_key: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SubscriptionKeysBody {
    /// The browser's P-256 public key, uncompressed (65 bytes), base64url.
    pub p256dh: String,
    /// The browser's authentication secret (16 bytes), base64url.
    pub auth: String,
}

/// A browser's `PushSubscription.toJSON()` (its `expirationTime` is ignored).
#[derive(Deserialize, ToSchema)]
pub struct SubscriptionRequest {
    /// The push service's URL for this browser: https, on a public address.
    pub endpoint: String,
    pub keys: SubscriptionKeysBody,
}

#[derive(Deserialize, ToSchema)]
pub struct UnsubscribeRequest {
    pub endpoint: String,
}

/// The server's VAPID public key. 404 when this server has Web Push off.
#[utoipa::path(get, path = "/api/push/key", operation_id = "push_key", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = PushKey), (status = 404, body = ErrorBody)))]
pub async fn key(State(state): State<AppState>, Auth(_actor): Auth) -> ApiResult<Json<PushKey>> {
    Ok(Json(PushKey { public_key: subscribe::public_key(&state.app)? }))
}

/// Subscribe this browser to pushes for the caller (idempotent per endpoint: the same
/// endpoint again replaces its keys). A user with no live socket on any node gets a push
/// for each new message their chat settings' `notify` allows, unless muted.
#[utoipa::path(post, path = "/api/push/subscriptions", operation_id = "push_subscribe", tag = "push",
    request_body = SubscriptionRequest, security(("bearer" = [])),
    responses((status = 201, description = "Subscribed"),
        (status = 400, description = "Not https on a public address, or keys of the wrong length", body = ErrorBody),
        (status = 404, description = "Web Push is off on this server", body = ErrorBody)))]
pub async fn subscribe_browser(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<SubscriptionRequest>,
) -> ApiResult<StatusCode> {
    let subscription = PushSubscription { endpoint: body.endpoint, p256dh: body.keys.p256dh, auth: body.keys.auth };
    subscribe::subscribe(&state.app, actor, subscription).await?;
    Ok(StatusCode::CREATED)
}

/// Unsubscribe a browser of the caller's (204 also when it was not subscribed).
#[utoipa::path(delete, path = "/api/push/subscriptions", operation_id = "push_unsubscribe", tag = "push",
    request_body = UnsubscribeRequest, security(("bearer" = [])),
    responses((status = 204, description = "Unsubscribed"), (status = 404, body = ErrorBody)))]
pub async fn unsubscribe_browser(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<UnsubscribeRequest>,
) -> ApiResult<StatusCode> {
    subscribe::unsubscribe(&state.app, actor, &body.endpoint).await?;
    Ok(StatusCode::NO_CONTENT)
}
