use super::Authenticated;
use crate::error::{AppError, AppResult};
use crate::ports::{NewSession, SessionId};
use crate::{App, security};
use hubbub_domain::{Timestamp, Username};
use uuid::Uuid;

/// Signs in with a username and password. Every mismatch (unknown user, wrong password,
/// malformed username) is the same 401 and costs the same Argon2 verification, so neither
/// the answer nor its timing tells whether an account exists.
pub async fn login(app: &App, username: &str, password: &str) -> AppResult<Authenticated> {
    let key = username.trim().to_ascii_lowercase();
    if let Some(retry_after_secs) = app.login_limiter.check(&key) {
        return Err(AppError::RateLimited { retry_after_secs });
    }
    let credentials = match Username::parse(username) {
        Ok(username) => app.store.credentials(&username).await?,
        Err(_) => None,
    };
    let user_id = credentials.as_ref().map(|c| c.user_id);
    let verified = security::verify_password(password, credentials.map(|c| c.password_hash)).await?;
    let Some(user_id) = user_id.filter(|_| verified) else {
        app.login_limiter.record_failure(&key);
        return Err(AppError::Unauthorized("invalid username or password"));
    };
    app.login_limiter.reset(&key);
    let token = security::issue_token();
    let session = NewSession { id: SessionId(Uuid::now_v7()), token_digest: token.digest, now: Timestamp::now() };
    app.store.create_session(user_id, session).await?;
    let user = app.store.user(user_id).await?.ok_or(AppError::Unauthorized("invalid username or password"))?;
    Ok(Authenticated { user: app.present_user(user), token: token.text })
}
