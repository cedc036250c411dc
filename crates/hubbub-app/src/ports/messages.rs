//! Messages as the use cases hand them to the store (with their photo, file, mentions and outbox job) and as pages of history and events come back.

use super::*;

/// A photo the media pipeline has stored, to be referenced by a user, group or message.
/// The store records it (type, size, dimensions) in the same transaction as the reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhotoInput {
    pub media_name: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
}

/// What a stored file is for; it decides the size the pipeline fits it to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaPurpose {
    /// Profile and group photos.
    Avatar,
    /// Photos in messages.
    Message,
}

/// A stored file as the database knows it.
#[derive(Clone, Debug)]
pub struct MediaRecord {
    pub media_name: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    pub purpose: MediaPurpose,
}

pub struct NewMessage {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub sender: UserId,
    pub text: MessageText,
    pub photo: Option<PhotoInput>,
    pub file: Option<FileInput>,
    pub reply_to: Option<MessageId>,
    pub client_id: Option<String>,
    pub forwarded: bool,
    pub now: Timestamp,
    /// Who the text mentions, as the use case resolved it.
    pub mentions: Mentions,
    /// A job to enqueue in the send's own transaction (the Web Push fan-out): stored if and
    /// only if the message is.
    pub outbox: Option<NewJob>,
}

/// Who a message mentions, resolved by the send or edit use case
/// (`usecases::message::mentions`); the store only stores it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mentions {
    /// Every member mentioned, as `Message.mentions` lists them.
    pub users: Vec<UserId>,
    /// `@channel` or `@all`: every member is mentioned (`users` lists them all). Stored as
    /// a flag, so counting a member's unread mentions needs no row per member.
    pub all: bool,
}

pub struct MessageContent {
    pub text: String,
    /// Its link preview, to give a forwarded copy the same.
    pub link_preview: Option<NewLinkPreview>,
    pub photo: Option<PhotoInput>,
    pub file: Option<FileInput>,
}

pub struct SendOutcome {
    pub message: Message,
    /// `None` when a message with the same `client_id` already existed: nothing changed.
    pub committed: Option<Committed>,
    /// Members whose settings the new message changed in its transaction (an archived
    /// conversation coming back, `rules::settings::after_message`), for `settings.updated`.
    pub settings_changed: Vec<SettingsChange>,
}

#[derive(Clone, Copy, Debug)]
pub enum HistoryCursor {
    Latest,
    Before(i64),
    After(i64),
}

pub struct MessagePage {
    pub messages: Vec<Message>,
    pub has_more: bool,
    pub others_min_delivered: Option<i64>,
    pub others_min_read: Option<i64>,
}

pub struct EventPage {
    /// Stored event JSON, in seq order.
    pub events: Vec<Bytes>,
    pub has_more: bool,
}

pub enum MarksChange {
    /// Neither mark moved (a stale or repeated mark).
    Unchanged,
    Moved {
        delivered_seq: i64,
        read_seq: i64,
        recipients: Arc<[UserId]>,
    },
}
