//! What the account use cases hand the store: new accounts and sessions, credentials, a profile change.

use super::*;

pub struct NewAccount {
    pub id: UserId,
    pub username: Username,
    pub display_name: String,
    pub password_hash: String,
    pub now: Timestamp,
}

pub struct NewSession {
    pub id: SessionId,
    pub token_digest: TokenDigest,
    pub now: Timestamp,
}

pub struct Credentials {
    pub user_id: UserId,
    pub password_hash: String,
}

#[derive(Default)]
pub struct ProfilePatch {
    pub username: Option<Username>,
    pub display_name: Option<String>,
    pub about: Option<String>,
}
