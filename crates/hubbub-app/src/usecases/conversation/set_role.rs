use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, RoleChange, StoreError};
use crate::usecases::{current_membership, standing};
use hubbub_domain::policy;
use hubbub_domain::{ConversationId, Role, Timestamp, UserId};

/// Changes a current member's role (`policy::may_change_role`): a room's owner gives any
/// role, and giving `owner` hands ownership over (the giver becomes an admin); admins move
/// people between `member` and `admin`. A change that would leave nobody in the top role
/// (the last admin of a group making themself a member) is 409. Members hear one
/// `member.updated` per role that changed; setting the role someone has changes nothing.
pub async fn set_role(app: &App, actor: Actor, id: ConversationId, user: UserId, role: Role) -> AppResult<()> {
    let membership = current_membership(app, actor.user_id, id).await?;
    let target =
        app.store.membership(user, id).await?.filter(|m| m.is_current()).ok_or(AppError::NotFound("member"))?;
    policy::may_change_role(membership.kind, standing(app, actor.user_id, id, &membership).await?, target.role, role)?;
    let change = RoleChange { by: actor.user_id, user, role };
    app.store.set_member_role(id, change, Timestamp::now()).await.map_err(|e| match e {
        StoreError::NotFound => AppError::NotFound("member"),
        other => other.into(),
    })?;
    let details = serde_json::json!({"user_id": user, "role": role.as_str()});
    crate::usecases::admin::audit::record(
        app,
        Some(actor.user_id),
        hubbub_domain::AuditAction::RoleChanged,
        Some(id.to_string()),
        None,
        details,
    )
    .await;
    Ok(())
}
