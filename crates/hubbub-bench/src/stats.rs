//! Latency histograms and per-receiver delivery accounting.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Latency histogram in microseconds, 1 µs to 1 h at 3 significant digits. Receivers and
/// senders each keep their own (no shared lock on the hot path) and they are merged at the
/// end of a step.
#[derive(Clone)]
pub struct Latency {
    h: Histogram<u64>,
}

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Latency({:?})", self.summary())
    }
}

impl Latency {
    pub fn new() -> Self {
        Self { h: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds") }
    }

    pub fn record_ns(&mut self, ns: u64) {
        // Sub-microsecond values round up to 1 µs so they are still counted.
        self.h.saturating_record((ns / 1000).max(1));
    }

    pub fn merge(&mut self, other: &Latency) {
        // Both histograms have the same bounds, so `add` cannot fail.
        self.h.add(&other.h).expect("same bounds");
    }

    pub fn len(&self) -> u64 {
        self.h.len()
    }

    pub fn is_empty(&self) -> bool {
        self.h.is_empty()
    }

    pub fn summary(&self) -> LatencySummary {
        if self.h.is_empty() {
            return LatencySummary::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        LatencySummary {
            count: self.h.len(),
            p50_ms: ms(self.h.value_at_quantile(0.50)),
            p90_ms: ms(self.h.value_at_quantile(0.90)),
            p99_ms: ms(self.h.value_at_quantile(0.99)),
            p999_ms: ms(self.h.value_at_quantile(0.999)),
            max_ms: ms(self.h.max()),
            mean_ms: self.h.mean() / 1000.0,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// A growable bit set over dense message numbers.
#[derive(Debug, Clone, Default)]
pub struct BitSet {
    words: Vec<u64>,
    ones: u64,
}

impl BitSet {
    /// Sets bit `i`; returns false if it was already set.
    pub fn insert(&mut self, i: u64) -> bool {
        let (w, b) = ((i / 64) as usize, i % 64);
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        let was = self.words[w] & (1 << b) != 0;
        self.words[w] |= 1 << b;
        if !was {
            self.ones += 1;
        }
        !was
    }

    pub fn contains(&self, i: u64) -> bool {
        let (w, b) = ((i / 64) as usize, i % 64);
        self.words.get(w).is_some_and(|x| x & (1 << b) != 0)
    }

    pub fn len(&self) -> u64 {
        self.ones
    }

    pub fn is_empty(&self) -> bool {
        self.ones == 0
    }

    /// Number of bits set in `self` and not in `other`.
    pub fn count_minus(&self, other: &BitSet) -> u64 {
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| (w & !other.words.get(i).copied().unwrap_or(0)).count_ones() as u64)
            .sum()
    }
}

/// What one receiver saw of one conversation during one step.
#[derive(Debug, Clone, Default)]
pub struct ConvTracker {
    received: BitSet,
    last_seq: u64,
    duplicates: u64,
    out_of_order: u64,
}

impl ConvTracker {
    /// Records a delivery of message number `n` carrying `seq`.
    pub fn on_delivery(&mut self, n: u64, seq: u64) {
        if !self.received.insert(n) {
            self.duplicates += 1;
            return;
        }
        // The contract promises events of one conversation in seq order on a socket, so
        // any seq not above the last one seen is a reordering (duplicates are counted apart).
        if seq <= self.last_seq {
            self.out_of_order += 1;
        } else {
            self.last_seq = seq;
        }
    }

    /// Compares what arrived with what the server acknowledged.
    pub fn reconcile(&self, acked: &BitSet) -> Accounting {
        Accounting {
            expected: acked.len(),
            received: self.received.len(),
            lost: acked.count_minus(&self.received),
            unacked_received: self.received.count_minus(acked),
            duplicates: self.duplicates,
            out_of_order: self.out_of_order,
        }
    }
}

/// Loss/duplicate/order counts, summed over receivers and conversations.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Accounting {
    /// Deliveries that should have happened: acknowledged messages × receivers.
    pub expected: u64,
    /// Distinct deliveries that did happen.
    pub received: u64,
    /// Acknowledged messages a receiver never got.
    pub lost: u64,
    /// Delivered messages whose POST failed or timed out (not an error in itself).
    pub unacked_received: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
}

impl Accounting {
    pub fn add(&mut self, o: &Accounting) {
        self.expected += o.expected;
        self.received += o.received;
        self.lost += o.lost;
        self.unacked_received += o.unacked_received;
        self.duplicates += o.duplicates;
        self.out_of_order += o.out_of_order;
    }

    pub fn clean(&self) -> bool {
        self.lost == 0 && self.duplicates == 0 && self.out_of_order == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_merge_adds_counts_and_keeps_extremes() {
        let mut a = Latency::new();
        let mut b = Latency::new();
        for i in 1..=100 {
            a.record_ns(i * 1_000_000); // 1..100 ms
        }
        b.record_ns(5_000_000_000); // one 5 s outlier
        b.record_ns(10); // sub-µs still counted
        a.merge(&b);
        let s = a.summary();
        assert_eq!(s.count, 102);
        assert!((s.max_ms - 5000.0).abs() / 5000.0 < 0.01, "{s:?}");
        assert!((s.p50_ms - 50.0).abs() < 1.0, "{s:?}");
        assert!(s.p99_ms >= 99.0 && s.p99_ms <= 101.0, "{s:?}");
        assert_eq!(Latency::new().summary(), LatencySummary::default());
    }

    #[test]
    fn bitset_counts() {
        let mut s = BitSet::default();
        assert!(s.insert(0));
        assert!(s.insert(130));
        assert!(!s.insert(130));
        assert!(s.contains(130) && !s.contains(129) && !s.contains(10_000));
        assert_eq!(s.len(), 2);
        let mut o = BitSet::default();
        o.insert(130);
        assert_eq!(s.count_minus(&o), 1);
        assert_eq!(o.count_minus(&s), 0);
    }

    #[test]
    fn accounting_finds_loss_duplicates_and_reordering() {
        let mut acked = BitSet::default();
        for n in 0..10 {
            acked.insert(n);
        }
        let mut t = ConvTracker::default();
        // seq 101..=108 for n 0..=7, with n=3 arriving twice and n=5/n=6 swapped; 8 and 9 lost.
        for (n, seq) in [(0, 101), (1, 102), (2, 103), (3, 104), (3, 104), (4, 105), (6, 107), (5, 106), (7, 108)] {
            t.on_delivery(n, seq);
        }
        // One message we never got an ack for (e.g. the POST timed out) but was delivered.
        t.on_delivery(42, 150);
        let a = t.reconcile(&acked);
        assert_eq!(
            a,
            Accounting { expected: 10, received: 9, lost: 2, unacked_received: 1, duplicates: 1, out_of_order: 1 }
        );
        assert!(!a.clean());

        let mut perfect = ConvTracker::default();
        for n in 0..10 {
            perfect.on_delivery(n, n + 1);
        }
        let p = perfect.reconcile(&acked);
        assert!(p.clean());
        let mut sum = Accounting::default();
        sum.add(&a);
        sum.add(&p);
        assert_eq!((sum.expected, sum.lost, sum.duplicates), (20, 2, 1));
    }
}
