use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use crate::{App, security};
use hubbub_domain::Timestamp;

/// Resolves a bearer token (from the header or the session cookie) to its session.
pub async fn authenticate(app: &App, token: &str) -> AppResult<Actor> {
    let digest = security::digest_token(token);
    app.store
        .session_by_token(&digest, Timestamp::now())
        .await?
        .ok_or(AppError::Unauthorized("invalid or expired credentials"))
}
