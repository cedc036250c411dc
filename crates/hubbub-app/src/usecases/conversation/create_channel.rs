use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, NewChannel};
use crate::security;
use hubbub_domain::policy::{self, Shape};
use hubbub_domain::{
    Conversation, ConversationId, ConversationKind, GroupName, Password, SpaceId, Timestamp, Topic, UserId, Visibility,
};

/// What a new room is made of, as the caller asked for it.
pub struct NewRoom {
    pub name: String,
    /// Required: a room is public (listed, anyone may join) or private (by invitation).
    pub visibility: Option<Visibility>,
    pub topic: Option<String>,
    /// Only for public rooms (`policy::takes_password`); stored as an Argon2id hash.
    pub password: Option<String>,
    pub member_ids: Vec<UserId>,
}

/// Creates a standalone room (a channel with no space) with the caller as its owner.
/// Duplicates and the caller's own id in `member_ids` are ignored; an unknown id is 422.
/// Every initial member receives `conversation.created`.
pub async fn create_channel(app: &App, actor: Actor, room: NewRoom) -> AppResult<Conversation> {
    create_in(app, actor, room, None).await
}

/// Creates a channel, of `space` (whose rules the caller checked: `usecases::space::channels`)
/// or with none (a room). A space's channels take no password.
pub(crate) async fn create_in(
    app: &App,
    actor: Actor,
    room: NewRoom,
    space: Option<SpaceId>,
) -> AppResult<Conversation> {
    let name = GroupName::parse(&room.name)?;
    let visibility = room.visibility.ok_or_else(|| AppError::validation("visibility", "must be public or private"))?;
    let topic = room.topic.as_deref().map(Topic::parse).transpose()?.unwrap_or_else(Topic::empty);
    let shape = Shape { kind: ConversationKind::Channel, visibility, in_space: space.is_some() };
    let password_hash = match room.password {
        None => None,
        Some(_) if !policy::takes_password(shape) => {
            return Err(AppError::validation("password", "only public rooms have a password"));
        }
        Some(password) => Some(security::hash_password(&Password::parse(&password, "password")?).await?),
    };
    let member_ids = crate::usecases::conversation::create_group::initial_members(app, actor.user_id, room.member_ids)?;
    let id = ConversationId::generate();
    app.store
        .create_channel(NewChannel {
            id,
            space,
            creator: actor.user_id,
            name,
            visibility,
            topic,
            password_hash,
            member_ids,
            now: Timestamp::now(),
        })
        .await?;
    super::load(app, actor.user_id, id).await
}
