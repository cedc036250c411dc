use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, MediaAccess};
use crate::usecases::can_see;

/// Whether the caller may read a stored file. Profile and group photos: any signed-in
/// user. A message photo: whoever can see one of the messages it is in — a member who left
/// keeps what they could see before leaving. Anything else is 404 (no existence oracle).
pub async fn authorize_read(app: &App, actor: Actor, media_name: &str) -> AppResult<()> {
    match app.store.media_access(media_name).await? {
        Some(MediaAccess::AnySignedInUser) => Ok(()),
        Some(MediaAccess::Messages(places)) => {
            for (conversation, seq) in places {
                if let Some(membership) = app.store.membership(actor.user_id, conversation).await?
                    && can_see(&membership, seq)
                {
                    return Ok(());
                }
            }
            Err(AppError::NotFound("file"))
        }
        None => Err(AppError::NotFound("file")),
    }
}
