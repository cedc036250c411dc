use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use crate::usecases::current_membership;
use hubbub_domain::{Conversation, ConversationId, GroupName, Timestamp};

/// Renames a group (admins only); members hear `conversation.updated`.
pub async fn rename(app: &App, actor: Actor, id: ConversationId, name: &str) -> AppResult<Conversation> {
    let membership = current_membership(app, actor.user_id, id).await?;
    super::require_group_admin(&membership)?;
    let name = GroupName::parse(name)?;
    app.store.rename_group(id, name, Timestamp::now()).await?;
    super::load(app, actor.user_id, id).await
}
