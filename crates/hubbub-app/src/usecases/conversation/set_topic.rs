use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use crate::usecases::{current_membership, standing};
use hubbub_domain::policy;
use hubbub_domain::{Conversation, ConversationId, Timestamp, Topic};

/// Sets the topic of a group or room (`policy::may_set_topic`; empty removes it); members
/// hear `conversation.updated`.
pub async fn set_topic(app: &App, actor: Actor, id: ConversationId, topic: &str) -> AppResult<Conversation> {
    let membership = current_membership(app, actor.user_id, id).await?;
    policy::may_set_topic(membership.kind, standing(app, actor.user_id, id, &membership).await?)?;
    let topic = Topic::parse(topic)?;
    app.store.set_topic(id, topic, actor.user_id, Timestamp::now()).await?;
    super::load(app, actor.user_id, id).await
}
