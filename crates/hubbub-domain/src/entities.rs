//! The objects of the public contract. Their serde form *is* the wire form, so a change
//! here is an API change.

use crate::{ConversationId, MessageId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub photo_url: Option<String>,
    pub about: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_seen_at: Option<Timestamp>,
    /// Filled in from the live connection registry, not from storage.
    pub online: bool,
}

/// A stored value (a kind, a role, a visibility) this build does not know: the database
/// was written by a newer build or by hand. Never guessed at: reading it is an error, so an
/// unknown kind is never treated as a group nor an unknown role as a member.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?} in storage")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

impl UnknownValue {
    /// The stable machine code of this error (for logs).
    pub fn code(&self) -> &'static str {
        "unknown_stored_value"
    }
}

/// A member's role in a conversation. `owner` is the creator of a channel or room (groups
/// keep `admin` as their top role); what each may do is `policy`'s decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// The stored text back; anything else is an error, never a default.
    pub fn from_db(text: &str) -> Result<Self, UnknownValue> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| UnknownValue { what: "role", value: text.to_owned() })
    }
}

/// What kind of conversation this is. Stored as text so that new kinds are a new variant,
/// not a schema change; what each kind allows is decided in `policy`, nowhere else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    Direct,
    Group,
    /// A channel: in a space, or with no space a standalone room.
    Channel,
}

impl ConversationKind {
    pub const ALL: [ConversationKind; 3] =
        [ConversationKind::Direct, ConversationKind::Group, ConversationKind::Channel];

    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Direct => "direct",
            ConversationKind::Group => "group",
            ConversationKind::Channel => "channel",
        }
    }

    /// The stored text back; anything else is an error, never a default.
    pub fn from_db(text: &str) -> Result<Self, UnknownValue> {
        ConversationKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| UnknownValue { what: "conversation kind", value: text.to_owned() })
    }
}

/// Who may find a conversation: public channels and rooms are listed and may be joined;
/// private ones (and every group and direct chat) are by invitation only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }

    /// The stored text back; anything else is an error, never a default.
    pub fn from_db(text: &str) -> Result<Self, UnknownValue> {
        [Visibility::Public, Visibility::Private]
            .into_iter()
            .find(|v| v.as_str() == text)
            .ok_or_else(|| UnknownValue { what: "visibility", value: text.to_owned() })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub user: User,
    pub role: Role,
    pub joined_at: Timestamp,
    pub delivered_seq: i64,
    pub read_seq: i64,
}

/// How events carry members (`member.added`, and the members of `conversation.created` /
/// `conversation.updated`): the user without `online` and `last_seen_at`. An event is
/// serialised once for every recipient, while presence depends on the moment and, with
/// blocks, on who looks; the store has no live presence either, so what it put there was a
/// fake `online: false` that clients believed. Presence travels in `presence` events and in
/// the REST views only.
pub mod event_member {
    use super::{Member, Role, User};
    use crate::{Timestamp, UserId};
    use serde::{Serialize, Serializer};

    #[derive(Serialize)]
    struct UserRef<'a> {
        id: &'a UserId,
        username: &'a str,
        display_name: &'a str,
        photo_url: &'a Option<String>,
        about: &'a str,
    }

    #[derive(Serialize)]
    struct MemberRef<'a> {
        user: UserRef<'a>,
        role: Role,
        joined_at: &'a Timestamp,
        delivered_seq: i64,
        read_seq: i64,
    }

    fn member_ref(m: &Member) -> MemberRef<'_> {
        let User { id, username, display_name, photo_url, about, .. } = &m.user;
        MemberRef {
            user: UserRef { id, username, display_name, photo_url, about },
            role: m.role,
            joined_at: &m.joined_at,
            delivered_seq: m.delivered_seq,
            read_seq: m.read_seq,
        }
    }

    /// `serialize_with` for one member.
    pub fn one<S: Serializer>(m: &Member, s: S) -> Result<S::Ok, S::Error> {
        member_ref(m).serialize(s)
    }

    /// `serialize_with` for a list of members.
    pub fn all<S: Serializer>(ms: &[Member], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ms.iter().map(member_ref))
    }
}

/// A user as events carry them: a `User` without `online` and `last_seen_at` (presence
/// comes in `presence` events and in the REST views).
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EventUser {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    #[schema(required = true)]
    pub photo_url: Option<String>,
    pub about: String,
}

/// A member as events carry them (`member.added`, the members of conversation snapshots):
/// the user without presence.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EventMember {
    pub user: EventUser,
    pub role: Role,
    pub joined_at: Timestamp,
    pub delivered_seq: i64,
    pub read_seq: i64,
}

/// A conversation as one user sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    /// For a direct conversation, the other person's display name.
    pub name: String,
    /// For a direct conversation, the other person's photo.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub photo_url: Option<String>,
    pub members: Vec<Member>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_message: Option<Message>,
    pub last_seq: i64,
    pub unread_count: i64,
    /// How many of the unread messages mention the viewer (by name or `@all`); never in events.
    pub unread_mentions: i64,
    /// The caller's role; null when the caller is not a member (a public room seen in the
    /// directory before joining).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub my_role: Option<Role>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The viewer's own settings for this conversation (never inside events).
    pub settings: ChatSettings,
    // Channels and rooms (contract v2).
    #[serde(flatten)]
    pub room: RoomFacts,
}

/// What channels and rooms added to a conversation, the same for every viewer (so events
/// carry them too). Groups and direct chats are `private`, with no topic or password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomFacts {
    /// The space of a channel; null for a standalone room, a group or a direct chat.
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<String>, format = Uuid))]
    pub space_id: Option<uuid::Uuid>,
    pub visibility: Visibility,
    /// At most 250 characters; empty when none is set.
    pub topic: String,
    /// Whether joining asks for a password (public rooms only).
    pub has_password: bool,
    /// The current members.
    pub member_count: i64,
}

/// A conversation as it travels inside events: only what is the same for every recipient
/// (no unread count, no role of "me", and for direct conversations no name or photo, which
/// depend on who is looking), so one serialisation serves everyone.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationSnapshot {
    pub id: ConversationId,
    pub kind: ConversationKind,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub photo_url: Option<String>,
    /// The members, without presence (`EventMember`).
    #[serde(serialize_with = "event_member::all")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<EventMember>))]
    pub members: Vec<Member>,
    pub last_seq: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(flatten)]
    pub room: RoomFacts,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Photo {
    pub url: String,
    pub width: u32,
    pub height: u32,
}

/// What the server found at the first http(s) link of a message's text: the page's
/// OpenGraph tags (else its `<title>` and `description`), and its `og:image` re-encoded and
/// stored as a media file readable by whoever can see the message. Attached after the send,
/// as a `message.updated` of its own (without `edited_at`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkPreview {
    /// The link as written in the text.
    pub url: String,
    pub title: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub description: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub site_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub image: Option<Photo>,
}

/// A file attached to a message. `url` is served only to those who can see the message,
/// always as a download (`Content-Disposition: attachment`), and as `content_type` only
/// when that is a type no browser runs (else `application/octet-stream`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub url: String,
    /// The sender's file name, cleaned (no path, no control characters, at most 255 bytes).
    pub name: String,
    /// In bytes.
    pub size: u64,
    /// The type the sender declared, normalised (`application/octet-stream` when unknown).
    pub content_type: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyRef {
    pub id: MessageId,
    pub sender_id: UserId,
    /// Empty when the original has since been deleted.
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReactionSummary {
    pub emoji: String,
    pub count: i64,
    pub user_ids: Vec<UserId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Sent,
    Delivered,
    Read,
}

impl MessageStatus {
    /// The status of a message at `seq` given the lowest marks among the *other* current
    /// members. With nobody else in the conversation a message stays `sent`: nobody can
    /// receive it.
    pub fn for_seq(seq: i64, others_min_delivered: Option<i64>, others_min_read: Option<i64>) -> Self {
        match (others_min_delivered, others_min_read) {
            (_, Some(read)) if read >= seq => MessageStatus::Read,
            (Some(delivered), _) if delivered >= seq => MessageStatus::Delivered,
            _ => MessageStatus::Sent,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub sender_id: UserId,
    pub text: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub photo: Option<Photo>,
    /// A file attached to the message (null when none; a message has a photo or a file,
    /// never both).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub file: Option<Attachment>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub reply_to: Option<ReplyRef>,
    pub forwarded: bool,
    pub reactions: Vec<ReactionSummary>,
    /// Only on the viewer's own messages in API responses; always null inside events,
    /// where clients derive it from `receipt.updated`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub status: Option<MessageStatus>,
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub edited_at: Option<Timestamp>,
    pub deleted: bool,
    /// Null until the server has fetched the preview of the text's first link (never on a
    /// deleted message).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub link_preview: Option<LinkPreview>,
    /// The members the text mentions, resolved by the server when it was sent or last
    /// edited (`@username` of a member; `@channel`/`@all` every member where the kind allows
    /// it). Empty on a deleted message.
    pub mentions: Vec<UserId>,
    /// Pinned to its conversation (never on a deleted message).
    pub pinned: bool,
}

/// The marks of one member, as `receipt.updated` carries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Marks {
    pub user_id: UserId,
    pub delivered_seq: i64,
    pub read_seq: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receipt {
    pub user_id: UserId,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub delivered_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub read_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserReaction {
    pub user_id: UserId,
    pub emoji: String,
}

/// One user's own settings for one conversation: nobody else sees them, and every device of
/// the user hears of a change (`settings.updated`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatSettings {
    /// Out of the main list; a new message brings it back unless the conversation is muted.
    pub archived: bool,
    /// Listed first, in the order pinned (at most 5 pinned conversations per user).
    pub pinned: bool,
    /// No notifications until then; `MUTED_FOREVER` (9999-12-31T23:59:59.999Z) means
    /// forever, null not muted. A time in the past is stored as null.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub muted_until: Option<Timestamp>,
    /// Which new messages notify (desktop and Web Push): always resolved, the kind's default
    /// (`policy::default_notify`) until the user chooses.
    pub notify: NotifyLevel,
}

/// Which new messages of a conversation notify a member.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum NotifyLevel {
    /// Every message.
    #[default]
    All,
    /// Only messages that mention the member (`Message.mentions`).
    Mentions,
    /// None.
    None,
}

impl NotifyLevel {
    pub const ALL: [NotifyLevel; 3] = [NotifyLevel::All, NotifyLevel::Mentions, NotifyLevel::None];

    pub fn as_str(self) -> &'static str {
        match self {
            NotifyLevel::All => "all",
            NotifyLevel::Mentions => "mentions",
            NotifyLevel::None => "none",
        }
    }

    /// The stored text back; anything else is an error, never a default.
    pub fn from_db(text: &str) -> Result<Self, UnknownValue> {
        NotifyLevel::ALL
            .into_iter()
            .find(|level| level.as_str() == text)
            .ok_or_else(|| UnknownValue { what: "notify level", value: text.to_owned() })
    }

    /// Whether a message notifies at this level, given whether it mentions the member.
    pub fn allows(self, mentioned: bool) -> bool {
        match self {
            NotifyLevel::All => true,
            NotifyLevel::Mentions => mentioned,
            NotifyLevel::None => false,
        }
    }
}

/// The time that stands for "muted forever": the last millisecond of year 9999.
pub const MUTED_FOREVER: Timestamp = Timestamp::from_millis(253_402_300_799_999);

/// Someone in the caller's address book, with the caller's own name for them (seen by the
/// caller only, instead of their display name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub user: User,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub alias: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn muted_forever_is_the_last_millisecond_of_9999() {
        assert_eq!(MUTED_FOREVER.to_string(), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn status_follows_the_slowest_other_member() {
        assert_eq!(MessageStatus::for_seq(5, None, None), MessageStatus::Sent);
        assert_eq!(MessageStatus::for_seq(5, Some(4), Some(0)), MessageStatus::Sent);
        assert_eq!(MessageStatus::for_seq(5, Some(5), Some(4)), MessageStatus::Delivered);
        assert_eq!(MessageStatus::for_seq(5, Some(9), Some(5)), MessageStatus::Read);
    }
}

/// A space as one member sees it: people with roles (`owner`, `admin`, `member`), holding
/// channels (`Conversation::room.space_id`). Strangers see nothing of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Space {
    pub id: crate::SpaceId,
    pub name: String,
    /// Empty when none is set.
    pub description: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub photo_url: Option<String>,
    /// The viewer's role in the space (in events: the role of the user the event is about
    /// is not implied; each recipient reads `GET /api/spaces/{id}` for their own).
    pub my_role: Role,
    pub member_count: i64,
    pub created_at: Timestamp,
}

/// A member of a space (`GET /api/spaces/{id}/members`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpaceMember {
    pub user: User,
    pub role: Role,
    pub joined_at: Timestamp,
}

/// A channel as a space's channel list shows it: its directory entry, and whether the
/// viewer is in it (`GET /api/spaces/{id}/channels`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpaceChannel {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub joined: bool,
}
