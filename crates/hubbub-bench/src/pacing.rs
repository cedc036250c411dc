//! Open-loop rate pacing and the generator's own overload detectors.
//!
//! The sender is open-loop: message `i` is due at `start + i / rate` whatever the server
//! does, so a slow server shows up as latency (and as a backlog of in-flight sends), not as
//! a silently lower rate. How late the pacer itself wakes up is the generator's problem and
//! is recorded separately: a late pacer means the numbers describe the generator, not the
//! server, and the step is marked invalid.

use crate::stats::Latency;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub rate: f64,
    pub count: u64,
}

impl Schedule {
    /// `rate` messages per second for `duration`, at least one message.
    pub fn new(rate: f64, duration: Duration) -> Self {
        assert!(rate > 0.0, "rate must be positive");
        let count = (rate * duration.as_secs_f64()).round().max(1.0) as u64;
        Self { rate, count }
    }

    /// When message `i` is due, relative to the start of the step.
    pub fn offset(&self, i: u64) -> Duration {
        Duration::from_secs_f64(i as f64 / self.rate)
    }

    pub fn span(&self) -> Duration {
        self.offset(self.count)
    }
}

/// Calls `f(i)` for every message at its due time; returns the histogram of how late each
/// call was. `f` must not block: it spawns the actual send.
pub async fn run_paced(start: Instant, sched: Schedule, mut f: impl FnMut(u64)) -> Latency {
    let mut lag = Latency::new();
    for i in 0..sched.count {
        let due = start + sched.offset(i);
        tokio::time::sleep_until(due).await;
        lag.record_ns(Instant::now().saturating_duration_since(due).as_nanos() as u64);
        f(i);
    }
    lag
}

/// Measures event-loop stalls: a task that asks to sleep 10 ms and records how much longer
/// it actually slept. Large oversleep means the generator's runtime is saturated.
pub struct LoopProbe {
    handle: tokio::task::JoinHandle<Latency>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl LoopProbe {
    pub fn start() -> Self {
        let (stop, mut rx) = tokio::sync::watch::channel(false);
        let handle = tokio::spawn(async move {
            let mut h = Latency::new();
            let tick = Duration::from_millis(10);
            loop {
                let asked = Instant::now() + tick;
                tokio::select! {
                    _ = tokio::time::sleep_until(asked) => {
                        h.record_ns(Instant::now().saturating_duration_since(asked).as_nanos() as u64);
                    }
                    _ = rx.changed() => break,
                }
            }
            h
        });
        Self { handle, stop }
    }

    pub async fn finish(self) -> Latency {
        let _ = self.stop.send(true);
        self.handle.await.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_spreads_messages_evenly() {
        let s = Schedule::new(100.0, Duration::from_secs(2));
        assert_eq!(s.count, 200);
        assert_eq!(s.offset(0), Duration::ZERO);
        assert_eq!(s.offset(50), Duration::from_millis(500));
        assert_eq!(s.span(), Duration::from_secs(2));
        // A tiny rate for a short step still sends one message.
        assert_eq!(Schedule::new(0.1, Duration::from_secs(1)).count, 1);
    }

    // Paused time makes the pacer's arithmetic observable without asserting wall-clock timing.
    #[tokio::test(start_paused = true)]
    async fn paced_calls_happen_at_their_due_times_in_order() {
        let start = Instant::now();
        let sched = Schedule::new(50.0, Duration::from_secs(1));
        let mut seen = Vec::new();
        let lag = run_paced(start, sched, |i| seen.push((i, Instant::now() - start))).await;
        assert_eq!(seen.len(), 50);
        for (k, (i, at)) in seen.iter().enumerate() {
            assert_eq!(*i, k as u64);
            assert_eq!(*at, sched.offset(*i));
        }
        assert_eq!(lag.len(), 50);
    }
}
