//! Who owes a receipt for a message.

use hubbub_domain::UserId;

/// One member's stay, as the receipt rule sees it.
#[derive(Clone, Copy, Debug)]
pub struct Reader {
    pub user: UserId,
    pub joined_seq: i64,
    pub left_seq: Option<i64>,
}

/// Everyone but the sender who was a member when the message was sent: added before its
/// seq, and not gone before it (one removed at a later seq was there to receive it).
pub fn owes_receipt(reader: Reader, sender: UserId, message_seq: i64) -> bool {
    reader.user != sender && reader.joined_seq < message_seq && reader.left_seq.is_none_or(|left| left >= message_seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn reader(n: u128, joined_seq: i64, left_seq: Option<i64>) -> Reader {
        Reader { user: UserId(Uuid::from_u128(n)), joined_seq, left_seq }
    }

    const SENDER: UserId = UserId(Uuid::from_u128(1));

    #[test]
    fn the_sender_owes_no_receipt() {
        assert!(!owes_receipt(reader(1, 0, None), SENDER, 5));
    }

    #[test]
    fn members_there_when_it_was_sent_owe_one() {
        assert!(owes_receipt(reader(2, 0, None), SENDER, 5));
        assert!(owes_receipt(reader(2, 4, Some(5)), SENDER, 5), "removed at a later seq, so after it");
        assert!(owes_receipt(reader(2, 4, Some(9)), SENDER, 5));
    }

    #[test]
    fn members_added_at_or_after_it_or_gone_before_it_do_not() {
        assert!(!owes_receipt(reader(2, 5, None), SENDER, 5));
        assert!(!owes_receipt(reader(2, 7, None), SENDER, 5));
        assert!(!owes_receipt(reader(2, 0, Some(4)), SENDER, 5));
    }
}
