use super::Authenticated;
use crate::error::AppResult;
use crate::ports::{NewAccount, NewSession, SessionId};
use crate::{App, security};
use hubbub_domain::{DisplayName, Password, Timestamp, UserId, Username};
use uuid::Uuid;

pub struct RegisterInput {
    pub username: String,
    pub password: String,
    pub display_name: Option<String>,
}

/// Creates an account and signs it in. The display name defaults to the username.
pub async fn register(app: &App, input: RegisterInput) -> AppResult<Authenticated> {
    let username = Username::parse(&input.username)?;
    let password = Password::parse(&input.password, "password")?;
    let display_name = match input.display_name.as_deref() {
        Some(name) => DisplayName::parse(name)?.into_string(),
        None => username.as_str().to_owned(),
    };
    let password_hash = security::hash_password(&password).await?;
    let token = security::issue_token();
    let now = Timestamp::now();
    let account = NewAccount { id: UserId::generate(), username, display_name, password_hash, now };
    let session = NewSession { id: SessionId(Uuid::now_v7()), token_digest: token.digest, now };
    let user = app.store.create_account(account, session).await?;
    Ok(Authenticated { user: app.present_user(user), token: token.text })
}
