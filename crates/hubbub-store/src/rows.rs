//! The rows both adapters read, and how they become domain objects: the same columns, the
//! same structs (`sqlx::FromRow` is generic over the database) and the same conversions, so
//! the SQLite and PostgreSQL adapters differ only in their SQL text and connections.

use crate::common::unknown;
use hubbub_app::ports::{StoreError, StoreResult};
use hubbub_app::rules::view::ConversationFacts;
use hubbub_domain::media_path;
use hubbub_domain::{
    Attachment, ConversationId, ConversationKind, LinkPreview, Member, Message, MessageId, Photo, ReactionSummary,
    ReplyRef, Role, Timestamp, User, UserId, Visibility,
};
use std::collections::HashMap;
use uuid::Uuid;

/// A conversation's internal key with its public id, resolved once per operation.
#[derive(Clone, Copy)]
pub(crate) struct ConvRef {
    pub key: i64,
    pub id: ConversationId,
    pub kind: ConversationKind,
}

/// The columns of a `UserRow`, over `users u`.
pub(crate) const USER_COLUMNS: &str = "u.uuid AS user_id, u.username, u.display_name, u.photo_name AS user_photo_name,
    u.about, u.last_seen_at";

/// A user as `USER_COLUMNS` reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    user_id: Uuid,
    username: String,
    display_name: String,
    user_photo_name: Option<String>,
    about: String,
    last_seen_at: Option<i64>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> User {
        User {
            id: UserId(row.user_id),
            username: row.username,
            display_name: row.display_name,
            photo_url: row.user_photo_name.as_deref().map(media_path),
            about: row.about,
            last_seen_at: row.last_seen_at.map(Timestamp::from_millis),
            online: false,
        }
    }
}

/// The columns of a `MemberRow`, over `members m JOIN users u`.
pub(crate) const MEMBER_COLUMNS: &str = "m.role, m.joined_at, m.delivered_seq, m.read_seq";

/// A member with their user, as `USER_COLUMNS, MEMBER_COLUMNS` read them.
#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    #[sqlx(flatten)]
    user: UserRow,
    role: String,
    joined_at: i64,
    delivered_seq: i64,
    read_seq: i64,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;

    fn try_from(row: MemberRow) -> StoreResult<Member> {
        Ok(Member {
            user: row.user.into(),
            role: Role::from_db(&row.role).map_err(unknown)?,
            joined_at: Timestamp::from_millis(row.joined_at),
            delivered_seq: row.delivered_seq,
            read_seq: row.read_seq,
        })
    }
}

/// A member's latest stay, for the view rules.
#[derive(sqlx::FromRow)]
pub(crate) struct StayRow {
    #[sqlx(flatten)]
    pub member: MemberRow,
    pub joined_seq: i64,
    pub left_seq: Option<i64>,
}

/// The columns of a `ConversationRow`, over `conversations c`.
pub(crate) const CONVERSATION_COLUMNS: &str = "c.name, c.photo_name, c.last_seq, c.created_at, c.updated_at,
    c.visibility, c.topic, c.password_hash IS NOT NULL AS has_password,
    (SELECT s.uuid FROM spaces s WHERE s.id = c.space_id) AS space_uuid";

#[derive(sqlx::FromRow)]
pub(crate) struct ConversationRow {
    name: Option<String>,
    photo_name: Option<String>,
    last_seq: i64,
    created_at: i64,
    updated_at: i64,
    visibility: String,
    topic: String,
    has_password: bool,
    space_uuid: Option<Uuid>,
}

impl ConversationRow {
    pub(crate) fn facts(self, conv: ConvRef) -> StoreResult<ConversationFacts> {
        Ok(ConversationFacts {
            id: conv.id,
            kind: conv.kind,
            name: self.name,
            photo_url: self.photo_name.as_deref().map(media_path),
            last_seq: self.last_seq,
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
            visibility: Visibility::from_db(&self.visibility).map_err(unknown)?,
            topic: self.topic,
            has_password: self.has_password,
            space_id: self.space_uuid.map(hubbub_domain::SpaceId),
        })
    }
}

/// The columns of a `MessageRow`, over `MESSAGE_FROM`.
pub(crate) const MESSAGE_COLUMNS: &str = "m.id AS key, m.uuid AS id, m.seq, su.uuid AS sender_id, m.text, m.photo_name,
    m.photo_width, m.photo_height, m.file_name, m.file_display_name, m.file_content_type, m.file_size, m.forwarded,
    m.created_at, m.edited_at, m.deleted_at, r.uuid AS reply_id,
    ru.uuid AS reply_sender_id, r.text AS reply_text, r.deleted_at AS reply_deleted_at, c.uuid AS conversation_id,
    m.link_url, m.link_title, m.link_description, m.link_site_name, m.link_image_name, m.link_image_width,
    m.link_image_height, m.mentions, m.pinned_at IS NOT NULL AS pinned";

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    pub key: i64,
    id: Uuid,
    seq: i64,
    sender_id: Uuid,
    text: String,
    photo_name: Option<String>,
    photo_width: Option<i64>,
    photo_height: Option<i64>,
    file_name: Option<String>,
    file_display_name: Option<String>,
    file_content_type: Option<String>,
    file_size: Option<i64>,
    forwarded: bool,
    created_at: i64,
    edited_at: Option<i64>,
    deleted_at: Option<i64>,
    reply_id: Option<Uuid>,
    reply_sender_id: Option<Uuid>,
    reply_text: Option<String>,
    reply_deleted_at: Option<i64>,
    conversation_id: Uuid,
    link_url: Option<String>,
    link_title: Option<String>,
    link_description: Option<String>,
    link_site_name: Option<String>,
    link_image_name: Option<String>,
    link_image_width: Option<i64>,
    link_image_height: Option<i64>,
    /// A JSON array of user ids (`Mentions::users`, as stored).
    mentions: String,
    pinned: bool,
}

pub(crate) const MESSAGE_FROM: &str = "messages m
    JOIN users su ON su.id = m.sender_id
    JOIN conversations c ON c.id = m.conversation_id
    LEFT JOIN messages r ON r.id = m.reply_to_id
    LEFT JOIN users ru ON ru.id = r.sender_id";

impl From<MessageRow> for Message {
    fn from(row: MessageRow) -> Message {
        let deleted = row.deleted_at.is_some();
        let photo = match (row.photo_name, deleted) {
            (Some(name), false) => Some(Photo {
                url: media_path(&name),
                width: row.photo_width.unwrap_or(0) as u32,
                height: row.photo_height.unwrap_or(0) as u32,
            }),
            _ => None,
        };
        // A tombstone has cleared these already; `deleted` is checked too, as for photos.
        let file = match (row.file_name, deleted) {
            (Some(name), false) => Some(Attachment {
                url: media_path(&name),
                name: row.file_display_name.unwrap_or_default(),
                size: row.file_size.unwrap_or(0) as u64,
                content_type: row.file_content_type.unwrap_or_default(),
            }),
            _ => None,
        };
        let link_preview = match (row.link_url, deleted) {
            (Some(url), false) => Some(LinkPreview {
                url,
                title: row.link_title.unwrap_or_default(),
                description: row.link_description,
                site_name: row.link_site_name,
                image: row.link_image_name.map(|name| Photo {
                    url: media_path(&name),
                    width: row.link_image_width.unwrap_or(0) as u32,
                    height: row.link_image_height.unwrap_or(0) as u32,
                }),
            }),
            _ => None,
        };
        let reply_to = match (row.reply_id, row.reply_sender_id) {
            (Some(reply_id), Some(sender_id)) => Some(ReplyRef {
                id: MessageId(reply_id),
                sender_id: UserId(sender_id),
                text: if row.reply_deleted_at.is_some() { String::new() } else { row.reply_text.unwrap_or_default() },
            }),
            _ => None,
        };
        Message {
            id: MessageId(row.id),
            conversation_id: ConversationId(row.conversation_id),
            seq: row.seq,
            sender_id: UserId(row.sender_id),
            text: if deleted { String::new() } else { row.text },
            photo,
            file,
            reply_to,
            forwarded: row.forwarded,
            reactions: Vec::new(),
            status: None,
            created_at: Timestamp::from_millis(row.created_at),
            edited_at: row.edited_at.map(Timestamp::from_millis),
            deleted,
            link_preview,
            mentions: if deleted { Vec::new() } else { mention_ids(&row.mentions) },
            pinned: row.pinned && !deleted,
        }
    }
}

/// The stored mention list as ids (written by `mentions_json`; an unreadable one is none).
fn mention_ids(stored: &str) -> Vec<UserId> {
    serde_json::from_str::<Vec<Uuid>>(stored).map(|ids| ids.into_iter().map(UserId).collect()).unwrap_or_default()
}

/// How a message's mention list is stored (`messages.mentions`).
pub(crate) fn mentions_json(users: &[UserId]) -> String {
    serde_json::to_string(&users.iter().map(|u| u.0).collect::<Vec<_>>()).expect("ids serialise")
}

/// Reactions grouped per message and emoji, in the order they were first given, from rows
/// of (message key, emoji, user) in the order given.
pub(crate) fn group_reactions(rows: Vec<(i64, String, Uuid)>) -> HashMap<i64, Vec<ReactionSummary>> {
    let mut grouped: HashMap<i64, Vec<ReactionSummary>> = HashMap::new();
    for (key, emoji, user) in rows {
        let user = UserId(user);
        let list = grouped.entry(key).or_default();
        match list.iter_mut().find(|r| r.emoji == emoji) {
            Some(summary) => {
                summary.count += 1;
                summary.user_ids.push(user);
            }
            None => list.push(ReactionSummary { emoji, count: 1, user_ids: vec![user] }),
        }
    }
    grouped
}

/// Messages from their rows, each with its reactions (`group_reactions`).
pub(crate) fn messages_with_reactions(
    rows: Vec<MessageRow>,
    mut reactions: HashMap<i64, Vec<ReactionSummary>>,
) -> Vec<Message> {
    rows.into_iter()
        .map(|row| {
            let key = row.key;
            let mut message = Message::from(row);
            if let Some(list) = reactions.remove(&key) {
                message.reactions = list;
            }
            message
        })
        .collect()
}
