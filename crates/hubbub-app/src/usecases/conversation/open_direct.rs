use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use hubbub_domain::{Conversation, ConversationId, Timestamp, UserId};

/// Finds or creates the one direct conversation between the caller and `other`. Returns it
/// and whether it was created now. The store keeps one conversation per pair, even when
/// both people open it at the same moment. Someone `other` blocks may not (403).
pub async fn open_direct(app: &App, actor: Actor, other: UserId) -> AppResult<(Conversation, bool)> {
    if other == actor.user_id {
        return Err(AppError::validation("userId", "a direct conversation needs another person"));
    }
    if app.store.user(other).await?.is_none() {
        return Err(AppError::NotFound("user"));
    }
    let blocked_by_other: Vec<UserId> = app.store.blocked_users(other).await?.into_iter().map(|u| u.id).collect();
    if !crate::rules::blocking::may_open_direct(actor.user_id, &blocked_by_other) {
        return Err(AppError::Forbidden(crate::rules::blocking::BLOCKED));
    }
    let (id, committed) =
        app.store.open_direct(actor.user_id, other, ConversationId::generate(), Timestamp::now()).await?;
    Ok((super::load(app, actor.user_id, id).await?, committed.is_some()))
}
