use super::Authenticated;
use crate::error::{AppError, AppResult};
use crate::ports::{BusMessage, NewAccount, NewSession, SessionId};
use crate::{App, security};
use hubbub_domain::{DisplayName, Password, Timestamp, UserId, Username};
use std::net::IpAddr;
use std::time::Instant;
use uuid::Uuid;

pub struct RegisterInput {
    pub username: String,
    pub password: String,
    pub display_name: Option<String>,
}

/// Creates an account and signs it in. The display name defaults to the username.
///
/// Registrations are limited per client address (`RateLimits::registrations_per_address`,
/// 10 an hour by default). Every well-formed attempt counts, a taken username too: each
/// costs an Argon2 hash, and a 409 tells whether a name exists. Malformed input is a 422
/// without counting, since it costs nothing and tells nothing.
pub async fn register(app: &App, input: RegisterInput, client: IpAddr) -> AppResult<Authenticated> {
    let username = Username::parse(&input.username)?;
    let password = Password::parse(&input.password, "password")?;
    let display_name = match input.display_name.as_deref() {
        Some(name) => DisplayName::parse(name)?.into_string(),
        None => username.as_str().to_owned(),
    };
    if let Err(retry_after_secs) = app.registration_limiter.try_acquire(client, Instant::now()) {
        tracing::warn!(client = %client, retry_after_secs, "registration refused: too many from this address (429)");
        return Err(AppError::RateLimited { retry_after_secs });
    }
    // Counted on every node, so the limit is the cluster's.
    app.publish(BusMessage::Registered { address: client }).await;
    let password_hash = security::hash_password(&password).await?;
    let token = security::issue_token();
    let now = Timestamp::now();
    let account = NewAccount { id: UserId::generate(), username, display_name, password_hash, now };
    let session = NewSession { id: SessionId(Uuid::now_v7()), token_digest: token.digest, now };
    let user = app.store.create_account(account, session).await?;
    Ok(Authenticated { user: app.present_user(user), token: token.text })
}
