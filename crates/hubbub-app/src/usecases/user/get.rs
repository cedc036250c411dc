use crate::App;
use crate::error::{AppError, AppResult};
use hubbub_domain::{User, UserId};

/// Any signed-in user may look up any user of the same tenant: profiles are the directory.
pub async fn get(app: &App, id: UserId) -> AppResult<User> {
    let user = app.store.user(id).await?.ok_or(AppError::NotFound("user"))?;
    Ok(app.present_user(user))
}

/// `get`, as `viewer` sees it: someone who blocks the viewer shows no presence.
pub async fn get_as(app: &App, viewer: UserId, id: UserId) -> AppResult<User> {
    let mut user = get(app, id).await?;
    if id != viewer {
        crate::rules::blocking::mask_presence(&mut user, &super::blockers_of(app, viewer).await?);
    }
    Ok(user)
}
