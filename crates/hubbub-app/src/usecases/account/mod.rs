pub mod authenticate;
pub mod change_password;
pub mod login;
pub mod logout;
pub mod register;
pub mod sweep_sessions;
pub mod ws_ticket;

use hubbub_domain::User;

/// A signed-in user and the bearer token of the new session.
pub struct Authenticated {
    pub user: User,
    pub token: String,
}
