use crate::App;
use crate::error::{AppError, AppResult};
use hubbub_domain::User;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// Users whose username or display name starts with `query`, case-insensitively. An empty
/// query lists users alphabetically, which is what a "new chat" picker shows first.
pub async fn search(app: &App, query: &str, limit: Option<u32>) -> AppResult<Vec<User>> {
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(0) => return Err(AppError::validation("limit", "must be at least 1")),
        Some(n) => n.min(MAX_LIMIT),
    };
    if query.chars().count() > 64 {
        return Err(AppError::validation("q", "must be at most 64 characters"));
    }
    let prefix = query.trim().to_lowercase();
    let users = app.store.search_users(&prefix, limit).await?;
    Ok(users.into_iter().map(|u| app.present_user(u)).collect())
}
