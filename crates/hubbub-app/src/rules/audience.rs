//! Who hears of each persisted change.

use crate::ports::Committed;
use bytes::Bytes;
use hubbub_domain::{ConversationId, ConversationSnapshot, Event, EventData, UserId};

/// The recipients of a persisted event, from the conversation's current members as they are
/// once the change is made (the adapter loads them inside the same transaction):
/// - `member.added`: the members who were already there; the newcomer learns of the
///   conversation as a whole instead (see [`welcome`]);
/// - `member.removed`: everyone current and the one who left, whose devices must hear that
///   they are out;
/// - every other event: the current members.
///
/// Takes the list by value and returns it, so the common case (a message) costs nothing.
pub fn recipients(event: &EventData, mut current: Vec<UserId>) -> Vec<UserId> {
    match event {
        EventData::MemberAdded(member) => current.retain(|id| *id != member.user.id),
        EventData::MemberRemoved(removed) if !current.contains(&removed.user_id) => current.push(removed.user_id),
        _ => {}
    }
    current
}

/// What a member added at `seq` receives: the conversation as a whole, as
/// `conversation.created` at the seq of their addition (from which their view starts), to
/// them alone. It is not stored: replaying the log never shows a member their own arrival.
pub fn welcome(
    conversation_id: ConversationId,
    seq: i64,
    snapshot: ConversationSnapshot,
    newcomer: UserId,
) -> Committed {
    let event = Event::persisted(conversation_id, seq, EventData::ConversationCreated(snapshot));
    Committed { conversation_id, seq, json: Bytes::from(event.to_json()), recipients: vec![newcomer].into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubbub_domain::events::MemberRemovedData;
    use hubbub_domain::{ConversationKind, Member, Role, Timestamp, User};
    use uuid::Uuid;

    fn user(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }

    fn member(id: UserId) -> Member {
        Member {
            user: User {
                id,
                username: "ann".into(),
                display_name: "Ann".into(),
                photo_url: None,
                about: String::new(),
                last_seen_at: None,
                online: false,
            },
            role: Role::Member,
            joined_at: Timestamp::from_millis(0),
            delivered_seq: 0,
            read_seq: 0,
        }
    }

    fn snapshot(id: ConversationId) -> ConversationSnapshot {
        ConversationSnapshot {
            id,
            kind: ConversationKind::Group,
            name: Some("g".into()),
            photo_url: None,
            members: vec![],
            last_seq: 3,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
            room: hubbub_domain::RoomFacts {
                space_id: None,
                visibility: hubbub_domain::Visibility::Private,
                topic: String::new(),
                has_password: false,
                member_count: 0,
            },
        }
    }

    #[test]
    fn a_newcomer_does_not_hear_of_their_own_addition() {
        let event = EventData::MemberAdded(member(user(3)));
        assert_eq!(recipients(&event, vec![user(1), user(2), user(3)]), vec![user(1), user(2)]);
    }

    #[test]
    fn the_one_who_left_hears_of_their_removal() {
        let event = EventData::MemberRemoved(MemberRemovedData { user_id: user(3) });
        assert_eq!(recipients(&event, vec![user(1), user(2)]), vec![user(1), user(2), user(3)]);
        // Never twice, should the adapter load the members before the change.
        assert_eq!(recipients(&event, vec![user(1), user(3)]), vec![user(1), user(3)]);
    }

    #[test]
    fn other_events_go_to_the_current_members() {
        let id = ConversationId(Uuid::from_u128(9));
        for event in [EventData::ConversationCreated(snapshot(id)), EventData::ConversationUpdated(snapshot(id))] {
            assert_eq!(recipients(&event, vec![user(1), user(2)]), vec![user(1), user(2)]);
        }
    }

    #[test]
    fn the_welcome_goes_to_the_newcomer_alone_at_the_seq_of_the_addition() {
        let id = ConversationId(Uuid::from_u128(9));
        let committed = welcome(id, 7, snapshot(id), user(4));
        assert_eq!(committed.seq, 7);
        assert_eq!(&committed.recipients[..], &[user(4)]);
        let json: serde_json::Value = serde_json::from_slice(&committed.json).unwrap();
        assert_eq!(json["type"], "conversation.created");
        assert_eq!(json["seq"], 7);
    }
}
