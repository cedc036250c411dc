//! A viewer's conversation and the store's answers about memberships, groups and each member's own settings.

use super::*;

/// A conversation with the parts that depend on who is looking.
///
/// A former member (one who left or was removed at `left_seq` L) sees the conversation as
/// it was at L, and nothing changed later: the snapshot carries the name and photo recorded
/// on their membership when they left, `last_seq` L, `updated_at` the time they left, and
/// the members at L — those whose stay covers L (`joined_seq <= L`, and `left_seq` unset or
/// above L; the former member is not among them, as after their own `member.removed`), with
/// marks capped at L. Their `unread_count` is 0 and the others' lowest marks are taken over
/// those members. Roles and profiles are the current ones (a member's row keeps only their
/// latest stay, so one who left after L and came back is not listed).
#[derive(Clone, Debug)]
pub struct ConversationView {
    pub snapshot: ConversationSnapshot,
    pub last_message: Option<Message>,
    pub unread_count: i64,
    /// Of those unread messages, the ones that mention the viewer (by name or `@all`).
    pub unread_mentions: i64,
    pub my_role: Role,
    /// The lowest marks among the other current members, for the status of my messages.
    pub others_min_delivered: Option<i64>,
    pub others_min_read: Option<i64>,
    /// The viewer's own settings, and where a pinned conversation goes among the pinned ones
    /// (`rules::settings`).
    pub settings: ChatSettings,
    pub pin_order: Option<i64>,
    /// Cleared with `hide` and no message since: left out of the viewer's list.
    pub hidden: bool,
    /// For a direct conversation, the viewer's alias for the other person (`rules::view`).
    pub alias: Option<String>,
}

/// A conversation of the viewer's list and the seq of its latest change they may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConversationSeq {
    pub id: ConversationId,
    pub last_seq: i64,
    pub hidden: bool,
}

/// The caller's membership of one conversation, current or past.
#[derive(Clone, Copy, Debug)]
pub struct Membership {
    pub kind: ConversationKind,
    pub role: Role,
    /// Messages with a seq above this are visible (the seq of the member's addition).
    pub visible_after: i64,
    /// Set once the member has left or was removed: nothing after it is visible.
    pub left_seq: Option<i64>,
    pub member_count: i64,
    /// The member cleared their history up to this seq: nothing at or below it is visible to
    /// them any more (0: never cleared).
    pub cleared_seq: i64,
}

impl Membership {
    pub fn is_current(&self) -> bool {
        self.left_seq.is_none()
    }
}

/// Just enough of a message to decide who may change it.
#[derive(Clone, Copy, Debug)]
pub struct MessageMeta {
    pub sender_id: UserId,
    pub seq: i64,
    pub deleted: bool,
}

pub struct NewGroup {
    pub id: ConversationId,
    pub creator: UserId,
    pub name: GroupName,
    pub member_ids: Vec<UserId>,
    pub now: Timestamp,
}

/// A user's settings of one conversation, as a write left them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettingsChange {
    pub user: UserId,
    pub conversation: ConversationId,
    pub settings: ChatSettings,
}

/// A change to a user's settings of one conversation; `None` leaves a field as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct SettingsPatch {
    pub archived: Option<bool>,
    pub pinned: Option<bool>,
    /// `Some(None)` unmutes.
    pub muted_until: Option<Option<Timestamp>>,
    pub notify: Option<hubbub_domain::NotifyLevel>,
}

pub enum RemoveOutcome {
    NotAMember,
    Removed { committed: Committed, promoted: Option<Committed> },
}

/// What adding members committed, and the files that became unreferenced.
#[derive(Debug, Default)]
pub struct AddedMembers {
    pub committed: Vec<Committed>,
    pub unreferenced: Vec<String>,
}

impl ConversationView {
    /// Applies the viewer-dependent status to one of the viewer's messages.
    pub fn status_for(&self, me: UserId, message: &Message) -> Option<MessageStatus> {
        (message.sender_id == me)
            .then(|| MessageStatus::for_seq(message.seq, self.others_min_delivered, self.others_min_read))
    }
}
