use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use hubbub_domain::User;

/// Sets (or with `None` removes) the caller's profile photo, given a file already stored by
/// the media pipeline. Returns the user and the replaced file, which the caller deletes once
/// nothing references it any more.
pub async fn set_photo(
    app: &App,
    actor: Actor,
    media_name: Option<String>,
) -> AppResult<(User, Option<String>)> {
    let (user, replaced) = app.store.set_user_photo(actor.user_id, media_name).await?;
    let user = app.present_user(user);
    super::announce(app, &user).await;
    Ok((user, replaced))
}
