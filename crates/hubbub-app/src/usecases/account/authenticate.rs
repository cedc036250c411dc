use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use crate::{App, security};
use hubbub_domain::Timestamp;

/// Resolves a bearer token (from the header or the session cookie) to its session.
/// Recently confirmed sessions come from the session cache; unknown tokens always ask storage.
pub async fn authenticate(app: &App, token: &str) -> AppResult<Actor> {
    let digest = security::digest_token(token);
    if let Some(actor) = app.sessions.get(&digest) {
        return Ok(actor);
    }
    let generation = app.sessions.generation();
    let actor = app
        .store
        .session_by_token(&digest, Timestamp::now())
        .await?
        .ok_or(AppError::Unauthorized("invalid or expired credentials"))?;
    app.sessions.insert(generation, digest, actor);
    Ok(actor)
}
