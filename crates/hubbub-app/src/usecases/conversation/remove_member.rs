use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, RemoveOutcome};
use crate::usecases::current_membership;
use hubbub_domain::{ConversationId, ConversationKind, Timestamp, UserId};

/// Removes a member from a group: admins may remove anyone, anyone may remove themselves
/// (leave). Removing someone who is not a member changes nothing. When the last admin
/// leaves, the longest-standing remaining member becomes admin, so a group is never
/// without one. The removed member hears `member.removed` and keeps read access to the
/// history up to that point.
pub async fn remove_member(app: &App, actor: Actor, id: ConversationId, user: UserId) -> AppResult<()> {
    let membership = current_membership(app, actor.user_id, id).await?;
    if membership.kind == ConversationKind::Direct {
        return Err(AppError::validation("conversation", "direct conversations have no members to remove"));
    }
    if user != actor.user_id {
        super::require_group_admin(&membership)?;
    }
    match app.store.remove_member(id, user, Timestamp::now()).await? {
        RemoveOutcome::NotAMember => Ok(()),
        RemoveOutcome::Removed { committed, promoted } => {
            app.publish(&committed).await;
            if let Some(promoted) = promoted {
                app.publish(&promoted).await;
            }
            Ok(())
        }
    }
}
