use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use crate::usecases::current_membership;
use hubbub_domain::{ConversationId, Message, MessageId, MessageText, Timestamp};

/// Edits the text of the caller's own message; the text it replaces is kept (its history).
/// A deleted message cannot be edited (409). A changed first link changes its link preview
/// (`link_preview::after_edit`).
pub async fn edit(app: &App, actor: Actor, id: ConversationId, message: MessageId, text: &str) -> AppResult<Message> {
    let membership = current_membership(app, actor.user_id, id).await?;
    let meta = super::visible_meta(app, &membership, id, message).await?;
    if meta.sender_id != actor.user_id {
        return Err(AppError::Forbidden("only the sender may edit a message"));
    }
    if meta.deleted {
        return Err(AppError::Conflict("the message was deleted".into()));
    }
    // A photo message may have its caption emptied; the store keeps the photo.
    let text = MessageText::parse(text, app.limits.message_text_max, false)?;
    // Mentions are resolved again: an edit may add or take away names.
    let mentions = super::mentions::resolve(app, actor.user_id, id, Some(membership.kind), text.as_str()).await?;
    // The text it had, to tell whether the edit changed its first link (its preview).
    let old_text = app.store.message_content(id, message).await?.map(|m| m.text).unwrap_or_default();
    let (edited, _committed) = app.store.edit_message(id, message, text, mentions, Timestamp::now()).await?;
    let edited = super::link_preview::after_edit(app, &old_text, edited).await?;
    super::with_status(app, actor.user_id, id, edited).await
}
