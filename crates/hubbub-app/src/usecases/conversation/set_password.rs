use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use crate::security;
use crate::usecases::{current_membership, standing};
use hubbub_domain::policy;
use hubbub_domain::{Conversation, ConversationId, Password, Timestamp};

/// Sets (8–256 characters, stored as an Argon2id hash) or removes (`None`) the password of
/// a public room (`policy::may_set_password`: its owner). Members hear
/// `conversation.updated` (`has_password`); the password itself is never shown again.
pub async fn set_password(
    app: &App,
    actor: Actor,
    id: ConversationId,
    password: Option<&str>,
) -> AppResult<Conversation> {
    let membership = current_membership(app, actor.user_id, id).await?;
    let access = app.store.conversation_access(id).await?.ok_or(AppError::NotFound("conversation"))?;
    policy::may_set_password(access.shape(), standing(app, actor.user_id, id, &membership).await?)?;
    let hash = match password {
        Some(password) => Some(security::hash_password(&Password::parse(password, "password")?).await?),
        None => None,
    };
    app.store.set_room_password(id, hash, Timestamp::now()).await?;
    super::load(app, actor.user_id, id).await
}
