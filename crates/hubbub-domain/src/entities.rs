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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn from_db(text: &str) -> Self {
        if text == "admin" { Role::Admin } else { Role::Member }
    }
}

/// What kind of conversation this is. Stored as text so that new kinds (public rooms,
/// channels in spaces) are a new variant, not a schema change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    Direct,
    Group,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Direct => "direct",
            ConversationKind::Group => "group",
        }
    }

    pub fn from_db(text: &str) -> Self {
        if text == "direct" { ConversationKind::Direct } else { ConversationKind::Group }
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
    pub my_role: Role,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The viewer's own settings for this conversation (never inside events).
    pub settings: ChatSettings,
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
    pub members: Vec<Member>,
    pub last_seq: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Photo {
    pub url: String,
    pub width: u32,
    pub height: u32,
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
