use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use crate::usecases::{current_membership, standing};
use hubbub_domain::policy;
use hubbub_domain::{ConversationId, Timestamp};

/// Deletes a group or room for everyone (`policy::may_delete_conversation`: a group's
/// admins, a room's owner). Its current members hear `conversation.deleted`; from then on
/// it is in nobody's list and everything about it is 404. The rows stay (soft delete).
pub async fn delete(app: &App, actor: Actor, id: ConversationId) -> AppResult<()> {
    let membership = current_membership(app, actor.user_id, id).await?;
    policy::may_delete_conversation(membership.kind, standing(app, actor.user_id, id, &membership).await?)?;
    app.store.delete_conversation(id, actor.user_id, Timestamp::now()).await?;
    let details = serde_json::json!({"kind": membership.kind.as_str()});
    let action = hubbub_domain::AuditAction::ConversationDeleted;
    crate::usecases::admin::audit::record(app, Some(actor.user_id), action, Some(id.to_string()), None, details).await;
    Ok(())
}
