use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use crate::usecases::{current_membership, standing};
use hubbub_domain::policy;
use hubbub_domain::{ConversationId, MessageId, Timestamp};

/// Deletes a message for everyone: its sender may, and so may whom
/// `policy::may_delete_others_message` allows (a group's admins, a room's owner and
/// admins). The message keeps its place as a tombstone; the contract's Message has no field
/// for who removed it, so a removal by someone else is logged here (the audit log of a
/// later slice will record it). Deleting twice is not an error. Its photo or attached
/// file, once nothing else (a forwarded copy) references it, is deleted after the commit.
pub async fn delete(app: &App, actor: Actor, id: ConversationId, message: MessageId) -> AppResult<()> {
    let membership = current_membership(app, actor.user_id, id).await?;
    let meta = super::visible_meta(app, &membership, id, message).await?;
    let by_someone_else = meta.sender_id != actor.user_id;
    if by_someone_else {
        policy::may_delete_others_message(membership.kind, standing(app, actor.user_id, id, &membership).await?)?;
    }
    if meta.deleted {
        return Ok(());
    }
    let (_committed, orphan) = app.store.delete_message(id, message, Timestamp::now()).await?;
    if by_someone_else {
        tracing::info!(conversation = %id, %message, by = %actor.user_id, sender = %meta.sender_id, "message deleted by a moderator");
        let details = serde_json::json!({"conversation_id": id, "sender_id": meta.sender_id});
        let action = hubbub_domain::AuditAction::MessageDeletedByOther;
        crate::usecases::admin::audit::record(
            app,
            Some(actor.user_id),
            action,
            Some(message.to_string()),
            None,
            details,
        )
        .await;
    }
    crate::usecases::media::delete_unreferenced(app, orphan).await;
    Ok(())
}
