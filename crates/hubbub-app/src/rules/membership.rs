//! Who a member is when they arrive, and who takes over when the last admin leaves.

use hubbub_domain::{Role, Timestamp};

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

    /// Someone added at `seq`, new or added back. A former member starts over: a plain
    /// member again, marks at the seq of their addition (their old marks belong to a stay
    /// that ended), and what was kept for their view while they were away is dropped, since
    /// they now see the group as it is.
    pub fn added_at(seq: i64) -> Admission {
        Admission { role: Role::Member, joined_seq: seq, delivered_seq: seq, read_seq: seq }
    }
}

/// A current member as the succession rule sees them.
#[derive(Clone, Copy, Debug)]
pub struct Standing<K> {
    /// The adapter's handle of the member (its row key).
    pub key: K,
    pub role: Role,
    pub joined_seq: i64,
    pub joined_at: Timestamp,
}

/// Whether a leaver with this role may leave the group without an admin (only an admin's
/// departure can).
pub fn succession_needed(leaver: Role) -> bool {
    leaver == Role::Admin
}

/// Keeps a group administrable: when no current member is an admin, the longest-standing one
/// (earliest `joined_seq`, then `joined_at`) becomes one. `current` must be in the order the
/// members were first stored, which breaks the remaining ties. `None` when an admin remains or
/// nobody does.
pub fn heir<K: Copy>(current: &[Standing<K>]) -> Option<K> {
    if current.iter().any(|m| m.role == Role::Admin) {
        return None;
    }
    // `min_by_key` returns the first of equal minima, so storage order breaks ties.
    current.iter().min_by_key(|m| (m.joined_seq, m.joined_at)).map(|m| m.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(key: u8, role: Role, joined_seq: i64, joined_at: i64) -> Standing<u8> {
        Standing { key, role, joined_seq, joined_at: Timestamp::from_millis(joined_at) }
    }

    #[test]
    fn no_heir_while_an_admin_remains() {
        let current = [standing(1, Role::Member, 0, 10), standing(2, Role::Admin, 5, 20)];
        assert_eq!(heir(&current), None);
    }

    #[test]
    fn no_heir_in_an_empty_group() {
        assert_eq!(heir::<u8>(&[]), None);
    }

    #[test]
    fn the_longest_standing_member_becomes_admin() {
        let current =
            [standing(1, Role::Member, 7, 10), standing(2, Role::Member, 3, 50), standing(3, Role::Member, 9, 1)];
        assert_eq!(heir(&current), Some(2));
    }

    #[test]
    fn joined_at_then_storage_order_break_ties() {
        let by_time = [standing(1, Role::Member, 0, 30), standing(2, Role::Member, 0, 20)];
        assert_eq!(heir(&by_time), Some(2));
        let by_order = [standing(4, Role::Member, 0, 20), standing(3, Role::Member, 0, 20)];
        assert_eq!(heir(&by_order), Some(4));
    }

    #[test]
    fn only_an_admin_leaving_needs_a_successor() {
        assert!(succession_needed(Role::Admin));
        assert!(!succession_needed(Role::Member));
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
