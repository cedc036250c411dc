use crate::App;
use crate::error::{AppError, AppResult};
use hubbub_domain::{User, UserId};

/// Any signed-in user may look up any user of the same tenant: profiles are the directory.
pub async fn get(app: &App, id: UserId) -> AppResult<User> {
    let user = app.store.user(id).await?.ok_or(AppError::NotFound("user"))?;
    Ok(app.present_user(user))
}
