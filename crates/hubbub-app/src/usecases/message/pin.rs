use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use crate::usecases::{current_membership, standing};
use hubbub_domain::policy;
use hubbub_domain::{ConversationId, MessageId, Timestamp};

/// Pins (`true`) or unpins a message, for whom `policy::may_pin` allows: either person of a
/// direct chat; elsewhere the owner and admins, and the admins of a channel's space. A pin
/// change is a change of the conversation: members hear `message.updated` with its own seq.
/// Pinning what is pinned (or unpinning what is not) changes nothing and is no error. A
/// deleted message cannot be pinned (409).
pub async fn set_pinned(
    app: &App,
    actor: Actor,
    id: ConversationId,
    message: MessageId,
    pinned: bool,
) -> AppResult<()> {
    let membership = current_membership(app, actor.user_id, id).await?;
    let meta = super::visible_meta(app, &membership, id, message).await?;
    policy::may_pin(membership.kind, standing(app, actor.user_id, id, &membership).await?)?;
    if meta.deleted {
        return Err(AppError::Conflict("the message was deleted".into()));
    }
    app.store.set_pinned(id, message, pinned, Timestamp::now()).await?;
    Ok(())
}
