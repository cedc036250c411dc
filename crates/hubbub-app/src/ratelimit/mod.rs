//! In-process limiters that count attempts per key in fixed windows: the login limiter
//! (`login.rs`), a per-address limiter (registration) and the wrong room passwords per user
//! and room (`room_password.rs`, published as `BusMessage::RoomPasswordFailed`). In-process on purpose: they are a
//! brake on guessing and spam, not an accounting system. In a cluster every counted failure
//! and registration is also published on the bus (`BusMessage::LoginFailed`/`Registered`)
//! and every other node counts it too (`record_remote_*`), so a client spreading attempts
//! over the nodes (a round-robin balancer) meets the same limit as on one node. The
//! remaining slack is the crossing time (a few ms) and, while the bus is down, nodes × limit.
//!
//! Every method takes `now` so the rules can be tested without waiting; use cases pass
//! `Instant::now()`.
//!
//! Memory: a key is only added by an attempt the limits let through (for logins, one that
//! then costs an Argon2 verification), so a map grows at most as fast as the server can
//! answer; windows that have ended are swept whenever a map has doubled since the last sweep.

mod login;
mod room_password;

pub use login::{LoginAttempt, LoginLimiter, LoginRefusal, LoginRule};
pub use room_password::{RoomAttempt, RoomPasswordLimiter};

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The key of a client address in the per-address limits. An IPv6 client is counted by its
/// /64: a subscriber is usually given a whole /64 (often more) and may use any address in
/// it, so counting single IPv6 addresses would limit nobody. An IPv4-mapped IPv6 address (how
/// a dual-stack socket sees an IPv4 peer) counts as that IPv4 address.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
    }
}

/// One key's count in its current window, and whatever else a limiter keeps per window.
#[derive(Clone, Copy, Debug)]
struct Window<V> {
    started: Instant,
    count: u32,
    extra: V,
}

/// Fixed-window counts per key. Not locked itself: a limiter that checks several of these
/// holds one lock around all of them, so checking and counting an attempt is one step.
struct Windows<K, V = ()> {
    length: Duration,
    map: HashMap<K, Window<V>>,
    sweep_above: usize,
}

const SWEEP_MIN: usize = 1024;

impl<K: Hash + Eq, V: Default> Windows<K, V> {
    fn new(length: Duration) -> Self {
        Self { length, map: HashMap::new(), sweep_above: SWEEP_MIN }
    }

    fn current(&self, key: &K, now: Instant) -> Option<&Window<V>> {
        self.map.get(key).filter(|w| now.saturating_duration_since(w.started) < self.length)
    }

    /// The count of `key` in the window running at `now` (0 when none is).
    fn count(&self, key: &K, now: Instant) -> u32 {
        self.current(key, now).map_or(0, |w| w.count)
    }

    /// Whole seconds (at least 1) until the window of `key` ends.
    fn retry_after(&self, key: &K, now: Instant) -> u64 {
        self.current(key, now).map_or(1, |w| seconds_until(w.started + self.length, now))
    }

    /// Counts one attempt, starting a new window when none is running.
    fn add(&mut self, key: K, now: Instant) -> &mut Window<V> {
        self.sweep(now);
        let length = self.length;
        let window = self.map.entry(key).or_insert_with(|| Window { started: now, count: 0, extra: V::default() });
        if now.saturating_duration_since(window.started) >= length {
            *window = Window { started: now, count: 0, extra: V::default() };
        }
        window.count = window.count.saturating_add(1);
        window
    }

    /// Takes back one attempt counted at `counted_at`, unless its window has ended and a new
    /// one started since (the new window never saw that attempt).
    fn take_back(&mut self, key: &K, counted_at: Instant) {
        if let Some(window) = self.map.get_mut(key)
            && window.started <= counted_at
        {
            window.count = window.count.saturating_sub(1);
        }
    }

    fn clear(&mut self, key: &K) {
        self.map.remove(key);
    }

    fn sweep(&mut self, now: Instant) {
        if self.map.len() < self.sweep_above {
            return;
        }
        let length = self.length;
        self.map.retain(|_, w| now.saturating_duration_since(w.started) < length);
        self.sweep_above = (self.map.len() * 2).max(SWEEP_MIN);
    }
}

/// Rounded up, so a client that waits as long as told is not refused again.
fn seconds_until(deadline: Instant, now: Instant) -> u64 {
    let left = deadline.saturating_duration_since(now);
    (left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1)
}

/// The counts stay meaningful if a holder panicked (nothing inside can leave them half
/// written), so a poisoned lock is used as is rather than turning every login into a panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// At most `max` attempts per client address (IPv6: per /64) in each window; registration's
/// limit. Every attempt counts, whatever its outcome.
pub struct AddressLimiter {
    max: u32,
    windows: Mutex<Windows<IpAddr>>,
}

impl AddressLimiter {
    /// `max` 0 turns the limit off.
    pub fn new(max: u32, window: Duration) -> Self {
        Self { max, windows: Mutex::new(Windows::new(window)) }
    }

    /// Counts an attempt from `client`, or `Err(seconds to wait)` when the address has used
    /// up its window (a refused attempt is not counted).
    pub fn try_acquire(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        if self.max == 0 {
            return Ok(());
        }
        let key = address_key(client);
        let mut windows = lock(&self.windows);
        if windows.count(&key, now) >= self.max {
            return Err(windows.retry_after(&key, now));
        }
        windows.add(key, now);
        Ok(())
    }

    /// Counts an attempt another node counted (over the bus); never refused, since the
    /// other node already let it through.
    pub fn record_remote(&self, client: IpAddr, now: Instant) {
        if self.max == 0 {
            return;
        }
        lock(&self.windows).add(address_key(client), now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(address_key(ip("2001:db8:1:2::1")), address_key(ip("2001:db8:1:2:ffff:eeee:dddd:cccc")));
        assert_eq!(address_key(ip("2001:db8:1:2::1")), ip("2001:db8:1:2::"));
        assert_ne!(address_key(ip("2001:db8:1:2::1")), address_key(ip("2001:db8:1:3::1")));
        assert_eq!(address_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(address_key(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_ne!(address_key(ip("192.0.2.7")), address_key(ip("192.0.2.8")));
    }

    #[test]
    fn an_address_gets_its_allowance_per_window_and_others_are_unaffected() {
        let limiter = AddressLimiter::new(2, Duration::from_secs(3600));
        let t0 = Instant::now();
        assert!(limiter.try_acquire(ip("192.0.2.1"), t0).is_ok());
        assert!(limiter.try_acquire(ip("192.0.2.1"), t0).is_ok());
        let wait = limiter.try_acquire(ip("192.0.2.1"), t0 + Duration::from_secs(600)).unwrap_err();
        assert_eq!(wait, 3000);
        assert!(limiter.try_acquire(ip("192.0.2.2"), t0).is_ok());
        // Another address of the same IPv6 /64 shares its allowance.
        assert!(limiter.try_acquire(ip("2001:db8::1"), t0).is_ok());
        assert!(limiter.try_acquire(ip("2001:db8::2"), t0).is_ok());
        assert!(limiter.try_acquire(ip("2001:db8::3"), t0).is_err());
        assert!(limiter.try_acquire(ip("192.0.2.1"), t0 + Duration::from_secs(3600)).is_ok());
    }

    #[test]
    fn attempts_counted_on_other_nodes_use_up_the_allowance() {
        let limiter = AddressLimiter::new(2, Duration::from_secs(3600));
        let t0 = Instant::now();
        limiter.record_remote(ip("192.0.2.1"), t0);
        assert!(limiter.try_acquire(ip("192.0.2.1"), t0).is_ok());
        assert!(limiter.try_acquire(ip("192.0.2.1"), t0).is_err());
    }

    #[test]
    fn zero_means_no_limit() {
        let limiter = AddressLimiter::new(0, Duration::from_secs(3600));
        let t0 = Instant::now();
        for _ in 0..100 {
            assert!(limiter.try_acquire(ip("192.0.2.1"), t0).is_ok());
        }
    }

    #[test]
    fn retry_after_rounds_up_and_is_at_least_one_second() {
        let t0 = Instant::now();
        assert_eq!(seconds_until(t0 + Duration::from_millis(1500), t0), 2);
        assert_eq!(seconds_until(t0 + Duration::from_secs(3), t0), 3);
        assert_eq!(seconds_until(t0, t0 + Duration::from_secs(1)), 1);
    }

    #[test]
    fn ended_windows_are_swept_once_the_map_has_grown() {
        let mut windows: Windows<u32> = Windows::new(Duration::from_secs(10));
        let t0 = Instant::now();
        for key in 0..SWEEP_MIN as u32 {
            windows.add(key, t0);
        }
        windows.add(u32::MAX, t0 + Duration::from_secs(11));
        assert_eq!(windows.map.len(), 1, "the ended windows were dropped");
        assert_eq!(windows.count(&u32::MAX, t0 + Duration::from_secs(11)), 1);
    }
}
