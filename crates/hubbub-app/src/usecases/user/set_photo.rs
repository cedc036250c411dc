use crate::App;
use crate::error::AppResult;
use crate::ports::{Actor, PhotoInput};
use hubbub_domain::User;

/// Sets (or with `None` removes) the caller's profile photo, given a file already stored by
/// the media pipeline. Returns the user and the replaced file, which the caller deletes once
/// nothing references it any more.
pub async fn set_photo(app: &App, actor: Actor, photo: Option<PhotoInput>) -> AppResult<(User, Option<String>)> {
    let (user, replaced) = app.store.set_user_photo(actor.user_id, photo).await?;
    let user = app.present_user(user);
    super::announce(app, &user).await;
    Ok((user, replaced))
}
