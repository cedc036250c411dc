//! A small fixed-window limiter for failed attempts, keyed by a string (a username).
//! In-process on purpose: it is a brake on guessing, not an accounting system, and each
//! node of a cluster braking on its own still caps the rate at nodes × limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    max_failures: u32,
    window: Duration,
    state: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self { max_failures, window, state: Mutex::new(HashMap::new()) }
    }

    /// `Some(seconds)` to wait when the key has used up its failures in the current window.
    pub fn check(&self, key: &str) -> Option<u64> {
        let state = self.state.lock().ok()?;
        let (started, failures) = state.get(key)?;
        let elapsed = started.elapsed();
        (elapsed < self.window && *failures >= self.max_failures).then(|| (self.window - elapsed).as_secs().max(1))
    }

    pub fn record_failure(&self, key: &str) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        // Forget stale windows now and then so the map cannot grow without bound.
        if state.len() > 10_000 {
            let window = self.window;
            state.retain(|_, (started, _)| started.elapsed() < window);
        }
        let entry = state.entry(key.to_owned()).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= self.window {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }

    pub fn reset(&self, key: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_allowed_failures_and_resets_on_success() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        assert!(limiter.check("bob").is_none());
        limiter.record_failure("bob");
        assert!(limiter.check("bob").is_none());
        limiter.record_failure("bob");
        assert!(limiter.check("bob").unwrap() >= 1);
        assert!(limiter.check("alice").is_none());
        limiter.reset("bob");
        assert!(limiter.check("bob").is_none());
    }
}
