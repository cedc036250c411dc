use crate::App;
use crate::error::AppResult;
use crate::ports::{Actor, PhotoInput};
use crate::usecases::media::{delete_unreferenced, discard_refused, stored_names};
use crate::usecases::{current_membership, standing};
use hubbub_domain::policy;
use hubbub_domain::{Conversation, ConversationId, Timestamp};

/// Sets or removes a group's or room's photo (`policy::may_set_photo`), given a file already
/// stored by the media pipeline. The file that is no longer the photo is deleted after the
/// commit once nothing references it; if the change is refused, the new file is deleted
/// instead.
pub async fn set_photo(
    app: &App,
    actor: Actor,
    id: ConversationId,
    photo: Option<PhotoInput>,
) -> AppResult<Conversation> {
    let stored = stored_names(photo.as_ref(), None);
    let replaced = match change(app, actor, id, photo).await {
        Ok(replaced) => replaced,
        Err(error) => {
            discard_refused(app, &stored).await;
            return Err(error);
        }
    };
    delete_unreferenced(app, replaced).await;
    super::load(app, actor.user_id, id).await
}

async fn change(app: &App, actor: Actor, id: ConversationId, photo: Option<PhotoInput>) -> AppResult<Option<String>> {
    let membership = current_membership(app, actor.user_id, id).await?;
    policy::may_set_photo(membership.kind, standing(app, actor.user_id, id, &membership).await?)?;
    let (_committed, replaced) = app.store.set_group_photo(id, photo, actor.user_id, Timestamp::now()).await?;
    Ok(replaced)
}

/// Checks, before an upload is processed, that the caller may change this group's photo,
/// so a refused request never costs an image decode.
pub async fn authorize(app: &App, actor: Actor, id: ConversationId) -> AppResult<()> {
    let membership = current_membership(app, actor.user_id, id).await?;
    Ok(policy::may_set_photo(membership.kind, standing(app, actor.user_id, id, &membership).await?)?)
}
