use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, RoomQuery};
use hubbub_domain::Conversation;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
/// The longest search text (a room name is at most 100 characters).
pub const QUERY_MAX: usize = 100;

/// The room directory: open rooms (`policy::is_open`, with no space) whose name contains
/// `q` (ASCII case-insensitively; none lists them all), most members first. Each is its
/// directory entry: no member list, `my_role` the caller's when they are in it, else null.
pub async fn rooms(app: &App, actor: Actor, q: Option<&str>, limit: Option<u32>) -> AppResult<Vec<Conversation>> {
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(0) => return Err(AppError::validation("limit", "must be at least 1")),
        Some(n) => n.min(MAX_LIMIT),
    };
    let text = q.unwrap_or_default().trim();
    if text.chars().count() > QUERY_MAX {
        return Err(AppError::validation("q", format!("must be at most {QUERY_MAX} characters")));
    }
    let query = RoomQuery { text: text.to_owned(), only: None, limit };
    let entries = app.store.public_rooms(actor.user_id, query).await?;
    Ok(entries.into_iter().map(|entry| super::present_entry(actor.user_id, entry)).collect())
}
