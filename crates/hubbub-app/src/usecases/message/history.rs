use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use crate::usecases::any_membership;
use hubbub_domain::{ConversationId, MessageId, MessageVersion};

/// The earlier versions of a message's text, oldest first, for whoever may see the message
/// (404 otherwise). Each edit kept the text it replaced; a deleted message has none.
pub async fn history(
    app: &App,
    actor: Actor,
    id: ConversationId,
    message: MessageId,
) -> AppResult<Vec<MessageVersion>> {
    let membership = any_membership(app, actor.user_id, id).await?;
    super::visible_meta(app, &membership, id, message).await?;
    Ok(app.store.message_versions(id, message).await?)
}
