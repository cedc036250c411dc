use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use crate::usecases::any_membership;
use hubbub_domain::{ConversationId, Message, MessageStatus};

/// The pinned messages of a conversation that the caller may see (a former member: those
/// of their stay), the latest pinned first.
pub async fn pins(app: &App, actor: Actor, id: ConversationId) -> AppResult<Vec<Message>> {
    let membership = any_membership(app, actor.user_id, id).await?;
    let mut messages = app.store.pinned_messages(id, membership).await?;
    if messages.iter().any(|m| m.sender_id == actor.user_id) {
        let view = app.store.conversation(actor.user_id, id).await?;
        for message in messages.iter_mut().filter(|m| m.sender_id == actor.user_id) {
            message.status = Some(match &view {
                Some(view) => MessageStatus::for_seq(message.seq, view.others_min_delivered, view.others_min_read),
                None => MessageStatus::Sent,
            });
        }
    }
    Ok(messages)
}
