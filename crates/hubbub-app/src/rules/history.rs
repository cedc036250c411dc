//! Which part of a conversation's history a member may page through.

use crate::ports::{HistoryCursor, Membership};

/// A range of seqs to read: above `after`, up to and including `up_to`, taken from the
/// newest end when `newest_first` (a page before a point, or the latest page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub after: i64,
    pub up_to: i64,
    pub newest_first: bool,
}

/// Where what a member may see begins: after the seq of their addition, or after the seq
/// they cleared their history up to, whichever is later.
pub fn visible_from(membership: &Membership) -> i64 {
    membership.visible_after.max(membership.cleared_seq)
}

/// What a member may see starts after `visible_from` and, once they left, ends at the seq
/// they left at; the cursor narrows that, never widens it.
pub fn messages_window(membership: &Membership, cursor: HistoryCursor) -> Window {
    let visible = events_window(membership, 0);
    match cursor {
        HistoryCursor::Latest => Window { newest_first: true, ..visible },
        HistoryCursor::Before(before) => {
            Window { up_to: visible.up_to.min(before.saturating_sub(1)), newest_first: true, ..visible }
        }
        HistoryCursor::After(after) => Window { after: visible.after.max(after), ..visible },
    }
}

/// The events a member may replay after `after` (the same bounds as their messages).
pub fn events_window(membership: &Membership, after: i64) -> Window {
    Window {
        after: after.max(visible_from(membership)),
        up_to: membership.left_seq.unwrap_or(i64::MAX),
        newest_first: false,
    }
}

/// Turns up to `limit + 1` rows read in the window's order into a page of at most `limit`,
/// oldest first, and whether more lie beyond it.
pub fn page<T>(mut rows: Vec<T>, limit: u32, window: Window) -> (Vec<T>, bool) {
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    if window.newest_first {
        rows.reverse();
    }
    (rows, has_more)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubbub_domain::{ConversationKind, Role};

    fn member(visible_after: i64, left_seq: Option<i64>) -> Membership {
        Membership {
            kind: ConversationKind::Group,
            role: Role::Member,
            visible_after,
            left_seq,
            member_count: 3,
            cleared_seq: 0,
        }
    }

    #[test]
    fn a_cleared_history_starts_after_the_clear() {
        let cleared = Membership { cleared_seq: 7, ..member(4, None) };
        assert_eq!(messages_window(&cleared, HistoryCursor::Latest).after, 7);
        assert_eq!(
            messages_window(&cleared, HistoryCursor::Before(6)),
            Window { after: 7, up_to: 5, newest_first: true }
        );
        assert_eq!(events_window(&cleared, 2).after, 7);
        assert_eq!(events_window(&cleared, 9).after, 9);
        // A clear older than the addition changes nothing.
        assert_eq!(visible_from(&Membership { cleared_seq: 2, ..member(4, None) }), 4);
    }

    #[test]
    fn a_current_member_sees_everything_after_their_addition() {
        assert_eq!(
            messages_window(&member(4, None), HistoryCursor::Latest),
            Window { after: 4, up_to: i64::MAX, newest_first: true }
        );
    }

    #[test]
    fn a_former_member_sees_nothing_after_they_left() {
        let former = member(4, Some(9));
        assert_eq!(messages_window(&former, HistoryCursor::Latest), Window { after: 4, up_to: 9, newest_first: true });
        assert_eq!(events_window(&former, 0), Window { after: 4, up_to: 9, newest_first: false });
    }

    #[test]
    fn cursors_narrow_the_window_never_widen_it() {
        let former = member(4, Some(9));
        assert_eq!(messages_window(&former, HistoryCursor::Before(7)).up_to, 6);
        assert_eq!(messages_window(&former, HistoryCursor::Before(50)).up_to, 9);
        assert_eq!(messages_window(&former, HistoryCursor::After(1)).after, 4);
        let after = messages_window(&former, HistoryCursor::After(6));
        assert_eq!((after.after, after.up_to, after.newest_first), (6, 9, false));
        assert_eq!(events_window(&former, 7).after, 7);
    }

    #[test]
    fn a_page_is_oldest_first_and_says_whether_more_remain() {
        let newest = Window { after: 0, up_to: 10, newest_first: true };
        assert_eq!(page(vec![10, 9, 8], 2, newest), (vec![9, 10], true));
        let oldest = Window { newest_first: false, ..newest };
        assert_eq!(page(vec![1, 2], 2, oldest), (vec![1, 2], false));
    }
}
