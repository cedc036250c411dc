use crate::App;
use crate::error::AppResult;
use crate::ports::{Actor, PhotoInput};
use crate::usecases::{current_membership, standing};
use hubbub_domain::policy;
use hubbub_domain::{Conversation, ConversationId, Timestamp};

/// Sets or removes a group's or room's photo (`policy::may_set_photo`). Returns the conversation and the file
/// that is no longer the group photo, for the caller to delete once unreferenced.
pub async fn set_photo(
    app: &App,
    actor: Actor,
    id: ConversationId,
    photo: Option<PhotoInput>,
) -> AppResult<(Conversation, Option<String>)> {
    let membership = current_membership(app, actor.user_id, id).await?;
    policy::may_set_photo(membership.kind, standing(&membership))?;
    let (_committed, replaced) = app.store.set_group_photo(id, photo, Timestamp::now()).await?;
    Ok((super::load(app, actor.user_id, id).await?, replaced))
}

/// Checks, before an upload is processed, that the caller may change this group's photo,
/// so a refused request never costs an image decode.
pub async fn authorize(app: &App, actor: Actor, id: ConversationId) -> AppResult<()> {
    let membership = current_membership(app, actor.user_id, id).await?;
    Ok(policy::may_set_photo(membership.kind, standing(&membership))?)
}
