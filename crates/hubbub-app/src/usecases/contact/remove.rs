use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use hubbub_domain::UserId;

/// Removes a user from the caller's contacts; removing someone who is not there changes
/// nothing (an unknown user is still 404).
pub async fn remove(app: &App, actor: Actor, user: UserId) -> AppResult<()> {
    super::other_user(app, actor.user_id, user).await?;
    app.store.delete_contact(actor.user_id, user).await?;
    Ok(())
}
