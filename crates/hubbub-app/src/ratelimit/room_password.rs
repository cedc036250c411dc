//! Wrong room passwords: a user who gives a room a wrong password 5 times within 5 minutes
//! waits out the window for that room (429) before trying it again.
//!
//! Keyed by (user, room) rather than by room alone, so strangers cannot lock everyone out
//! of a room by guessing wrong on purpose (the login limiter refuses the same lockout for
//! usernames); a guesser with many accounts is slowed by the registration limit instead.
//! Counted on every node: each wrong password is published
//! (`BusMessage::RoomPasswordFailed`) and every other node counts it too, so a round-robin
//! balancer does not multiply the limit (the slack is the crossing time and, while the bus
//! is down, nodes × limit).
//!
//! As for logins, an attempt is counted when admitted (before the Argon2 verification, so
//! parallel guesses cannot all pass before the first failure is recorded) and taken back
//! when it turns out right, or when it was never judged.

use super::{Windows, lock};
use hubbub_domain::{ConversationId, RateLimits, UserId};
use std::sync::Mutex;
use std::time::Instant;

type Key = (UserId, ConversationId);

pub struct RoomPasswordLimiter {
    max: u32,
    windows: Mutex<Windows<Key>>,
}

impl RoomPasswordLimiter {
    pub fn new(limits: &RateLimits) -> Self {
        Self { max: limits.room_password_failures, windows: Mutex::new(Windows::new(limits.room_password_window)) }
    }

    /// Lets an attempt of `user` on `room` go ahead, counted as a failure until settled, or
    /// `Err(seconds to wait)` when the pair has used up its window.
    pub fn admit(&self, user: UserId, room: ConversationId, now: Instant) -> Result<RoomAttempt<'_>, u64> {
        let key = (user, room);
        let mut windows = lock(&self.windows);
        if windows.count(&key, now) >= self.max {
            return Err(windows.retry_after(&key, now));
        }
        windows.add(key, now);
        Ok(RoomAttempt { limiter: self, key, admitted_at: now, settled: false })
    }

    /// Counts a wrong password another node of the cluster saw (over the bus), as if it had
    /// been admitted and failed here; never taken back (only failures cross).
    pub fn record_remote_failure(&self, user: UserId, room: ConversationId, now: Instant) {
        lock(&self.windows).add((user, room), now);
    }
}

/// An admitted attempt: `failed` keeps it counted, `succeeded` takes it back; dropped
/// unsettled (the verification never ran) it is taken back too.
#[must_use = "settle the attempt with failed() or succeeded()"]
pub struct RoomAttempt<'a> {
    limiter: &'a RoomPasswordLimiter,
    key: Key,
    admitted_at: Instant,
    settled: bool,
}

impl RoomAttempt<'_> {
    pub fn failed(mut self) {
        self.settled = true;
    }

    pub fn succeeded(self) {
        // Dropped unsettled: taken back.
    }
}

impl Drop for RoomAttempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            lock(&self.limiter.windows).take_back(&self.key, self.admitted_at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn five_wrong_passwords_lock_that_user_out_of_that_room_only() {
        let limiter = RoomPasswordLimiter::new(&RateLimits::default());
        let (alice, bob) = (UserId::generate(), UserId::generate());
        let (room, other) = (ConversationId::generate(), ConversationId::generate());
        let t0 = Instant::now();
        for _ in 0..5 {
            limiter.admit(alice, room, t0).expect("admitted").failed();
        }
        assert_eq!(limiter.admit(alice, room, t0 + Duration::from_secs(60)).err(), Some(240));
        limiter.admit(alice, other, t0).expect("another room").failed();
        limiter.admit(bob, room, t0).expect("another user").succeeded();
        limiter.admit(alice, room, t0 + Duration::from_secs(300)).expect("the window ended").failed();
    }

    #[test]
    fn failures_seen_on_other_nodes_count_here() {
        let limiter = RoomPasswordLimiter::new(&RateLimits::default());
        let (alice, room) = (UserId::generate(), ConversationId::generate());
        let t0 = Instant::now();
        for _ in 0..4 {
            limiter.record_remote_failure(alice, room, t0);
        }
        limiter.admit(alice, room, t0).expect("the fifth try").failed();
        assert!(limiter.admit(alice, room, t0).is_err());
    }

    #[test]
    fn right_and_unjudged_attempts_do_not_count() {
        let limiter = RoomPasswordLimiter::new(&RateLimits::default());
        let (alice, room) = (UserId::generate(), ConversationId::generate());
        let t0 = Instant::now();
        for _ in 0..4 {
            limiter.admit(alice, room, t0).unwrap().failed();
        }
        limiter.admit(alice, room, t0).unwrap().succeeded();
        drop(limiter.admit(alice, room, t0).unwrap());
        limiter.admit(alice, room, t0).expect("still the fifth try").failed();
        assert!(limiter.admit(alice, room, t0).is_err());
    }
}
