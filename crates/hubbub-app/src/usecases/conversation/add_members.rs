use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use crate::usecases::{current_membership, standing};
use hubbub_domain::policy;
use hubbub_domain::{Conversation, ConversationId, Timestamp, UserId};

/// Adds people to a group or room (its owner and admins; `policy::may_add_members`); to a
/// space's channel, only members of the space (422 otherwise). Adding a current member again changes nothing.
/// New members receive `conversation.created`; existing members receive `member.added`.
/// A former member added back sees the group as it is again, so the photo kept for their
/// old view may be referenced no more: such files are deleted after the commit.
pub async fn add_members(
    app: &App,
    actor: Actor,
    id: ConversationId,
    user_ids: Vec<UserId>,
) -> AppResult<Conversation> {
    let membership = current_membership(app, actor.user_id, id).await?;
    policy::may_add_members(membership.kind, standing(app, actor.user_id, id, &membership).await?)?;
    if user_ids.is_empty() {
        return Err(AppError::validation("user_ids", "must name at least one user"));
    }
    let mut unique: Vec<UserId> = Vec::with_capacity(user_ids.len());
    for user in user_ids {
        if !unique.contains(&user) {
            unique.push(user);
        }
    }
    // A space's channels hold members of the space only.
    if let Some(space) = app.store.conversation_access(id).await?.and_then(|a| a.space_id) {
        let members = crate::usecases::space::member_ids(app, hubbub_domain::SpaceId(space)).await?;
        if unique.iter().any(|user| !members.contains(user)) {
            return Err(AppError::validation("user_ids", "every member of a space's channel must be in the space"));
        }
    }
    // The exact count of new members is only known inside the transaction; this bound is
    // conservative for re-adds and exact otherwise.
    if membership.member_count as usize + unique.len() > app.limits.group_members_max {
        let room = app.limits.group_members_max.saturating_sub(membership.member_count as usize);
        let already = count_already_members(app, id, &unique).await?;
        if unique.len() - already > room {
            return Err(AppError::validation(
                "user_ids",
                format!("a group has at most {} members", app.limits.group_members_max),
            ));
        }
    }
    let added = app.store.add_members(id, unique, actor.user_id, Timestamp::now()).await?;
    crate::usecases::media::delete_unreferenced(app, added.unreferenced).await;
    super::load(app, actor.user_id, id).await
}

async fn count_already_members(app: &App, id: ConversationId, users: &[UserId]) -> AppResult<usize> {
    let members = app.store.member_ids(id).await?;
    Ok(users.iter().filter(|u| members.contains(u)).count())
}
