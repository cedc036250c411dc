use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use crate::usecases::any_membership;
use hubbub_domain::{ConversationId, MessageId, UserReaction};

/// Who reacted with what, for a message the caller can see.
pub async fn reactions(
    app: &App,
    actor: Actor,
    id: ConversationId,
    message: MessageId,
) -> AppResult<Vec<UserReaction>> {
    let membership = any_membership(app, actor.user_id, id).await?;
    super::visible_meta(app, &membership, id, message).await?;
    Ok(app.store.reactions(id, message).await?)
}
