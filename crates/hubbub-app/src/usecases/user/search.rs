use crate::App;
use crate::error::{AppError, AppResult};
use hubbub_domain::{User, UserId};

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// Users whose username or display name starts with `query`, case-insensitively. An empty
/// query lists users alphabetically, which is what a "new chat" picker shows first.
pub async fn search(app: &App, query: &str, limit: Option<u32>) -> AppResult<Vec<User>> {
    search_as(app, None, query, limit).await
}

/// `search`, as `viewer` sees it: those who block the viewer show no presence.
pub async fn search_as(app: &App, viewer: Option<UserId>, query: &str, limit: Option<u32>) -> AppResult<Vec<User>> {
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
    let blockers = match viewer {
        Some(viewer) => super::blockers_of(app, viewer).await?,
        None => Vec::new(),
    };
    Ok(users
        .into_iter()
        .map(|u| {
            let mut user = app.present_user(u);
            crate::rules::blocking::mask_presence(&mut user, &blockers);
            user
        })
        .collect())
}
