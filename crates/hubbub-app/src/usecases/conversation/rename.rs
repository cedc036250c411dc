use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use crate::usecases::{current_membership, standing};
use hubbub_domain::policy;
use hubbub_domain::{Conversation, ConversationId, GroupName, Timestamp};

/// Renames a group or room (`policy::may_rename`); members hear `conversation.updated`.
pub async fn rename(app: &App, actor: Actor, id: ConversationId, name: &str) -> AppResult<Conversation> {
    let membership = current_membership(app, actor.user_id, id).await?;
    policy::may_rename(membership.kind, standing(app, actor.user_id, id, &membership).await?)?;
    let name = GroupName::parse(name)?;
    app.store.rename_group(id, name, actor.user_id, Timestamp::now()).await?;
    super::load(app, actor.user_id, id).await
}
