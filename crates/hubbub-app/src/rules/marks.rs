//! How a member's delivered and read marks move.

/// A member's watermarks in one conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marks {
    pub delivered: i64,
    pub read: i64,
}

/// The marks after a request to move them: never back, never past the conversation's last
/// seq, and reading implies delivery. `None` when neither moves (a stale or repeated mark),
/// so nothing is written and nobody hears of it. Runs on every mark, so it is arithmetic only.
pub fn advance(old: Marks, delivered: Option<i64>, read: Option<i64>, last_seq: i64) -> Option<Marks> {
    let new_read = old.read.max(read.unwrap_or(0).min(last_seq));
    let new_delivered = old.delivered.max(delivered.unwrap_or(0).min(last_seq)).max(new_read);
    let new = Marks { delivered: new_delivered, read: new_read };
    (new != old).then_some(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: Marks = Marks { delivered: 5, read: 3 };

    #[test]
    fn marks_never_move_back() {
        assert_eq!(advance(OLD, Some(2), Some(1), 10), None);
    }

    #[test]
    fn marks_stop_at_the_last_seq() {
        assert_eq!(advance(OLD, Some(50), Some(40), 10), Some(Marks { delivered: 10, read: 10 }));
    }

    #[test]
    fn reading_implies_delivery() {
        assert_eq!(advance(OLD, None, Some(8), 10), Some(Marks { delivered: 8, read: 8 }));
    }

    #[test]
    fn delivery_alone_leaves_read_where_it_was() {
        assert_eq!(advance(OLD, Some(7), None, 10), Some(Marks { delivered: 7, read: 3 }));
    }

    #[test]
    fn a_repeated_mark_changes_nothing() {
        assert_eq!(advance(OLD, Some(5), Some(3), 10), None);
    }
}
