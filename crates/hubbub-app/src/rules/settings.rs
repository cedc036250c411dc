//! Each user's own settings of a conversation (archive, pin, mute) and what a new message
//! does to them. The adapters store `Stored` on the member row and call these inside their
//! transactions, so the pin limit and WhatsApp's "a new message brings an archived chat
//! back" hold on every backend and every node.

use crate::ports::{ConversationView, SettingsPatch};
use hubbub_domain::{ChatSettings, ConversationKind, NotifyLevel, Timestamp, policy};

/// At most this many conversations pinned per user; one more is refused (409).
pub const PINNED_MAX: i64 = 5;

/// What the pin limit refusal says.
pub const PIN_LIMIT: &str = "at most 5 conversations can be pinned";

/// The settings as a member row keeps them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stored {
    pub archived: bool,
    /// Set while pinned: pinned conversations are listed by it, lowest first.
    pub pin_order: Option<i64>,
    pub muted_until: Option<Timestamp>,
    /// Cleared with `hide`: out of the list until the next message.
    pub hidden: bool,
    /// The user's choice; `None` until they make one, so that the kind's default
    /// (`policy::default_notify`) applies and may change without rewriting rows.
    pub notify: Option<NotifyLevel>,
}

impl Stored {
    /// The settings as the user sees them, `notify` resolved for the conversation's kind.
    pub fn public(&self, kind: ConversationKind) -> ChatSettings {
        ChatSettings {
            archived: self.archived,
            pinned: self.pin_order.is_some(),
            muted_until: self.muted_until,
            notify: self.notify_level(kind),
        }
    }

    /// The level that applies: the user's choice, else the kind's default.
    pub fn notify_level(&self, kind: ConversationKind) -> NotifyLevel {
        self.notify.unwrap_or_else(|| policy::default_notify(kind))
    }
}

/// Muted right now: `muted_until` lies ahead.
pub fn is_muted(muted_until: Option<Timestamp>, now: Timestamp) -> bool {
    muted_until.is_some_and(|until| until > now)
}

/// The user's pins elsewhere, as the transaction counted them.
#[derive(Clone, Copy, Debug)]
pub struct Pins {
    /// Conversations other than this one the user has pinned.
    pub pinned_elsewhere: i64,
    /// The highest `pin_order` the user has given (0 if none).
    pub highest_order: i64,
}

/// Applies a patch. Pinning what is pinned already keeps its place; pinning a sixth is
/// refused; a mute that ends in the past is no mute (null).
pub fn apply(current: Stored, patch: &SettingsPatch, pins: Pins, now: Timestamp) -> Result<Stored, &'static str> {
    let mut next = current;
    if let Some(archived) = patch.archived {
        next.archived = archived;
    }
    match patch.pinned {
        Some(true) if current.pin_order.is_none() => {
            if pins.pinned_elsewhere >= PINNED_MAX {
                return Err(PIN_LIMIT);
            }
            next.pin_order = Some(pins.highest_order + 1);
        }
        Some(false) => next.pin_order = None,
        _ => {}
    }
    if let Some(muted_until) = patch.muted_until {
        next.muted_until = muted_until.filter(|until| *until > now);
    }
    if let Some(notify) = patch.notify {
        next.notify = Some(notify);
    }
    Ok(next)
}

/// What a new message does to one current member's settings: it ends a `hide` for everyone
/// (the sender included: writing again brings the chat back), and brings an archived
/// conversation back to the main list of each recipient who has not muted it (WhatsApp's
/// rule; the sender's own archive stays). `None`: nothing changes.
pub fn after_message(current: Stored, is_sender: bool, now: Timestamp) -> Option<Stored> {
    let mut next = current;
    next.hidden = false;
    if !is_sender && current.archived && !is_muted(current.muted_until, now) {
        next.archived = false;
    }
    (next != current).then_some(next)
}

/// Whether a change is one the user's devices must hear of (`hidden` is not a setting).
pub fn visible_change(before: Stored, after: Stored) -> bool {
    // The kind does not matter for a comparison of the same row's two states.
    before.public(ConversationKind::Group) != after.public(ConversationKind::Group)
}

/// The viewer's list: hidden conversations left out, pinned ones first in the order they
/// were pinned, then the rest in the order given (latest activity first).
pub fn arrange(views: Vec<ConversationView>) -> Vec<ConversationView> {
    let mut listed: Vec<ConversationView> = views.into_iter().filter(|view| !view.hidden).collect();
    // Stable: the unpinned keep their activity order.
    listed.sort_by_key(|view| view.pin_order.map_or((1, 0), |order| (0, order)));
    listed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    const NO_PINS: Pins = Pins { pinned_elsewhere: 0, highest_order: 0 };

    #[test]
    fn a_sixth_pin_is_refused_and_a_repeated_pin_keeps_its_place() {
        let pin = SettingsPatch { pinned: Some(true), ..Default::default() };
        let full = Pins { pinned_elsewhere: 5, highest_order: 9 };
        assert_eq!(apply(Stored::default(), &pin, full, at(0)), Err(PIN_LIMIT));
        let pinned = Stored { pin_order: Some(3), ..Default::default() };
        assert_eq!(apply(pinned, &pin, full, at(0)).unwrap().pin_order, Some(3));
        let four = Pins { pinned_elsewhere: 4, highest_order: 9 };
        assert_eq!(apply(Stored::default(), &pin, four, at(0)).unwrap().pin_order, Some(10));
        let unpin = SettingsPatch { pinned: Some(false), ..Default::default() };
        assert_eq!(apply(pinned, &unpin, full, at(0)).unwrap().pin_order, None);
    }

    #[test]
    fn a_mute_in_the_past_is_no_mute() {
        let mute = |until| SettingsPatch { muted_until: Some(Some(at(until))), ..Default::default() };
        assert_eq!(apply(Stored::default(), &mute(5), NO_PINS, at(10)).unwrap().muted_until, None);
        assert_eq!(apply(Stored::default(), &mute(50), NO_PINS, at(10)).unwrap().muted_until, Some(at(50)));
        let unmute = SettingsPatch { muted_until: Some(None), ..Default::default() };
        let muted = Stored { muted_until: Some(at(50)), ..Default::default() };
        assert_eq!(apply(muted, &unmute, NO_PINS, at(10)).unwrap().muted_until, None);
        let untouched = apply(muted, &SettingsPatch::default(), NO_PINS, at(10)).unwrap();
        assert_eq!(untouched, muted);
    }

    #[test]
    fn notify_is_the_kinds_default_until_chosen() {
        let unset = Stored::default();
        assert_eq!(unset.public(ConversationKind::Channel).notify, NotifyLevel::Mentions);
        assert_eq!(unset.public(ConversationKind::Direct).notify, NotifyLevel::All);
        let none = SettingsPatch { notify: Some(NotifyLevel::None), ..Default::default() };
        let chosen = apply(unset, &none, NO_PINS, at(0)).unwrap();
        assert_eq!(chosen.notify, Some(NotifyLevel::None));
        assert_eq!(chosen.public(ConversationKind::Direct).notify, NotifyLevel::None);
        let kept = apply(chosen, &SettingsPatch::default(), NO_PINS, at(0)).unwrap();
        assert_eq!(kept.notify, Some(NotifyLevel::None));
    }

    #[test]
    fn a_new_message_brings_an_archived_chat_back_unless_muted() {
        let archived = Stored { archived: true, ..Default::default() };
        assert_eq!(after_message(archived, false, at(10)).map(|s| s.archived), Some(false));
        assert_eq!(after_message(archived, true, at(10)), None, "the sender's own archive stays");
        let muted = Stored { muted_until: Some(at(50)), ..archived };
        assert_eq!(after_message(muted, false, at(10)), None);
        let mute_over = Stored { muted_until: Some(at(5)), ..archived };
        assert_eq!(after_message(mute_over, false, at(10)).map(|s| s.archived), Some(false));
    }

    #[test]
    fn a_new_message_ends_a_hide_for_everyone() {
        let hidden = Stored { hidden: true, archived: true, muted_until: Some(at(50)), ..Default::default() };
        let after = after_message(hidden, true, at(10)).unwrap();
        assert!(!after.hidden && after.archived);
        assert!(!visible_change(hidden, after));
        assert_eq!(after_message(Stored::default(), false, at(10)), None);
    }
}
