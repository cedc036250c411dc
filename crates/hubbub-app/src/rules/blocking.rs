//! Blocking: what a block takes away from the blocked user. The use cases and the adapters'
//! transactions apply these, so the rule holds wherever the audience or the check is made.

use hubbub_domain::{ConversationKind, User, UserId};

/// What refusing a blocked user says.
pub const BLOCKED: &str = "this user does not accept your messages";

/// A blocked user may not post in a direct conversation with the one who blocked them;
/// blocks do not reach into groups, where the others still talk to both.
pub fn may_post(kind: ConversationKind, blocked_by_a_member: bool) -> bool {
    !(kind == ConversationKind::Direct && blocked_by_a_member)
}

/// Whether the caller may open a direct conversation with `other`, given whom `other` blocks.
pub fn may_open_direct(me: UserId, blocked_by_other: &[UserId]) -> bool {
    !blocked_by_other.contains(&me)
}

/// The audience of someone's presence or typing without the users they blocked.
pub fn without_blocked(audience: &[UserId], blocked: &[UserId]) -> Vec<UserId> {
    audience.iter().copied().filter(|user| !blocked.contains(user)).collect()
}

/// What a user shows of their presence to a viewer they block: nothing (offline, never
/// seen), as if they had never been online.
pub fn mask_presence(user: &mut User, blockers_of_viewer: &[UserId]) {
    if blockers_of_viewer.contains(&user.id) {
        user.online = false;
        user.last_seen_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn a_block_only_closes_direct_conversations() {
        assert!(!may_post(ConversationKind::Direct, true));
        assert!(may_post(ConversationKind::Direct, false));
        assert!(may_post(ConversationKind::Group, true));
    }

    #[test]
    fn the_blocked_are_left_out_of_an_audience() {
        let ids: Vec<UserId> = (1..=3).map(|n| UserId(Uuid::from_u128(n))).collect();
        assert_eq!(without_blocked(&ids, &ids[1..2]), vec![ids[0], ids[2]]);
        assert!(!may_open_direct(ids[0], &ids[..1]));
        assert!(may_open_direct(ids[1], &ids[..1]));
    }
}
