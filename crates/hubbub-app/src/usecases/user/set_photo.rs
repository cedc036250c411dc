use crate::App;
use crate::error::AppResult;
use crate::ports::{Actor, PhotoInput};
use crate::usecases::media::{delete_unreferenced, discard_refused, stored_names};
use hubbub_domain::User;

/// Sets (or with `None` removes) the caller's profile photo, given a file already stored by
/// the media pipeline. The replaced file, once nothing references it, is deleted after the
/// commit; if the change is refused, the new file is deleted instead.
pub async fn set_photo(app: &App, actor: Actor, photo: Option<PhotoInput>) -> AppResult<User> {
    let stored = stored_names(photo.as_ref(), None);
    let (user, replaced) = match app.store.set_user_photo(actor.user_id, photo).await {
        Ok(done) => done,
        Err(error) => {
            discard_refused(app, &stored).await;
            return Err(error.into());
        }
    };
    delete_unreferenced(app, replaced).await;
    let user = app.present_user(user);
    super::announce(app, &user).await;
    Ok(user)
}
