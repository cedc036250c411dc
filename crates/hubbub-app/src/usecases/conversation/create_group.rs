use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, NewGroup};
use hubbub_domain::{Conversation, ConversationId, GroupName, Timestamp, UserId};

/// Creates a group with the caller as its admin. Duplicates and the caller's own id in
/// `member_ids` are ignored; an unknown id is 422. Every initial member (the creator
/// included, on all devices) receives `conversation.created`.
pub async fn create_group(app: &App, actor: Actor, name: &str, member_ids: Vec<UserId>) -> AppResult<Conversation> {
    let name = GroupName::parse(name)?;
    let members = initial_members(app, actor.user_id, member_ids)?;
    let id = ConversationId::generate();
    app.store
        .create_group(NewGroup { id, creator: actor.user_id, name, member_ids: members, now: Timestamp::now() })
        .await?;
    super::load(app, actor.user_id, id).await
}

/// The other initial members of a new group or room: without duplicates or the creator,
/// within the member limit (the creator counts).
pub(crate) fn initial_members(app: &App, creator: UserId, member_ids: Vec<UserId>) -> AppResult<Vec<UserId>> {
    let mut members: Vec<UserId> = Vec::with_capacity(member_ids.len());
    for id in member_ids {
        if id != creator && !members.contains(&id) {
            members.push(id);
        }
    }
    if members.len() + 1 > app.limits.group_members_max {
        return Err(AppError::validation(
            "member_ids",
            format!("a conversation has at most {} members", app.limits.group_members_max),
        ));
    }
    Ok(members)
}
