//! Who a new message notifies by Web Push, and what the notification says.
//!
//! A current member other than the sender is notified when their level allows it
//! (`NotifyLevel::allows`: all; mentions only when `Message.mentions` names them; none),
//! the conversation is not muted for them, and they do not block the sender. Whether they
//! have a live socket somewhere is decided later, when the job runs (`usecases::push`).

use crate::ports::{PushAudience, PushMember};
use crate::rules::settings::is_muted;
use hubbub_domain::{ConversationId, ConversationKind, Message, MessageId, Timestamp, UserId, policy};
use serde::{Deserialize, Serialize};

/// A sent message as a push needs it (what a `push.message` job carries).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub sender_id: UserId,
    pub text: String,
    pub photo: bool,
    pub file: bool,
    pub mentions: Vec<UserId>,
}

impl SentMessage {
    pub fn of(message: &Message) -> Self {
        SentMessage {
            conversation_id: message.conversation_id,
            message_id: message.id,
            sender_id: message.sender_id,
            text: message.text.clone(),
            photo: message.photo.is_some(),
            file: message.file.is_some(),
            mentions: message.mentions.clone(),
        }
    }
}

/// The notification a service worker shows; the JSON inside the encrypted push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The sender's display name, with " in <conversation>" for groups and channels.
    pub title: String,
    /// The text, or "Photo" / "File" for an attachment without one.
    pub body: String,
    pub conversation_id: String,
    pub message_id: String,
    /// Where a click opens: the web app's chat route.
    pub url: String,
}

/// The body's longest text, in characters: a push record holds ~4 KiB.
pub const BODY_MAX: usize = 1000;

pub fn notifies(member: &PushMember, kind: ConversationKind, mentions: &[UserId], now: Timestamp) -> bool {
    let level = member.notify.unwrap_or_else(|| policy::default_notify(kind));
    !member.blocks_sender && !is_muted(member.muted_until, now) && level.allows(mentions.contains(&member.user))
}

/// The members of `audience` a message notifies.
pub fn recipients(audience: &PushAudience, message: &SentMessage, now: Timestamp) -> Vec<UserId> {
    audience
        .members
        .iter()
        .filter(|member| member.user != message.sender_id && notifies(member, audience.kind, &message.mentions, now))
        .map(|member| member.user)
        .collect()
}

pub fn notification(audience: &PushAudience, message: &SentMessage) -> Notification {
    let title = match (&audience.name, audience.kind) {
        (Some(name), ConversationKind::Group | ConversationKind::Channel) => {
            format!("{} in {name}", audience.sender_name)
        }
        _ => audience.sender_name.clone(),
    };
    let body = if !message.text.is_empty() {
        message.text.chars().take(BODY_MAX).collect()
    } else if message.photo {
        "Photo".to_owned()
    } else if message.file {
        "File".to_owned()
    } else {
        String::new()
    };
    Notification {
        title,
        body,
        conversation_id: message.conversation_id.0.to_string(),
        message_id: message.message_id.0.to_string(),
        url: format!("/c/{}", message.conversation_id.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubbub_domain::NotifyLevel;

    fn member(notify: Option<NotifyLevel>) -> PushMember {
        PushMember { user: UserId::generate(), notify, muted_until: None, blocks_sender: false }
    }

    #[test]
    fn the_title_names_the_conversation_and_the_body_the_attachment() {
        let sender = UserId::generate();
        let audience = |kind, name: Option<&str>| PushAudience {
            kind,
            name: name.map(str::to_owned),
            sender_name: "Alice".into(),
            members: Vec::new(),
        };
        let sent = SentMessage {
            conversation_id: ConversationId::generate(),
            message_id: MessageId::generate(),
            sender_id: sender,
            text: String::new(),
            photo: true,
            file: false,
            mentions: Vec::new(),
        };
        let direct = notification(&audience(ConversationKind::Direct, None), &sent);
        assert_eq!((direct.title.as_str(), direct.body.as_str()), ("Alice", "Photo"));
        assert_eq!(direct.url, format!("/c/{}", sent.conversation_id));
        let group = notification(&audience(ConversationKind::Group, Some("Team")), &sent);
        assert_eq!(group.title, "Alice in Team");
        let file = SentMessage { photo: false, file: true, ..sent.clone() };
        assert_eq!(notification(&audience(ConversationKind::Channel, Some("x")), &file).body, "File");
        let text = SentMessage { text: "é".repeat(BODY_MAX + 5), ..sent };
        assert_eq!(notification(&audience(ConversationKind::Direct, None), &text).body.chars().count(), BODY_MAX);
    }

    #[test]
    fn the_level_mute_and_block_decide() {
        let now = Timestamp::from_millis(1_000);
        let all = member(None);
        assert!(notifies(&all, ConversationKind::Group, &[], now));
        assert!(!notifies(&all, ConversationKind::Channel, &[], now), "a channel notifies mentions by default");
        assert!(notifies(&all, ConversationKind::Channel, &[all.user], now));
        let none = member(Some(NotifyLevel::None));
        assert!(!notifies(&none, ConversationKind::Direct, &[none.user], now));
        let followed = member(Some(NotifyLevel::All));
        assert!(notifies(&followed, ConversationKind::Channel, &[], now));
        let muted = PushMember { muted_until: Some(Timestamp::from_millis(2_000)), ..member(None) };
        assert!(!notifies(&muted, ConversationKind::Direct, &[muted.user], now));
        let mute_over = PushMember { muted_until: Some(Timestamp::from_millis(500)), ..member(None) };
        assert!(notifies(&mute_over, ConversationKind::Direct, &[], now));
        let blocking = PushMember { blocks_sender: true, ..member(None) };
        assert!(!notifies(&blocking, ConversationKind::Direct, &[], now));
    }
}
