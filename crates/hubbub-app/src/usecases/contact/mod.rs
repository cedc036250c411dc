//! The caller's address book (contacts with their own aliases) and the users they block.
//! Both are private: nobody is told they were added, aliased or blocked.

pub mod block;
pub mod list;
pub mod remove;
pub mod set;

use crate::App;
use crate::error::{AppError, AppResult};
use hubbub_domain::UserId;

/// Contacts and blocks name another existing user.
pub(crate) async fn other_user(app: &App, me: UserId, other: UserId) -> AppResult<()> {
    if other == me {
        return Err(AppError::validation("userId", "must be someone else"));
    }
    if app.store.user(other).await?.is_none() {
        return Err(AppError::NotFound("user"));
    }
    Ok(())
}
