//! Events: what the server tells devices. The same value is stored in the conversation's
//! event log (for `/events?after=`) and pushed over WebSockets, serialised once.

use crate::{
    ChatSettings, ConversationId, ConversationSnapshot, Marks, Member, Message, Role, SpaceId, SpaceMember, Timestamp,
    User, UserId,
};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    #[serde(flatten)]
    pub data: EventData,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ConversationId>,
    /// Present on persisted changes; ephemeral events (typing, receipts, presence) have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    /// Who made the change, on a group's or room's own events (`conversation.updated`,
    /// `member.added`, `member.removed`, `member.updated`), so a timeline can say "Alice
    /// renamed the group"; absent on changes nobody made (an heir promoted by succession)
    /// and on events stored before it existed. An extension (docs/api-extensions.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<UserId>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TypingData {
    pub user_id: UserId,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PresenceData {
    pub user_id: UserId,
    pub online: bool,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_seen_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberRemovedData {
    pub user_id: UserId,
}

/// A member's role changed (`member.updated`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberUpdatedData {
    pub user_id: UserId,
    pub role: Role,
}

/// The conversation was deleted for everyone (`conversation.deleted`): it leaves every list
/// and its history is no longer served.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationDeletedData {
    /// Who deleted it.
    pub deleted_by: UserId,
}

/// A user's settings for one conversation changed; sent to that user's devices only.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsUpdatedData {
    pub conversation_id: ConversationId,
    pub settings: ChatSettings,
}

/// A space as everyone in it is told of it (`space.created`, `space.updated`): the same for
/// every recipient, so without anyone's own role.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpaceData {
    pub id: SpaceId,
    pub name: String,
    pub description: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub photo_url: Option<String>,
    pub member_count: i64,
    pub created_at: Timestamp,
}

/// The space is gone (`space.deleted`); its channels each get `conversation.deleted`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpaceDeletedData {
    pub space_id: SpaceId,
    pub deleted_by: UserId,
}

/// Someone joined the space, or was added (`space.member_added`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpaceMemberAddedData {
    pub space_id: SpaceId,
    pub member: SpaceMember,
}

/// Someone left the space or was removed (`space.member_removed`); the removed user hears
/// it too, and their channels of the space each get `member.removed`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpaceMemberRemovedData {
    pub space_id: SpaceId,
    pub user_id: UserId,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "data")]
pub enum EventData {
    #[serde(rename = "message.created")]
    MessageCreated(Message),
    /// An edit, a delete or a change of reactions: the message as it now is.
    #[serde(rename = "message.updated")]
    MessageUpdated(Message),
    /// A member joined or was added; without presence (`EventMember`).
    #[serde(rename = "member.added", serialize_with = "crate::entities::event_member::one")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::entities::EventMember))]
    MemberAdded(Member),
    #[serde(rename = "member.removed")]
    MemberRemoved(MemberRemovedData),
    #[serde(rename = "conversation.created")]
    ConversationCreated(ConversationSnapshot),
    #[serde(rename = "conversation.updated")]
    ConversationUpdated(ConversationSnapshot),
    #[serde(rename = "member.updated")]
    MemberUpdated(MemberUpdatedData),
    #[serde(rename = "conversation.deleted")]
    ConversationDeleted(ConversationDeletedData),
    #[serde(rename = "receipt.updated")]
    ReceiptUpdated(Marks),
    #[serde(rename = "typing")]
    Typing(TypingData),
    #[serde(rename = "presence")]
    Presence(PresenceData),
    #[serde(rename = "user.updated")]
    UserUpdated(User),
    #[serde(rename = "settings.updated")]
    SettingsUpdated(SettingsUpdatedData),
    #[serde(rename = "space.created")]
    SpaceCreated(SpaceData),
    #[serde(rename = "space.updated")]
    SpaceUpdated(SpaceData),
    #[serde(rename = "space.deleted")]
    SpaceDeleted(SpaceDeletedData),
    #[serde(rename = "space.member_added")]
    SpaceMemberAdded(SpaceMemberAddedData),
    #[serde(rename = "space.member_removed")]
    SpaceMemberRemoved(SpaceMemberRemovedData),
}

impl EventData {
    /// The event's `type` on the wire (the serde tag above), e.g. for storing it in a column.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventData::MessageCreated(_) => "message.created",
            EventData::MessageUpdated(_) => "message.updated",
            EventData::MemberAdded(_) => "member.added",
            EventData::MemberRemoved(_) => "member.removed",
            EventData::ConversationCreated(_) => "conversation.created",
            EventData::ConversationUpdated(_) => "conversation.updated",
            EventData::MemberUpdated(_) => "member.updated",
            EventData::ConversationDeleted(_) => "conversation.deleted",
            EventData::ReceiptUpdated(_) => "receipt.updated",
            EventData::Typing(_) => "typing",
            EventData::Presence(_) => "presence",
            EventData::UserUpdated(_) => "user.updated",
            EventData::SettingsUpdated(_) => "settings.updated",
            EventData::SpaceCreated(_) => "space.created",
            EventData::SpaceUpdated(_) => "space.updated",
            EventData::SpaceDeleted(_) => "space.deleted",
            EventData::SpaceMemberAdded(_) => "space.member_added",
            EventData::SpaceMemberRemoved(_) => "space.member_removed",
        }
    }
}

impl Event {
    pub fn persisted(conversation_id: ConversationId, seq: i64, data: EventData) -> Self {
        Self { data, conversation_id: Some(conversation_id), seq: Some(seq), actor_id: None }
    }

    pub fn ephemeral(conversation_id: Option<ConversationId>, data: EventData) -> Self {
        Self { data, conversation_id, seq: None, actor_id: None }
    }

    /// The same event, saying who made the change (`None`: nobody did).
    pub fn by(mut self, actor: impl Into<Option<UserId>>) -> Self {
        self.actor_id = actor.into();
        self
    }

    /// The one serialisation of this event that every recipient shares.
    pub fn to_json(&self) -> String {
        // Serialising plain data structs with string keys cannot fail.
        serde_json::to_string(self).expect("events always serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_matches_the_contract() {
        let conv = ConversationId::generate();
        let user = UserId::generate();
        let event = Event::ephemeral(Some(conv), EventData::Typing(TypingData { user_id: user }));
        let value: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
        assert_eq!(value["type"], "typing");
        assert_eq!(value["conversation_id"], conv.to_string());
        assert_eq!(value["data"]["user_id"], user.to_string());
        assert!(value.get("seq").is_none());
        assert!(value.get("actor_id").is_none());
    }

    #[test]
    fn the_actor_is_top_level_and_only_when_known() {
        let (conv, alice, bob) = (ConversationId::generate(), UserId::generate(), UserId::generate());
        let removed = EventData::MemberRemoved(MemberRemovedData { user_id: bob });
        let event = Event::persisted(conv, 3, removed).by(alice);
        let value: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
        assert_eq!(value["actor_id"], alice.to_string());
        assert_eq!(value["data"]["user_id"], bob.to_string());
        let nobody = Event::persisted(conv, 4, EventData::MemberRemoved(MemberRemovedData { user_id: bob })).by(None);
        assert!(serde_json::from_str::<serde_json::Value>(&nobody.to_json()).unwrap().get("actor_id").is_none());
    }

    #[test]
    fn type_name_is_the_serialised_type() {
        let user = UserId::generate();
        for data in [
            EventData::Typing(TypingData { user_id: user }),
            EventData::Presence(PresenceData { user_id: user, online: true, last_seen_at: None }),
            EventData::MemberRemoved(MemberRemovedData { user_id: user }),
            EventData::MemberUpdated(MemberUpdatedData { user_id: user, role: Role::Admin }),
            EventData::ConversationDeleted(ConversationDeletedData { deleted_by: user }),
        ] {
            let name = data.type_name();
            let value: serde_json::Value = serde_json::from_str(&Event::ephemeral(None, data).to_json()).unwrap();
            assert_eq!(value["type"], name);
        }
    }
}
