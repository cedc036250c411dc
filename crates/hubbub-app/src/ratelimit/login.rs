//! The login limiter. Three rules (numbers in `hubbub_domain::RateLimits`), all over failures
//! counted in a fixed window:
//!
//! 1. one username from one address: after 10 failures that pair waits out the window;
//! 2. one address, whatever the usernames: after 30 failures the address waits out the
//!    window (spraying many usernames from one address stops here);
//! 3. one username from all addresses: after 100 failures the username is *slowed*, never
//!    locked. An address that already failed for it in the window gets one attempt per
//!    slowed interval (5 s), shared by all such addresses; an address that has not failed
//!    for it (the owner, on their own network) is not slowed. A distributed guesser gets
//!    one guess per fresh address and then the shared trickle, while the owner still signs
//!    in. Keying by username alone let anyone lock the owner out with ten wrong passwords.
//!
//! Attempts are checked *before* the password is (so a refused attempt learns nothing and
//! costs no Argon2 verification) and counted when admitted, so a burst of parallel guesses
//! cannot all pass before the first failure is recorded. A success takes its own count back
//! (and clears the pair's), so only failures count, and an attacker cannot erase failures by
//! signing in to an account of their own in between.

use super::{Windows, address_key, lock, seconds_until};
use hubbub_domain::RateLimits;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Which rule refused an attempt (for the log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginRule {
    UsernameAndAddress,
    Address,
    SlowedUsername,
}

impl LoginRule {
    /// Stable name of the rule, as logged.
    pub fn code(self) -> &'static str {
        match self {
            LoginRule::UsernameAndAddress => "username_and_address",
            LoginRule::Address => "address",
            LoginRule::SlowedUsername => "slowed_username",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginRefusal {
    pub rule: LoginRule,
    pub retry_after_secs: u64,
}

pub struct LoginLimiter {
    per_pair: u32,
    per_address: u32,
    per_username: u32,
    slowed_interval: Duration,
    state: Mutex<State>,
}

struct State {
    by_pair: Windows<(String, IpAddr)>,
    by_address: Windows<IpAddr>,
    /// The extra is when the next slowed attempt may start.
    by_username: Windows<String, Option<Instant>>,
}

impl LoginLimiter {
    pub fn new(limits: &RateLimits) -> Self {
        let window = limits.login_window;
        Self {
            per_pair: limits.login_failures_per_username_and_address,
            per_address: limits.login_failures_per_address,
            per_username: limits.login_failures_per_username,
            slowed_interval: limits.login_slowed_interval,
            state: Mutex::new(State {
                by_pair: Windows::new(window),
                by_address: Windows::new(window),
                by_username: Windows::new(window),
            }),
        }
    }

    /// Lets an attempt for `username` (already normalised) from `client` go ahead, counted
    /// as a failure until it is settled, or says which rule refuses it and for how long.
    pub fn admit(&self, username: &str, client: IpAddr, now: Instant) -> Result<LoginAttempt<'_>, LoginRefusal> {
        let address = address_key(client);
        let pair = (username.to_owned(), address);
        let user = username.to_owned();
        let mut state = lock(&self.state);
        let pair_failures = state.by_pair.count(&pair, now);
        if pair_failures >= self.per_pair {
            let retry_after_secs = state.by_pair.retry_after(&pair, now);
            return Err(LoginRefusal { rule: LoginRule::UsernameAndAddress, retry_after_secs });
        }
        if state.by_address.count(&address, now) >= self.per_address {
            let retry_after_secs = state.by_address.retry_after(&address, now);
            return Err(LoginRefusal { rule: LoginRule::Address, retry_after_secs });
        }
        let slowed = pair_failures > 0 && state.by_username.count(&user, now) >= self.per_username;
        if slowed
            && let Some(next) = state.by_username.current(&user, now).and_then(|w| w.extra)
            && next > now
        {
            return Err(LoginRefusal { rule: LoginRule::SlowedUsername, retry_after_secs: seconds_until(next, now) });
        }
        state.by_pair.add(pair, now);
        state.by_address.add(address, now);
        let window = state.by_username.add(user, now);
        if slowed {
            window.extra = Some(now + self.slowed_interval);
        }
        drop(state);
        Ok(LoginAttempt { limiter: self, username: username.to_owned(), address, admitted_at: now, settled: false })
    }
}

impl LoginLimiter {
    /// Counts a failure another node of the cluster saw (it arrives over the bus), as if it
    /// had been admitted and failed here: the three rules then hold cluster-wide, whichever
    /// node a client's attempts land on. Only failures cross (a success takes its count back
    /// on its own node and is not sent), so a remote count is never taken back; the slowed
    /// interval (rule 3) stays per node, a trickle of one attempt per interval per node.
    pub fn record_remote_failure(&self, username: &str, client: IpAddr, now: Instant) {
        let address = address_key(client);
        let mut state = lock(&self.state);
        state.by_pair.add((username.to_owned(), address), now);
        state.by_address.add(address, now);
        state.by_username.add(username.to_owned(), now);
    }
}

/// An admitted attempt. Say how it ended: `failed` keeps it counted, `succeeded` takes it
/// back; dropped unsettled (storage failed before the password was judged) it is taken back
/// too, since nobody guessed anything.
#[must_use = "settle the attempt with failed() or succeeded()"]
pub struct LoginAttempt<'a> {
    limiter: &'a LoginLimiter,
    username: String,
    address: IpAddr,
    admitted_at: Instant,
    settled: bool,
}

impl LoginAttempt<'_> {
    pub fn failed(mut self) {
        self.settled = true;
    }

    /// The pair's earlier failures are forgiven too: the address knows the password.
    pub fn succeeded(mut self) {
        self.settled = true;
        let mut state = lock(&self.limiter.state);
        state.by_pair.clear(&(self.username.clone(), self.address));
        self.take_back(&mut state);
    }

    fn take_back(&self, state: &mut State) {
        state.by_address.take_back(&self.address, self.admitted_at);
        state.by_username.take_back(&self.username, self.admitted_at);
    }
}

impl Drop for LoginAttempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            let mut state = lock(&self.limiter.state);
            state.by_pair.take_back(&(self.username.clone(), self.address), self.admitted_at);
            self.take_back(&mut state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn limiter() -> LoginLimiter {
        LoginLimiter::new(&RateLimits::default())
    }

    fn fail(limiter: &LoginLimiter, user: &str, from: &str, now: Instant) {
        limiter.admit(user, ip(from), now).expect("admitted").failed();
    }

    #[test]
    fn failures_seen_on_other_nodes_count_here() {
        let limiter = limiter();
        let t0 = Instant::now();
        for _ in 0..9 {
            limiter.record_remote_failure("bob", ip("192.0.2.1"), t0);
        }
        fail(&limiter, "bob", "192.0.2.1", t0);
        let refused = limiter.admit("bob", ip("192.0.2.1"), t0).err().unwrap();
        assert_eq!(refused.rule, LoginRule::UsernameAndAddress);
        limiter.admit("bob", ip("192.0.2.2"), t0).expect("another address").succeeded();
    }

    #[test]
    fn ten_failures_lock_that_username_from_that_address_only() {
        let limiter = limiter();
        let t0 = Instant::now();
        for _ in 0..10 {
            fail(&limiter, "bob", "192.0.2.1", t0);
        }
        let refused = limiter.admit("bob", ip("192.0.2.1"), t0 + Duration::from_secs(100)).err().unwrap();
        assert_eq!(refused, LoginRefusal { rule: LoginRule::UsernameAndAddress, retry_after_secs: 200 });
        // The owner elsewhere, and another account from that address, are not affected.
        limiter.admit("bob", ip("198.51.100.9"), t0).expect("bob from elsewhere").succeeded();
        limiter.admit("alice", ip("192.0.2.1"), t0).expect("alice from there").succeeded();
        // The window ends.
        limiter.admit("bob", ip("192.0.2.1"), t0 + Duration::from_secs(300)).expect("after the window").failed();
    }

    #[test]
    fn spraying_usernames_from_one_address_stops_at_the_address_limit() {
        let limiter = limiter();
        let t0 = Instant::now();
        for n in 0..30 {
            fail(&limiter, &format!("user{n}"), "192.0.2.1", t0);
        }
        let refused = limiter.admit("user30", ip("192.0.2.1"), t0).err().unwrap();
        assert_eq!(refused.rule, LoginRule::Address);
        // The same /64 is the same address; another /64 is not.
        for n in 0..30 {
            fail(&limiter, &format!("user{n}"), &format!("2001:db8::{n:x}"), t0);
        }
        assert_eq!(limiter.admit("x", ip("2001:db8::ffff"), t0).err().unwrap().rule, LoginRule::Address);
        limiter.admit("x", ip("2001:db8:0:1::1"), t0).expect("another /64").failed();
        limiter.admit("user30", ip("192.0.2.2"), t0).expect("another address").failed();
    }

    #[test]
    fn successes_do_not_count_and_forgive_the_pair() {
        let limiter = limiter();
        let t0 = Instant::now();
        for _ in 0..9 {
            fail(&limiter, "bob", "192.0.2.1", t0);
        }
        limiter.admit("bob", ip("192.0.2.1"), t0).unwrap().succeeded();
        for _ in 0..9 {
            fail(&limiter, "bob", "192.0.2.1", t0);
        }
        limiter.admit("bob", ip("192.0.2.1"), t0).expect("the pair was forgiven").failed();
        // Successes of another account from the address did not erase its failures (19).
        for _ in 0..50 {
            limiter.admit("mallory", ip("192.0.2.1"), t0).unwrap().succeeded();
        }
        for n in 0..11 {
            fail(&limiter, &format!("user{n}"), "192.0.2.1", t0);
        }
        assert_eq!(limiter.admit("carol", ip("192.0.2.1"), t0).err().unwrap().rule, LoginRule::Address);
    }

    #[test]
    fn attempts_in_flight_count_and_an_unsettled_one_is_taken_back() {
        let limiter = limiter();
        let t0 = Instant::now();
        // Ten parallel guesses, none answered yet: the eleventh must wait.
        let in_flight: Vec<_> = (0..10).map(|_| limiter.admit("bob", ip("192.0.2.1"), t0).unwrap()).collect();
        assert_eq!(limiter.admit("bob", ip("192.0.2.1"), t0).err().unwrap().rule, LoginRule::UsernameAndAddress);
        // Dropped without an answer on the password (storage failed): nobody guessed.
        drop(in_flight);
        limiter.admit("bob", ip("192.0.2.1"), t0).expect("taken back").failed();
    }

    #[test]
    fn a_much_guessed_username_is_slowed_for_guessing_addresses_but_not_locked_for_fresh_ones() {
        let limits = RateLimits {
            login_failures_per_username: 5,
            login_slowed_interval: Duration::from_secs(5),
            ..RateLimits::default()
        };
        let limiter = LoginLimiter::new(&limits);
        let t0 = Instant::now();
        for n in 1..=5 {
            fail(&limiter, "bob", &format!("192.0.2.{n}"), t0);
        }
        // A guessing address gets the shared slot, the next one waits for it.
        limiter.admit("bob", ip("192.0.2.1"), t0).expect("the slot").failed();
        let refused = limiter.admit("bob", ip("192.0.2.2"), t0 + Duration::from_millis(500)).err().unwrap();
        assert_eq!(refused, LoginRefusal { rule: LoginRule::SlowedUsername, retry_after_secs: 5 });
        // The owner from an address that has not failed for bob goes straight through.
        limiter.admit("bob", ip("203.0.113.7"), t0).expect("fresh address").succeeded();
        // Other accounts are not slowed.
        limiter.admit("alice", ip("192.0.2.2"), t0).expect("another username").failed();
        // Slowed, not locked: the next slot opens after the interval.
        limiter.admit("bob", ip("192.0.2.2"), t0 + Duration::from_secs(5)).expect("next slot").failed();
        assert!(limiter.admit("bob", ip("192.0.2.3"), t0 + Duration::from_secs(6)).is_err());
        // And when the window ends, the username is no longer slowed.
        let later = t0 + Duration::from_secs(300);
        limiter.admit("bob", ip("192.0.2.3"), later).expect("new window").failed();
        limiter.admit("bob", ip("192.0.2.3"), later).expect("new window, not slowed").failed();
    }
}
