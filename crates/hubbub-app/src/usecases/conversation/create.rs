use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use hubbub_domain::{Conversation, UserId, Visibility};

/// What `POST /api/conversations` may create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewKind {
    Group,
    /// A standalone room (a channel with no space).
    Channel,
}

/// A new conversation as asked for: a group takes a name and `member_ids` (which may be
/// empty), a room also a visibility and optionally a topic and a password.
pub struct NewConversation {
    pub kind: NewKind,
    pub name: String,
    pub member_ids: Option<Vec<UserId>>,
    pub visibility: Option<Visibility>,
    pub topic: Option<String>,
    pub password: Option<String>,
}

/// Creates a group (`create_group`) or a room (`create_channel`). What only rooms have is
/// refused on a group (422 on the field), rather than silently dropped.
pub async fn create(app: &App, actor: Actor, new: NewConversation) -> AppResult<Conversation> {
    match new.kind {
        NewKind::Group => {
            let member_ids = new
                .member_ids
                .ok_or_else(|| AppError::validation("member_ids", "a group needs member_ids (may be empty)"))?;
            let room_fields = [
                ("visibility", new.visibility.is_some()),
                ("topic", new.topic.is_some()),
                ("password", new.password.is_some()),
            ];
            if let Some((field, _)) = room_fields.into_iter().find(|(_, given)| *given) {
                return Err(AppError::validation(field, "only rooms (kind \"channel\") have this"));
            }
            super::create_group::create_group(app, actor, &new.name, member_ids).await
        }
        NewKind::Channel => {
            let room = super::create_channel::NewRoom {
                name: new.name,
                visibility: new.visibility,
                topic: new.topic,
                password: new.password,
                member_ids: new.member_ids.unwrap_or_default(),
            };
            super::create_channel::create_channel(app, actor, room).await
        }
    }
}
