use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, RoomQuery};
use crate::usecases::{Sight, sight};
use hubbub_domain::{Conversation, ConversationId};

/// One conversation: a member's (or former member's) own view, or for someone who may see
/// it without being a member (a public room) its directory entry (`my_role` null, no
/// members listed). Anything else is 404.
pub async fn get(app: &App, actor: Actor, id: ConversationId) -> AppResult<Conversation> {
    match sight(app, actor.user_id, id).await? {
        Sight::Member => super::load(app, actor.user_id, id).await,
        Sight::Open => {
            let query = RoomQuery { text: String::new(), only: Some(id), limit: 1 };
            let entry = app.store.public_rooms(actor.user_id, query).await?.pop();
            let entry = entry.ok_or(AppError::NotFound("conversation"))?;
            Ok(super::present_entry(actor.user_id, entry))
        }
    }
}
