//! Each user's own chat settings (archive, pin, mute, notify) and clearing a chat for oneself.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Auth, OptionalJson};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hubbub_app::ports::SettingsPatch;
use hubbub_app::usecases::conversation::settings;
use hubbub_domain::{ChatSettings, ConversationId, NotifyLevel, Timestamp};
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsRequest {
    /// Out of the main list. A new message from someone else brings the conversation back
    /// (the flag is cleared, and every device hears `settings.updated`) unless it is muted.
    pub archived: Option<bool>,
    /// Pinned conversations are listed first, in the order they were pinned; at most 5
    /// (409 `conflict` for a sixth).
    pub pinned: Option<bool>,
    /// Muted until this time (RFC 3339); `9999-12-31T23:59:59.999Z` means forever; null
    /// unmutes; left out, unchanged. A time already past is stored as null.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = DateTime, nullable)]
    pub muted_until: Option<Option<Timestamp>>,
    /// Which new messages notify the caller (desktop notifications and Web Push): `all`,
    /// `mentions` (only messages that mention them) or `none`. Until chosen, the kind's
    /// default applies: `all` in direct and group chats, `mentions` in channels and rooms.
    pub notify: Option<NotifyLevel>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ClearRequest {
    /// Also take the conversation out of the caller's list until the next message
    /// ("delete this chat for me"); false when left out.
    pub hide: Option<bool>,
}

/// Tells a field given as null (`Some(None)`) from a field left out (`None`, by `default`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Change the caller's own settings of a conversation; the caller's devices hear
/// `settings.updated`. Former members may change theirs too.
#[utoipa::path(patch, path = "/api/conversations/{id}/settings", operation_id = "update_settings", tag = "conversations",
    request_body = SettingsRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ChatSettings), (status = 404, body = ErrorBody),
        (status = 409, description = "Five conversations are pinned already", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<SettingsRequest>,
) -> ApiResult<Json<ChatSettings>> {
    let patch = SettingsPatch {
        archived: body.archived,
        pinned: body.pinned,
        muted_until: body.muted_until,
        notify: body.notify,
    };
    Ok(Json(settings::update(&state.app, actor, id, patch).await?))
}

/// Clear the conversation's history for the caller: messages up to now leave their history,
/// event replay, last message and unread count; with `hide`, the conversation also leaves
/// their list until the next message. Nobody else is affected. The body may be left out
/// (then `hide` is false).
#[utoipa::path(post, path = "/api/conversations/{id}/clear", operation_id = "clear_conversation", tag = "conversations",
    request_body = ClearRequest, security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Cleared"), (status = 404, body = ErrorBody)))]
pub async fn clear(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
    OptionalJson(body): OptionalJson<ClearRequest>,
) -> ApiResult<StatusCode> {
    settings::clear(&state.app, actor, id, body.hide.unwrap_or(false)).await?;
    Ok(StatusCode::NO_CONTENT)
}
