use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use hubbub_domain::Conversation;

/// The caller's conversations, pinned ones first (in the order pinned), then by most recent
/// activity, less those the caller hid: the current ones, and those they left as they were
/// when they left (see `ConversationView`).
pub async fn list(app: &App, actor: Actor) -> AppResult<Vec<Conversation>> {
    let views = app.store.list_conversations(actor.user_id).await?;
    let blockers = crate::usecases::user::blockers_of(app, actor.user_id).await?;
    Ok(views
        .into_iter()
        .map(|view| {
            let mut conversation = super::present(app, actor.user_id, view);
            crate::usecases::user::mask_members(&mut conversation, &blockers);
            conversation
        })
        .collect())
}
