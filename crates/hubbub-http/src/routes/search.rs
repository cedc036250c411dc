//! `GET /api/search`: full-text search over the messages the caller may see.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Auth};
use axum::Json;
use axum::extract::State;
use hubbub_app::usecases::message::search;
use hubbub_domain::{ConversationId, Message, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The words to find (1–200 characters after trimming): every word must match the
    /// start of a word of the text (`hel` finds `hello`), case and diacritics ignored
    /// (`cafe` finds `Café`).
    pub q: Option<String>,
    /// Only this conversation.
    #[param(value_type = Option<String>, format = Uuid)]
    pub conversation_id: Option<ConversationId>,
    /// Only messages from this user.
    #[param(value_type = Option<String>, format = Uuid)]
    pub sender_id: Option<UserId>,
    /// Only messages sent at or after this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime)]
    pub after: Option<String>,
    /// Only messages sent before this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime)]
    pub before: Option<String>,
    /// `photo`: only messages with a photo.
    #[param(value_type = Option<String>, pattern = "^photo$")]
    pub has: Option<String>,
    /// 1–50 (larger is clamped to 50); default 20.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResult {
    pub message: Message,
    #[schema(value_type = String, format = Uuid)]
    pub conversation_id: ConversationId,
    /// The message's text HTML-escaped, with each matched word wrapped in
    /// `<mark>…</mark>` (the only markup), cut to about 160 characters around the first
    /// match (`…` where it was cut).
    pub snippet: String,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    /// Newest first.
    pub results: Vec<SearchResult>,
    /// Give it as `cursor` for the next, older page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// Full-text search over every message the caller may see (their membership windows,
/// former ones included, after any cleared history; deleted messages and conversations
/// left out), newest first. A bad `q`, `after`, `before`, `has`, `limit` or `cursor` is
/// 400 with the parameter in `field`.
#[utoipa::path(get, path = "/api/search", tag = "messages", security(("bearer" = [])),
    params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 400, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult<Json<SearchResults>> {
    let request = search::Request {
        q: params.q.as_deref(),
        conversation_id: params.conversation_id,
        sender_id: params.sender_id,
        after: params.after.as_deref(),
        before: params.before.as_deref(),
        has: params.has.as_deref(),
        limit: params.limit,
        cursor: params.cursor.as_deref(),
    };
    let found = search::search(&state.app, actor, request).await?;
    Ok(Json(SearchResults {
        results: found
            .hits
            .into_iter()
            .map(|hit| SearchResult {
                message: hit.message,
                conversation_id: hit.conversation_id,
                snippet: hit.snippet,
            })
            .collect(),
        next_cursor: found.next_cursor,
    }))
}
