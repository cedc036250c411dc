//! The port's types for channels and rooms (`Store::create_channel`, `conversation_access`,
//! `public_rooms`, `set_member_role`).

use hubbub_domain::policy::Shape;
use hubbub_domain::{
    ConversationId, ConversationKind, ConversationSnapshot, GroupName, Role, Timestamp, Topic, UserId, Visibility,
};
use uuid::Uuid;

/// A new channel: of a space, or with none (a standalone room). Its creator is its owner.
pub struct NewChannel {
    pub id: ConversationId,
    /// The space it belongs to (the use case checked the creator may add one there).
    pub space: Option<hubbub_domain::SpaceId>,
    pub creator: UserId,
    pub name: GroupName,
    pub visibility: Visibility,
    pub topic: Topic,
    /// Argon2id hash of the join password (public rooms only; the use case decides).
    pub password_hash: Option<String>,
    pub member_ids: Vec<UserId>,
    pub now: Timestamp,
}

/// What may be known of a conversation before being a member of it: whether it is open
/// (a public room anyone may see and join) and what joining it asks for.
#[derive(Clone)]
pub struct Access {
    pub kind: ConversationKind,
    pub visibility: Visibility,
    /// The space of a channel.
    pub space_id: Option<Uuid>,
    /// Argon2id hash of the join password, if the room has one.
    pub password_hash: Option<String>,
    pub member_count: i64,
}

impl Access {
    pub fn shape(&self) -> Shape {
        Shape { kind: self.kind, visibility: self.visibility, in_space: self.space_id.is_some() }
    }
}

impl std::fmt::Debug for Access {
    // The hash is a secret at rest: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("kind", &self.kind)
            .field("visibility", &self.visibility)
            .field("space_id", &self.space_id)
            .field("has_password", &self.password_hash.is_some())
            .field("member_count", &self.member_count)
            .finish()
    }
}

/// A public room as the directory lists it: the conversation as it now is but without its
/// member list (`members` empty; `room.member_count` counts them), and the caller's role
/// when they are a current member.
#[derive(Clone, Debug)]
pub struct RoomEntry {
    pub snapshot: ConversationSnapshot,
    pub my_role: Option<Role>,
}

/// Which open rooms to list: those whose name contains `text` (empty: all), or only the
/// one with this id; at most `limit`.
#[derive(Clone, Debug)]
pub struct RoomQuery {
    pub text: String,
    pub only: Option<ConversationId>,
    pub limit: u32,
}

/// A change of one member's role, asked for by `by` (whom the use case allowed to).
#[derive(Clone, Copy, Debug)]
pub struct RoleChange {
    pub by: UserId,
    pub user: UserId,
    pub role: Role,
}
