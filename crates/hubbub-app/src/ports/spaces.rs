//! The port's types for spaces (`Store::create_space`, `spaces`, `space_members`,
//! `space_channels`, `add_space_members`).

use hubbub_domain::{ConversationId, GroupName, SpaceId, Timestamp, UserId};

/// A new space with its creator as owner, and its public channel `general` (id `general`),
/// which the creator owns and every initial member is in.
pub struct NewSpace {
    pub id: SpaceId,
    pub creator: UserId,
    pub name: GroupName,
    /// At most 250 characters, `""` for none (the use case checks).
    pub description: String,
    pub member_ids: Vec<UserId>,
    pub general: ConversationId,
    pub now: Timestamp,
}

/// What adding people to a space did: who was new to it (those already in it are left
/// as they are), and the committed events of its `general` channel.
#[derive(Debug, Default)]
pub struct SpaceMembersAdded {
    pub added: Vec<UserId>,
    pub general: Option<super::AddedMembers>,
}
