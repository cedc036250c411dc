use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use crate::usecases::current_membership;
use hubbub_domain::{ConversationId, ConversationKind, Timestamp, UserId};

/// Removes a member from a group: admins may remove anyone, anyone may remove themselves
/// (leave). Removing someone who is not a member changes nothing. When the last admin
/// leaves, the longest-standing remaining member becomes admin, so a group is never
/// without one. The removed member hears `member.removed` and keeps read access to the
/// history up to that point; their view of the group (name, photo, members) stays as it is
/// now, whatever changes later.
pub async fn remove_member(app: &App, actor: Actor, id: ConversationId, user: UserId) -> AppResult<()> {
    let membership = current_membership(app, actor.user_id, id).await?;
    if membership.kind == ConversationKind::Direct {
        return Err(AppError::validation("conversation", "direct conversations have no members to remove"));
    }
    if user != actor.user_id {
        super::require_group_admin(&membership)?;
    }
    // Not being a member already is not an error: removing twice changes nothing.
    app.store.remove_member(id, user, Timestamp::now()).await?;
    Ok(())
}
