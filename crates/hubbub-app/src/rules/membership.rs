//! Who a member is when they arrive, who takes over when the last holder of a
//! conversation's top role leaves, and what a role change changes.

use hubbub_domain::policy::{rank, top_role};
use hubbub_domain::{ConversationKind, Role, Timestamp};

/// How a member's stay starts: the role and the marks it begins with. The seqs before
/// `joined_seq` are not theirs to see, so the marks start there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    pub role: Role,
    pub joined_seq: i64,
    pub delivered_seq: i64,
    pub read_seq: i64,
}

impl Admission {
    /// A member of a conversation as it is created: they see it from its first event.
    pub fn founding(role: Role) -> Admission {
        Admission { role, joined_seq: 0, delivered_seq: 0, read_seq: 0 }
    }

    /// Someone added at `seq`, new or added back (or joining by themselves). A former
    /// member starts over: a plain member again, marks at the seq of their addition (their
    /// old marks belong to a stay that ended), and what was kept for their view while they
    /// were away is dropped, since they now see the conversation as it is.
    pub fn added_at(seq: i64) -> Admission {
        Admission { role: Role::Member, joined_seq: seq, delivered_seq: seq, read_seq: seq }
    }
}

/// A current member as the succession and role rules see them.
#[derive(Clone, Copy, Debug)]
pub struct Standing<K> {
    /// The adapter's handle of the member (its row key).
    pub key: K,
    pub role: Role,
    pub joined_seq: i64,
    pub joined_at: Timestamp,
}

/// Whether a leaver with this role may leave the conversation without its top role (only
/// the departure of someone holding it can: a group's admin, a room's owner).
pub fn succession_needed(kind: ConversationKind, leaver: Role) -> bool {
    leaver == top_role(kind)
}

/// Keeps a conversation administrable: when no current member holds the kind's top role
/// (`policy::top_role`), the longest-standing member of the highest role present (a room's
/// admins before its members) gets it; "longest-standing" is the earliest `joined_seq`, then
/// `joined_at`. `current` must be in the order the members were first stored, which breaks
/// the remaining ties. `None` when the top role is held or nobody remains.
///
/// So the last owner of a room may always leave (there is no 409): the longest-standing
/// admin becomes owner, or with no admin the longest-standing member.
pub fn heir<K: Copy>(kind: ConversationKind, current: &[Standing<K>]) -> Option<K> {
    let top = top_role(kind);
    if current.iter().any(|m| m.role == top) {
        return None;
    }
    // `min_by_key` returns the first of equal minima, so storage order breaks ties.
    current.iter().min_by_key(|m| (std::cmp::Reverse(rank(m.role)), m.joined_seq, m.joined_at)).map(|m| m.key)
}

/// Why a role change cannot be made (the adapter answers `InvalidState`, 409).
pub const NO_TOP_ROLE_LEFT: &str = "the conversation would be left without an owner or admin: hand the role over first";

/// The roles a change sets, in order: `user` gets `role`, and when `role` is the owner's
/// and someone else gives it, the giver (the owner) becomes an admin: a room has one owner,
/// so giving `owner` hands ownership over. Empty when nothing changes. Refused when the
/// conversation would be left without anyone holding its top role (a group's last admin
/// making themself a member, an owner demoting themself). `user` must be among `current`
/// (the adapter answers `NotFound` before asking otherwise).
pub fn role_changes<K: Copy + PartialEq>(
    kind: ConversationKind,
    current: &[Standing<K>],
    by: K,
    user: K,
    role: Role,
) -> Result<Vec<(K, Role)>, &'static str> {
    let role_of = |key: K| current.iter().find(|m| m.key == key).map(|m| m.role);
    if role_of(user) == Some(role) {
        return Ok(Vec::new());
    }
    let mut changes = vec![(user, role)];
    if role == Role::Owner && by != user && role_of(by) == Some(Role::Owner) {
        changes.push((by, Role::Admin));
    }
    let after = |m: &Standing<K>| changes.iter().rev().find(|(k, _)| *k == m.key).map_or(m.role, |(_, r)| *r);
    if !current.iter().any(|m| after(m) == top_role(kind)) {
        return Err(NO_TOP_ROLE_LEFT);
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConversationKind::{Channel, Group};

    fn standing(key: u8, role: Role, joined_seq: i64, joined_at: i64) -> Standing<u8> {
        Standing { key, role, joined_seq, joined_at: Timestamp::from_millis(joined_at) }
    }

    #[test]
    fn no_heir_while_the_top_role_is_held() {
        let current = [standing(1, Role::Member, 0, 10), standing(2, Role::Admin, 5, 20)];
        assert_eq!(heir(Group, &current), None);
        let room = [standing(1, Role::Admin, 0, 10), standing(2, Role::Owner, 5, 20)];
        assert_eq!(heir(Channel, &room), None);
    }

    #[test]
    fn no_heir_in_an_empty_conversation() {
        assert_eq!(heir::<u8>(Group, &[]), None);
        assert_eq!(heir::<u8>(Channel, &[]), None);
    }

    #[test]
    fn the_longest_standing_member_becomes_admin_of_a_group() {
        let current =
            [standing(1, Role::Member, 7, 10), standing(2, Role::Member, 3, 50), standing(3, Role::Member, 9, 1)];
        assert_eq!(heir(Group, &current), Some(2));
    }

    #[test]
    fn a_rooms_longest_standing_admin_becomes_owner_before_any_member() {
        let current =
            [standing(1, Role::Member, 0, 10), standing(2, Role::Admin, 8, 50), standing(3, Role::Admin, 4, 60)];
        assert_eq!(heir(Channel, &current), Some(3));
        let members = [standing(1, Role::Member, 6, 10), standing(2, Role::Member, 2, 50)];
        assert_eq!(heir(Channel, &members), Some(2));
    }

    #[test]
    fn joined_at_then_storage_order_break_ties() {
        let by_time = [standing(1, Role::Member, 0, 30), standing(2, Role::Member, 0, 20)];
        assert_eq!(heir(Group, &by_time), Some(2));
        let by_order = [standing(4, Role::Member, 0, 20), standing(3, Role::Member, 0, 20)];
        assert_eq!(heir(Group, &by_order), Some(4));
    }

    #[test]
    fn only_the_top_role_leaving_needs_a_successor() {
        assert!(succession_needed(Group, Role::Admin));
        assert!(!succession_needed(Group, Role::Member));
        assert!(succession_needed(Channel, Role::Owner));
        assert!(!succession_needed(Channel, Role::Admin));
        assert!(!succession_needed(Channel, Role::Member));
    }

    #[test]
    fn giving_owner_hands_ownership_over() {
        let room = [standing(1, Role::Owner, 0, 0), standing(2, Role::Member, 3, 0)];
        assert_eq!(role_changes(Channel, &room, 1, 2, Role::Owner), Ok(vec![(2, Role::Owner), (1, Role::Admin)]));
        assert_eq!(role_changes(Channel, &room, 1, 2, Role::Admin), Ok(vec![(2, Role::Admin)]));
        assert_eq!(role_changes(Channel, &room, 1, 2, Role::Member), Ok(vec![]), "no change");
    }

    #[test]
    fn the_top_role_is_never_left_empty() {
        let room = [standing(1, Role::Owner, 0, 0), standing(2, Role::Admin, 3, 0)];
        assert_eq!(role_changes(Channel, &room, 1, 1, Role::Admin), Err(NO_TOP_ROLE_LEFT));
        let group = [standing(1, Role::Admin, 0, 0), standing(2, Role::Member, 3, 0)];
        assert_eq!(role_changes(Group, &group, 1, 1, Role::Member), Err(NO_TOP_ROLE_LEFT));
        let two_admins = [standing(1, Role::Admin, 0, 0), standing(2, Role::Admin, 3, 0)];
        assert_eq!(role_changes(Group, &two_admins, 1, 1, Role::Member), Ok(vec![(1, Role::Member)]));
    }

    #[test]
    fn a_member_added_later_starts_at_the_seq_of_the_addition() {
        assert_eq!(
            Admission::added_at(12),
            Admission { role: Role::Member, joined_seq: 12, delivered_seq: 12, read_seq: 12 }
        );
    }

    #[test]
    fn founders_see_the_conversation_from_its_start() {
        assert_eq!(
            Admission::founding(Role::Admin),
            Admission { role: Role::Admin, joined_seq: 0, delivered_seq: 0, read_seq: 0 }
        );
    }
}
