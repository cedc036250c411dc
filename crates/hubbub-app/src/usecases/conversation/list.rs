use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use hubbub_domain::Conversation;

/// The caller's conversations, most recent activity first: the current ones, and those they
/// left as they were when they left (see `ConversationView`).
pub async fn list(app: &App, actor: Actor) -> AppResult<Vec<Conversation>> {
    let views = app.store.list_conversations(actor.user_id).await?;
    Ok(views.into_iter().map(|view| super::present(app, actor.user_id, view)).collect())
}
