use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use crate::usecases::{current_membership, standing};
use hubbub_domain::policy;
use hubbub_domain::{ConversationId, Role, Timestamp, UserId};

/// Removes a member from a group or room: the owner and admins may remove others (an admin
/// not the owner, `policy::may_remove_member`), anyone may remove themselves (leave).
/// Removing someone who is not a member changes nothing. When the last holder of the top
/// role leaves (a group's last admin, a room's owner), succession fills it
/// (`rules::membership::heir`), so a conversation is never without one. The removed member
/// hears `member.removed` and keeps read access to the history up to that point; their
/// view (name, photo, topic, members) stays as it is now, whatever changes later.
pub async fn remove_member(app: &App, actor: Actor, id: ConversationId, user: UserId) -> AppResult<()> {
    let membership = current_membership(app, actor.user_id, id).await?;
    let me = standing(app, actor.user_id, id, &membership).await?;
    if user == actor.user_id {
        policy::may_leave(membership.kind, me)?;
    } else {
        // The target's role decides whether the caller outranks them; not being a member
        // is not an error (removing twice changes nothing).
        let target = app.store.membership(user, id).await?.filter(|m| m.is_current());
        let target_role = target.map_or(Role::Member, |m| m.role);
        policy::may_remove_member(membership.kind, me, target_role)?;
    }
    let outcome = app.store.remove_member(id, user, actor.user_id, Timestamp::now()).await?;
    if user != actor.user_id && matches!(outcome, crate::ports::RemoveOutcome::Removed { .. }) {
        let details = serde_json::json!({"user_id": user});
        let action = hubbub_domain::AuditAction::MemberRemoved;
        crate::usecases::admin::audit::record(app, Some(actor.user_id), action, Some(id.to_string()), None, details)
            .await;
    }
    Ok(())
}
