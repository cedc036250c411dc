use super::Authenticated;
use crate::error::{AppError, AppResult};
use crate::ports::{BusMessage, NewSession, SessionId};
use crate::usecases::admin::audit;
use crate::{App, security};
use hubbub_domain::{AuditAction, Timestamp, Username};
use std::net::IpAddr;
use std::time::Instant;
use uuid::Uuid;

/// Signs in with a username and password from the client at `client`. Every mismatch
/// (unknown user, wrong password, malformed username) is the same 401 and costs the same
/// Argon2 verification, so neither the answer nor its timing tells whether an account
/// exists. Attempts are limited per (username, address), per address and per username
/// (`ratelimit::login`); failures and refusals are logged for the operator.
pub async fn login(app: &App, username: &str, password: &str, client: IpAddr) -> AppResult<Authenticated> {
    let username = Username::parse(username).ok();
    // Every malformed username shares one key: none can match an account, and keying by the
    // raw text would let a client fill the limiter with 64 KiB keys.
    let key = username.as_ref().map_or("", Username::as_str);
    // Only a well-formed username is logged. What fails the format is more often a password
    // typed into the wrong field than a name, and it is text from anyone, unescaped.
    let logged = username.as_ref().map_or("(malformed)", Username::as_str);
    let attempt = match app.login_limiter.admit(key, client, Instant::now()) {
        Ok(attempt) => attempt,
        Err(refused) => {
            tracing::warn!(
                username = logged,
                client = %client,
                rule = refused.rule.code(),
                retry_after_secs = refused.retry_after_secs,
                "login refused: too many failed attempts (429)"
            );
            return Err(AppError::RateLimited { retry_after_secs: refused.retry_after_secs });
        }
    };
    let credentials = match &username {
        Some(username) => app.store.credentials(username).await?,
        None => None,
    };
    let user_id = credentials.as_ref().map(|c| c.user_id);
    let verified = security::verify_password(password, credentials.map(|c| c.password_hash)).await?;
    let Some(user_id) = user_id.filter(|_| verified) else {
        attempt.failed();
        // Every node counts it, so the limits are the cluster's, not this node's.
        app.publish(BusMessage::LoginFailed { username: key.to_owned(), address: client }).await;
        tracing::info!(username = logged, client = %client, "login failed: invalid username or password");
        let tried = username.as_ref().map(|u| u.as_str().to_owned());
        audit::record(app, None, AuditAction::LoginFailed, tried, Some(client), serde_json::json!({})).await;
        return Err(AppError::Unauthorized("invalid username or password"));
    };
    attempt.succeeded();
    let token = security::issue_token();
    let session_id = SessionId(Uuid::now_v7());
    let session = NewSession { id: session_id, token_digest: token.digest, now: Timestamp::now() };
    app.store.create_session(user_id, session).await?;
    let user = app.store.user(user_id).await?.ok_or(AppError::Unauthorized("invalid username or password"))?;
    let details = serde_json::json!({"session_id": session_id.0});
    audit::record(app, Some(user_id), AuditAction::Login, None, Some(client), details).await;
    Ok(Authenticated { user: app.present_user(user), token: token.text })
}
