use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use crate::usecases::current_membership;
use hubbub_domain::{ConversationId, ConversationKind, MessageId, Role, Timestamp};

/// Deletes a message for everyone: its sender may, and so may a group's admins. The
/// message keeps its place as a tombstone. Deleting twice is not an error. Its photo, once
/// nothing else (a forwarded copy) references it, is deleted after the commit.
pub async fn delete(app: &App, actor: Actor, id: ConversationId, message: MessageId) -> AppResult<()> {
    let membership = current_membership(app, actor.user_id, id).await?;
    let meta = super::visible_meta(app, &membership, id, message).await?;
    let is_group_admin = membership.kind == ConversationKind::Group && membership.role == Role::Admin;
    if meta.sender_id != actor.user_id && !is_group_admin {
        return Err(AppError::Forbidden("only the sender or a group admin may delete a message"));
    }
    if meta.deleted {
        return Ok(());
    }
    let (_committed, orphan) = app.store.delete_message(id, message, Timestamp::now()).await?;
    crate::usecases::media::delete_unreferenced(app, orphan).await;
    Ok(())
}
