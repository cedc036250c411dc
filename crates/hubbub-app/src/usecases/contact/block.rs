use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, StoreError};
use hubbub_domain::{Timestamp, User, UserId};

/// Blocks (`true`) or unblocks a user. A blocked user can no longer open or post in a
/// direct conversation with the caller, and hears nothing of the caller's presence or
/// typing (`rules::blocking`). Doing it twice changes nothing.
pub async fn set_blocked(app: &App, actor: Actor, user: UserId, blocked: bool) -> AppResult<()> {
    super::other_user(app, actor.user_id, user).await?;
    app.store.set_blocked(actor.user_id, user, blocked, Timestamp::now()).await.map_err(|e| match e {
        StoreError::NotFound => AppError::NotFound("user"),
        other => other.into(),
    })
}

/// The users the caller blocks, in the order blocked.
pub async fn blocked(app: &App, actor: Actor) -> AppResult<Vec<User>> {
    let users = app.store.blocked_users(actor.user_id).await?;
    Ok(users.into_iter().map(|u| app.present_user(u)).collect())
}
