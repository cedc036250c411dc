//! What a viewer sees of a conversation: a current member the conversation as it is, a
//! former member the conversation as it was when they left (see `ports::ConversationView`).

use hubbub_domain::policy::has_settings;
use hubbub_domain::{
    ConversationId, ConversationKind, ConversationSnapshot, Member, RoomFacts, Timestamp, UserId, Visibility,
};

/// A conversation's own facts, as stored.
#[derive(Clone, Debug)]
pub struct ConversationFacts {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub name: Option<String>,
    pub photo_url: Option<String>,
    pub last_seq: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub visibility: Visibility,
    pub topic: String,
    pub has_password: bool,
    /// The space of a channel.
    pub space_id: Option<hubbub_domain::SpaceId>,
}

/// The conversation as it now is, for current members and for events. A direct
/// conversation has no name, photo or topic of its own (each side shows the other person).
/// `member_count` counts `members` (the directory passes the count with no list).
pub fn current_snapshot(facts: ConversationFacts, members: Vec<Member>, member_count: i64) -> ConversationSnapshot {
    let own = has_settings(facts.kind);
    ConversationSnapshot {
        id: facts.id,
        kind: facts.kind,
        name: facts.name.filter(|_| own),
        photo_url: facts.photo_url.filter(|_| own),
        members,
        last_seq: facts.last_seq,
        created_at: facts.created_at,
        updated_at: facts.updated_at,
        room: RoomFacts {
            space_id: facts.space_id.map(|s| s.0),
            visibility: facts.visibility,
            topic: if own { facts.topic } else { String::new() },
            has_password: facts.has_password,
            member_count,
        },
    }
}

/// What was kept on a former member's row when they left (name, photo, topic), with the
/// conversation's visibility and whether it has a password as they now are.
#[derive(Clone, Debug)]
pub struct LeftView {
    pub left_seq: i64,
    pub left_at: Timestamp,
    pub name: Option<String>,
    pub photo_url: Option<String>,
    pub topic: String,
    pub visibility: Visibility,
    pub has_password: bool,
}

/// One member's latest stay, with their current marks.
#[derive(Clone, Debug)]
pub struct Stay {
    pub member: Member,
    pub joined_seq: i64,
    pub left_seq: Option<i64>,
}

/// The members at `seq`: those whose stay covers it (added at or before it, not removed by
/// then; a removal at `seq` itself counts, as for whoever replays the log up to `seq`), with
/// their marks capped at `seq`. Order is kept.
pub fn members_at(stays: Vec<Stay>, seq: i64) -> Vec<Member> {
    stays
        .into_iter()
        .filter(|s| s.joined_seq <= seq && s.left_seq.is_none_or(|left| left > seq))
        .map(|s| Member {
            delivered_seq: s.member.delivered_seq.min(seq),
            read_seq: s.member.read_seq.min(seq),
            ..s.member
        })
        .collect()
}

/// The conversation as a former member last saw it: the name, photo and topic kept when
/// they left, the members at their `left_seq` (`members_at`, also what `member_count`
/// counts), `last_seq` that seq and `updated_at` the time they left.
pub fn former_snapshot(
    id: ConversationId,
    kind: ConversationKind,
    created_at: Timestamp,
    left: LeftView,
    stays: Vec<Stay>,
) -> ConversationSnapshot {
    let members = members_at(stays, left.left_seq);
    let member_count = members.len() as i64;
    ConversationSnapshot {
        id,
        kind,
        name: left.name,
        photo_url: left.photo_url,
        members,
        last_seq: left.left_seq,
        created_at,
        updated_at: left.left_at,
        room: RoomFacts {
            space_id: None,
            visibility: left.visibility,
            topic: left.topic,
            has_password: left.has_password,
            member_count,
        },
    }
}

/// The other person of a direct conversation (the viewer themself if alone in it); `None`
/// for other kinds.
pub fn other_person(snapshot: &ConversationSnapshot, me: UserId) -> Option<&Member> {
    if snapshot.kind != ConversationKind::Direct {
        return None;
    }
    snapshot.members.iter().find(|m| m.user.id != me).or(snapshot.members.first())
}

/// The viewer's alias for the other person of a direct conversation, from the viewer's
/// aliases (an alias is seen by its owner only, so it comes from the viewer's address book).
pub fn alias_for_viewer(
    snapshot: &ConversationSnapshot,
    me: UserId,
    aliases: &std::collections::HashMap<UserId, String>,
) -> Option<String> {
    other_person(snapshot, me).and_then(|other| aliases.get(&other.user.id).cloned())
}

/// A direct conversation's name for the viewer: their alias for the other person instead of
/// that person's display name, when they gave one.
pub fn direct_name(other: Option<&Member>, alias: Option<&str>) -> String {
    match alias {
        Some(alias) => alias.to_owned(),
        None => other.map(|m| m.user.display_name.clone()).unwrap_or_default(),
    }
}

/// A viewer's unread count, from the messages of others above their read mark: a former
/// member's view is frozen, so nothing in it is new to them.
pub fn unread_count(left_seq: Option<i64>, others_above_read_mark: i64) -> i64 {
    if left_seq.is_some() { 0 } else { others_above_read_mark }
}

/// The lowest delivered and read marks among the members other than `me`, for the status
/// of my messages.
pub fn others_lowest_marks(members: &[Member], me: UserId) -> (Option<i64>, Option<i64>) {
    let others = || members.iter().filter(|m| m.user.id != me);
    (others().map(|m| m.delivered_seq).min(), others().map(|m| m.read_seq).min())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubbub_domain::{Role, User};
    use uuid::Uuid;

    fn stay(n: u128, joined_seq: i64, left_seq: Option<i64>, delivered: i64, read: i64) -> Stay {
        Stay {
            member: Member {
                user: User {
                    id: UserId(Uuid::from_u128(n)),
                    username: format!("u{n}"),
                    display_name: format!("U{n}"),
                    photo_url: None,
                    about: String::new(),
                    last_seen_at: None,
                    online: false,
                },
                role: Role::Member,
                joined_at: Timestamp::from_millis(0),
                delivered_seq: delivered,
                read_seq: read,
            },
            joined_seq,
            left_seq,
        }
    }

    fn ids(members: &[Member]) -> Vec<u128> {
        members.iter().map(|m| m.user.id.0.as_u128()).collect()
    }

    #[test]
    fn a_former_member_sees_who_was_there_when_they_left() {
        let stays = vec![
            stay(1, 0, None, 9, 9),    // still there
            stay(2, 0, Some(5), 5, 5), // removed at 5 itself: gone at 5
            stay(3, 6, None, 9, 9),    // added after 5: not yet there
            stay(4, 5, None, 9, 9),    // added at 5: there
            stay(5, 2, Some(8), 8, 8), // left later: still there at 5
        ];
        assert_eq!(ids(&members_at(stays, 5)), vec![1, 4, 5]);
    }

    #[test]
    fn marks_are_capped_at_the_seq_of_the_view() {
        let members = members_at(vec![stay(1, 0, None, 9, 4), stay(2, 0, None, 3, 2)], 5);
        assert_eq!(members.iter().map(|m| (m.delivered_seq, m.read_seq)).collect::<Vec<_>>(), vec![(5, 4), (3, 2)]);
    }

    #[test]
    fn the_former_view_keeps_what_was_recorded_when_they_left() {
        let id = ConversationId(Uuid::from_u128(7));
        let left = LeftView {
            left_seq: 5,
            left_at: Timestamp::from_millis(500),
            name: Some("old name".into()),
            photo_url: Some("/media/old".into()),
            topic: "old topic".into(),
            visibility: Visibility::Private,
            has_password: false,
        };
        let snapshot =
            former_snapshot(id, ConversationKind::Group, Timestamp::from_millis(1), left, vec![stay(1, 0, None, 9, 9)]);
        assert_eq!(snapshot.name.as_deref(), Some("old name"));
        assert_eq!(snapshot.photo_url.as_deref(), Some("/media/old"));
        assert_eq!(snapshot.last_seq, 5);
        assert_eq!(snapshot.updated_at, Timestamp::from_millis(500));
        assert_eq!(snapshot.members[0].delivered_seq, 5);
        assert_eq!((snapshot.room.topic.as_str(), snapshot.room.member_count), ("old topic", 1));
    }

    #[test]
    fn a_direct_conversation_has_no_name_or_photo() {
        let facts = ConversationFacts {
            id: ConversationId(Uuid::from_u128(7)),
            kind: ConversationKind::Direct,
            name: Some("x".into()),
            photo_url: Some("/media/x".into()),
            last_seq: 1,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
            visibility: Visibility::Private,
            topic: "t".into(),
            has_password: false,
            space_id: None,
        };
        let direct = current_snapshot(facts.clone(), vec![], 2);
        assert_eq!((direct.name, direct.photo_url, direct.room.topic.as_str()), (None, None, ""));
        for kind in [ConversationKind::Group, ConversationKind::Channel] {
            let own = current_snapshot(ConversationFacts { kind, ..facts.clone() }, vec![], 2);
            assert_eq!((own.name.as_deref(), own.room.topic.as_str(), own.room.member_count), (Some("x"), "t", 2));
        }
    }

    #[test]
    fn an_alias_replaces_the_other_persons_name_for_its_owner_only() {
        let members = members_at(vec![stay(1, 0, None, 0, 0), stay(2, 0, None, 0, 0)], 9);
        let facts = ConversationFacts {
            id: ConversationId(Uuid::from_u128(7)),
            kind: ConversationKind::Direct,
            name: None,
            photo_url: None,
            last_seq: 1,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
            visibility: Visibility::Private,
            topic: String::new(),
            has_password: false,
            space_id: None,
        };
        let snapshot = current_snapshot(facts.clone(), members, 2);
        let (one, two) = (UserId(Uuid::from_u128(1)), UserId(Uuid::from_u128(2)));
        let aliases: std::collections::HashMap<UserId, String> = [(two, "Bobby".to_owned())].into();
        assert_eq!(alias_for_viewer(&snapshot, one, &aliases).as_deref(), Some("Bobby"));
        assert_eq!(alias_for_viewer(&snapshot, two, &aliases), None, "not their own alias list");
        assert_eq!(direct_name(other_person(&snapshot, one), Some("Bobby")), "Bobby");
        assert_eq!(direct_name(other_person(&snapshot, two), None), "U1");
        let group = current_snapshot(ConversationFacts { kind: ConversationKind::Group, ..facts }, snapshot.members, 2);
        assert_eq!(alias_for_viewer(&group, one, &aliases), None);
    }

    #[test]
    fn a_former_member_has_nothing_unread() {
        assert_eq!(unread_count(Some(5), 3), 0);
        assert_eq!(unread_count(None, 3), 3);
    }

    #[test]
    fn lowest_marks_leave_out_the_viewer() {
        let members = members_at(vec![stay(1, 0, None, 1, 1), stay(2, 0, None, 7, 4), stay(3, 0, None, 6, 5)], 9);
        assert_eq!(others_lowest_marks(&members, UserId(Uuid::from_u128(1))), (Some(6), Some(4)));
        assert_eq!(others_lowest_marks(&members[..1], UserId(Uuid::from_u128(1))), (None, None));
    }
}
