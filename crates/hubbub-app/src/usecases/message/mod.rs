pub mod delete;
pub mod edit;
pub mod events;
pub mod forward;
pub mod history;
pub mod link_preview;
pub mod list;
pub mod mentioned;
pub mod mentions;
pub mod pin;
pub mod pins;
pub mod react;
pub mod reactions;
pub mod receipts;
pub mod search;
pub mod send;

use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Membership, MessageMeta};
use crate::usecases::can_see;
use hubbub_domain::{ConversationId, Message, MessageId, MessageStatus, UserId};

/// The message, if it exists in this conversation and lies inside the caller's view.
pub(crate) async fn visible_meta(
    app: &App,
    membership: &Membership,
    id: ConversationId,
    message: MessageId,
) -> AppResult<MessageMeta> {
    let meta = app.store.message_meta(id, message).await?.ok_or(AppError::NotFound("message"))?;
    if can_see(membership, meta.seq) { Ok(meta) } else { Err(AppError::NotFound("message")) }
}

/// Gives one of the caller's own messages its current status.
pub(crate) async fn with_status(app: &App, me: UserId, id: ConversationId, mut message: Message) -> AppResult<Message> {
    if message.sender_id == me {
        let view = app.store.conversation(me, id).await?;
        message.status = Some(match view {
            Some(view) => MessageStatus::for_seq(message.seq, view.others_min_delivered, view.others_min_read),
            None => MessageStatus::Sent,
        });
    }
    Ok(message)
}
