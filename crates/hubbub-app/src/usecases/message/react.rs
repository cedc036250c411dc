use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use crate::usecases::current_membership;
use hubbub_domain::{ConversationId, Emoji, MessageId, Timestamp};

/// Sets the caller's one reaction on a message (replacing any earlier one), or with `None`
/// removes it. Reacting to a deleted message is 409. Members hear `message.updated`.
pub async fn react(
    app: &App,
    actor: Actor,
    id: ConversationId,
    message: MessageId,
    emoji: Option<&str>,
) -> AppResult<()> {
    let emoji = emoji.map(Emoji::parse).transpose()?;
    let membership = current_membership(app, actor.user_id, id).await?;
    let meta = super::visible_meta(app, &membership, id, message).await?;
    if meta.deleted {
        return Err(AppError::Conflict("the message was deleted".into()));
    }
    app.store.set_reaction(actor.user_id, id, message, emoji, Timestamp::now()).await?;
    Ok(())
}
