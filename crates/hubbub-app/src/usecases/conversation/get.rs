use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use hubbub_domain::{Conversation, ConversationId};

pub async fn get(app: &App, actor: Actor, id: ConversationId) -> AppResult<Conversation> {
    super::load(app, actor.user_id, id).await
}
