use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use crate::usecases::any_membership;
use hubbub_domain::{ConversationId, MessageId, Receipt};

/// When each other member received and read one of the caller's messages ("message info").
/// Only the sender may ask: who read what, and when, is the sender's business alone.
pub async fn receipts(app: &App, actor: Actor, id: ConversationId, message: MessageId) -> AppResult<Vec<Receipt>> {
    let membership = any_membership(app, actor.user_id, id).await?;
    let meta = super::visible_meta(app, &membership, id, message).await?;
    if meta.sender_id != actor.user_id {
        return Err(AppError::Forbidden("only the sender may see a message's receipts"));
    }
    Ok(app.store.receipts(id, message).await?)
}
