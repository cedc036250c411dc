use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use crate::usecases::current_membership;
use hubbub_domain::{ConversationId, ConversationKind, MessageId, Role, Timestamp};

/// Deletes a message for everyone: its sender may, and so may a group's admins. The
/// message keeps its place as a tombstone. Deleting twice is not an error. Returns the
/// photo the message no longer references, for the caller to remove from storage once
/// nothing else (a forwarded copy) references it.
pub async fn delete(app: &App, actor: Actor, id: ConversationId, message: MessageId) -> AppResult<Option<String>> {
    let membership = current_membership(app, actor.user_id, id).await?;
    let meta = super::visible_meta(app, &membership, id, message).await?;
    let is_group_admin = membership.kind == ConversationKind::Group && membership.role == Role::Admin;
    if meta.sender_id != actor.user_id && !is_group_admin {
        return Err(AppError::Forbidden("only the sender or a group admin may delete a message"));
    }
    if meta.deleted {
        return Ok(None);
    }
    let (_committed, orphan) = app.store.delete_message(id, message, Timestamp::now()).await?;
    Ok(orphan)
}
