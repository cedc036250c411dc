//! The delivery cursor: each persisted event reaches this node's sockets once, in seq order,
//! whatever order the bus brings them in.
//!
//! Why it is needed: each node publishes its own commits in its commit order, and NATS keeps
//! one connection's order, but two nodes writing one conversation publish on two
//! connections: a third node may get seq 6 (from B) before seq 5 (from A). And envelopes sent
//! while NATS was down never come at all; they are replayed from the store (by seq), which
//! may hand this node events it already has.
//!
//! The rule, per conversation: the cursor is the highest seq handed to local sockets. An
//! event at or below it is a duplicate and dropped; the one right after it is delivered and
//! moves it (then any buffered successors follow); one further ahead waits in a buffer,
//! and the caller arms a gap timer: if the gap is still open when it fires, the caller reads
//! the missing events from the store (`Store::committed_after`) and offers them here, the
//! same path as the bus.
//!
//! One seq may carry two events (adding a member commits `member.added` for the others and
//! the newcomer's `conversation.created` at one seq), so at the cursor's seq an event whose
//! bytes differ from those already delivered there is delivered too ([`Identify`]). Only
//! the first of them is in the event log, so a node that lost both envelopes replays
//! `member.added` and not the newcomer's welcome, and a gap fill that overtook the pair
//! drops the welcome as old: that newcomer's client learns of the conversation from its
//! conversation list (`GET /api/conversations`) instead.
//!
//! This is a pure state machine (no clock, no I/O, no tasks): the caller passes `now` and
//! does the timers and the fetches (`bus.rs`), so every rule is unit-tested here without
//! a store. It is generic over the item so the tests need no payloads.
//!
//! Cost on the hot path (one node, LocalBus, or any in-order stream): `offer` is one
//! `HashMap::get_mut`, two compares, a few stores and a `Bytes` handle swapped (one
//! atomic increment and one decrement); the buffer of a lane in order is an
//! empty `BTreeMap`, which allocates nothing. Nothing is allocated per event; a lane is
//! allocated once per conversation.
//!
//! Forgetting. The table is bounded: a lane idle for `idle` (10 min) with nothing waiting is
//! dropped at the next sweep, and past `cap` lanes the least recently active go first. A
//! forgotten conversation is "no cursor yet" again: its next event is delivered whatever its
//! seq and sets the cursor. What that costs: (1) a duplicate of an event delivered before
//! the lane was forgotten would be delivered again; duplicates come only from the replay
//! after a bus outage (`committed_since`, a window starting 2 s before the outage) and from
//! gap fills, both of events at most minutes old, so a lane idle for 10 min has none coming,
//! unless an outage lasted longer than that; (2) if the first two events after forgetting
//! (or after start) arrive out of order, the later seq sets the cursor and the earlier one is
//! dropped as a duplicate: the client sees the gap in `seq` and fills it with
//! `/events?after=`, as it does after any disconnection. A lane exists from this node's first
//! event of a conversation, so both cases need a conversation silent for 10 min on this node
//! and then two nodes writing to it within milliseconds of each other.

use hubbub_domain::ConversationId;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Lanes idle this long (and with nothing waiting) are forgotten.
pub(crate) const IDLE: Duration = Duration::from_secs(600);
/// At most this many conversations remembered (about 100 bytes each: some 6.5 MB).
pub(crate) const CAP: usize = 65_536;
/// How often idle lanes are looked for (only when a new lane is made).
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// What tells two events of one seq apart. One commit may carry two events with the same
/// seq for different audiences (adding a member: `member.added` for the others and the
/// newcomer's own `conversation.created`), so the seq alone is not an event's identity; its
/// bytes are (a copy of one event, from the bus or the store, has the same bytes: the JSON
/// is serialised once and stored as sent).
pub(crate) trait Identify {
    type Id: PartialEq;
    fn id(&self) -> Self::Id;
}

struct Lane<T: Identify> {
    cursor: i64,
    /// The events delivered at the cursor's seq: usually one (a handle to its bytes, no
    /// copy), more only for a commit like adding a member. `siblings` stays empty, and so
    /// allocates nothing, otherwise.
    at_cursor: Option<T::Id>,
    siblings: Vec<T::Id>,
    last_active: Instant,
    /// Events ahead of the cursor, waiting for the gap before them to fill; the entry of
    /// the cursor's own seq may hold the rest of a commit's events being released.
    waiting: BTreeMap<i64, Vec<T>>,
    /// A gap timer is running for this lane (so at most one per lane).
    timer_armed: bool,
}

/// What to do with an offered event.
#[derive(Debug, PartialEq)]
pub(crate) enum Offer<T> {
    /// Hand it to the sockets now. When `more` is set, successors were waiting: take them
    /// with [`Sequencer::next_ready`] until it says none, in that order.
    Deliver { item: T, more: bool },
    /// At or below the cursor (or already waiting): drop it.
    Duplicate,
    /// Ahead of the cursor; kept. When `arm_timer` is set, the caller starts the gap timer
    /// (and calls [`Sequencer::gap_expired`] when it fires).
    Buffered { arm_timer: bool },
}

pub(crate) struct Sequencer<T: Identify> {
    lanes: HashMap<ConversationId, Lane<T>>,
    cap: usize,
    idle: Duration,
    next_sweep: Option<Instant>,
}

impl<T: Identify> Sequencer<T> {
    pub(crate) fn new(cap: usize, idle: Duration) -> Self {
        Sequencer { lanes: HashMap::new(), cap, idle, next_sweep: None }
    }

    /// Offers the event `seq` of `conversation` (from the bus, a gap fill or a replay).
    pub(crate) fn offer(&mut self, conversation: ConversationId, seq: i64, item: T, now: Instant) -> Offer<T> {
        let Some(lane) = self.lanes.get_mut(&conversation) else {
            // No cursor yet (new conversation, node just started, or the lane was forgotten:
            // see the module comment for what that means).
            self.make_room(now);
            let lane = Lane {
                cursor: seq,
                at_cursor: Some(item.id()),
                siblings: Vec::new(),
                last_active: now,
                waiting: BTreeMap::new(),
                timer_armed: false,
            };
            self.lanes.insert(conversation, lane);
            return Offer::Deliver { item, more: false };
        };
        lane.last_active = now;
        if seq == lane.cursor + 1 {
            // The hot path: two compares, a handle stored, nothing allocated.
            lane.cursor = seq;
            lane.at_cursor = Some(item.id());
            lane.siblings.clear();
            let more = lane.waiting.first_key_value().is_some_and(|(next, _)| *next == seq + 1);
            return Offer::Deliver { item, more };
        }
        if seq == lane.cursor {
            let id = item.id();
            if lane.at_cursor.as_ref() == Some(&id) || lane.siblings.contains(&id) {
                return Offer::Duplicate;
            }
            // Another event of the commit just delivered.
            lane.siblings.push(id);
            return Offer::Deliver { item, more: false };
        }
        if seq < lane.cursor {
            return Offer::Duplicate;
        }
        let waiting = lane.waiting.entry(seq).or_default();
        let id = item.id();
        if waiting.iter().any(|other| other.id() == id) {
            return Offer::Duplicate;
        }
        waiting.push(item);
        let arm_timer = !lane.timer_armed;
        lane.timer_armed = true;
        Offer::Buffered { arm_timer }
    }

    /// The next waiting event that directly follows the cursor (which it moves) or that
    /// shares the cursor's seq (the rest of one commit).
    pub(crate) fn next_ready(&mut self, conversation: ConversationId) -> Option<T> {
        let lane = self.lanes.get_mut(&conversation)?;
        let mut entry = lane.waiting.first_entry()?;
        let seq = *entry.key();
        if seq == lane.cursor + 1 {
            lane.cursor = seq;
            lane.at_cursor = None;
            lane.siblings.clear();
        } else if seq != lane.cursor {
            return None;
        }
        let items = entry.get_mut();
        let item = items.remove(0);
        if items.is_empty() {
            entry.remove();
        }
        let id = item.id();
        if lane.at_cursor.is_none() {
            lane.at_cursor = Some(id);
        } else {
            lane.siblings.push(id);
        }
        Some(item)
    }

    /// The gap timer fired. `Some(cursor)` when the gap is still open: fetch the events above
    /// it from the store, offer them, then ask [`Sequencer::rearm`]. `None`: nothing to do.
    pub(crate) fn gap_expired(&mut self, conversation: ConversationId) -> Option<i64> {
        let lane = self.lanes.get_mut(&conversation)?;
        if lane.waiting.is_empty() {
            lane.timer_armed = false;
            return None;
        }
        Some(lane.cursor)
    }

    /// After a fetch was offered: whether the lane still has a gap (the timer stays armed
    /// and runs again); when it has none, the timer is disarmed.
    pub(crate) fn rearm(&mut self, conversation: ConversationId) -> bool {
        let Some(lane) = self.lanes.get_mut(&conversation) else {
            return false;
        };
        lane.timer_armed = !lane.waiting.is_empty();
        lane.timer_armed
    }

    /// Gives up on a gap the store cannot fill (it should always can: seqs are gapless and
    /// every event is stored before it is published; this is the fuse against a bug looping
    /// forever): the cursor jumps to just before the first waiting event, which the caller
    /// then takes with `next_ready`. Clients fill the hole with `/events?after=`.
    pub(crate) fn skip_gap(&mut self, conversation: ConversationId) {
        if let Some(lane) = self.lanes.get_mut(&conversation)
            && let Some((first, _)) = lane.waiting.first_key_value()
        {
            lane.cursor = first - 1;
            lane.at_cursor = None;
            lane.siblings.clear();
            lane.timer_armed = false;
        }
    }

    #[cfg(test)]
    fn cursor(&self, conversation: ConversationId) -> Option<i64> {
        self.lanes.get(&conversation).map(|lane| lane.cursor)
    }

    /// Before a new lane: forgets idle lanes (once a minute at most), and past the cap the
    /// least recently active. Lanes with events waiting are never forgotten (their timer is
    /// still working on them). Runs only when a conversation is new to this node, so the hot
    /// path never pays for it; the cap pass sorts, but cuts to 7/8 of the cap so it runs at
    /// most once per cap/8 new conversations.
    fn make_room(&mut self, now: Instant) {
        if self.next_sweep.is_none_or(|at| now >= at) {
            self.next_sweep = Some(now + SWEEP_EVERY);
            let idle = self.idle;
            self.lanes
                .retain(|_, lane| !lane.waiting.is_empty() || now.saturating_duration_since(lane.last_active) < idle);
        }
        if self.lanes.len() >= self.cap {
            let mut by_age: Vec<(Instant, ConversationId)> = self
                .lanes
                .iter()
                .filter(|(_, lane)| lane.waiting.is_empty())
                .map(|(id, lane)| (lane.last_active, *id))
                .collect();
            by_age.sort_unstable_by_key(|(at, _)| *at);
            let target = self.cap - self.cap / 8;
            let excess = self.lanes.len().saturating_sub(target);
            for (_, id) in by_age.into_iter().take(excess) {
                self.lanes.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv() -> ConversationId {
        ConversationId::generate()
    }

    impl Identify for i64 {
        type Id = i64;
        fn id(&self) -> i64 {
            *self
        }
    }

    fn machine() -> Sequencer<i64> {
        Sequencer::new(CAP, IDLE)
    }

    /// Offers and drains like the bus handler does: what the sockets would get, in order.
    fn feed(machine: &mut Sequencer<i64>, c: ConversationId, seq: i64, now: Instant) -> Vec<i64> {
        let mut out = Vec::new();
        if let Offer::Deliver { item, more } = machine.offer(c, seq, seq, now) {
            out.push(item);
            if more {
                while let Some(next) = machine.next_ready(c) {
                    out.push(next);
                }
            }
        }
        out
    }

    #[test]
    fn in_order_events_are_delivered_at_once_and_duplicates_dropped() {
        let (mut m, c, t) = (machine(), conv(), Instant::now());
        for seq in 1..=5 {
            assert_eq!(m.offer(c, seq, seq, t), Offer::Deliver { item: seq, more: false });
        }
        assert_eq!(m.offer(c, 5, 5, t), Offer::Duplicate);
        assert_eq!(m.offer(c, 2, 2, t), Offer::Duplicate);
        assert_eq!(m.cursor(c), Some(5));
    }

    #[test]
    fn an_event_ahead_waits_for_the_gap_and_is_released_in_order() {
        let (mut m, c, t) = (machine(), conv(), Instant::now());
        assert_eq!(feed(&mut m, c, 4, t), vec![4]);
        assert_eq!(m.offer(c, 7, 7, t), Offer::Buffered { arm_timer: true });
        assert_eq!(m.offer(c, 6, 6, t), Offer::Buffered { arm_timer: false }, "one timer per lane");
        assert_eq!(m.offer(c, 7, 7, t), Offer::Duplicate, "already waiting");
        assert_eq!(feed(&mut m, c, 5, t), vec![5, 6, 7]);
        assert_eq!(m.cursor(c), Some(7));
        assert_eq!(m.gap_expired(c), None, "the gap closed before the timer fired");
        assert_eq!(m.offer(c, 9, 9, t), Offer::Buffered { arm_timer: true }, "the timer was disarmed");
    }

    #[test]
    fn a_gap_still_open_when_the_timer_fires_is_fetched_from_the_cursor() {
        let (mut m, c, t) = (machine(), conv(), Instant::now());
        feed(&mut m, c, 1, t);
        assert_eq!(m.offer(c, 4, 4, t), Offer::Buffered { arm_timer: true });
        assert_eq!(m.gap_expired(c), Some(1));
        // The store answers 2..=4 (4 is also waiting); offered like the bus's.
        let mut got = Vec::new();
        for seq in 2..=4 {
            got.extend(feed(&mut m, c, seq, t));
        }
        assert_eq!(got, vec![2, 3, 4]);
        assert!(!m.rearm(c));
        // A partial answer keeps the timer going.
        assert_eq!(m.offer(c, 8, 8, t), Offer::Buffered { arm_timer: true });
        assert_eq!(m.gap_expired(c), Some(4));
        assert_eq!(feed(&mut m, c, 5, t), vec![5]);
        assert!(m.rearm(c), "6 and 7 are still missing");
        assert_eq!(m.offer(c, 10, 10, t), Offer::Buffered { arm_timer: false });
    }

    #[test]
    fn events_of_one_commit_share_a_seq_and_each_is_delivered_once() {
        let (mut m, c, t) = (machine(), conv(), Instant::now());
        feed(&mut m, c, 1, t);
        // Seq 2 carries two events (items 2 and 20), in order and again as copies.
        assert_eq!(m.offer(c, 2, 2, t), Offer::Deliver { item: 2, more: false });
        assert_eq!(m.offer(c, 2, 20, t), Offer::Deliver { item: 20, more: false });
        assert_eq!(m.offer(c, 2, 2, t), Offer::Duplicate);
        assert_eq!(m.offer(c, 2, 20, t), Offer::Duplicate);
        // Ahead of the cursor, both wait and are released together, in arrival order.
        assert_eq!(m.offer(c, 4, 4, t), Offer::Buffered { arm_timer: true });
        assert_eq!(m.offer(c, 4, 40, t), Offer::Buffered { arm_timer: false });
        assert_eq!(m.offer(c, 4, 40, t), Offer::Duplicate);
        assert_eq!(m.offer(c, 5, 5, t), Offer::Buffered { arm_timer: false });
        let mut got = Vec::new();
        if let Offer::Deliver { item, more: true } = m.offer(c, 3, 3, t) {
            got.push(item);
            while let Some(next) = m.next_ready(c) {
                got.push(next);
            }
        }
        assert_eq!(got, vec![3, 4, 40, 5]);
        assert_eq!(m.offer(c, 4, 40, t), Offer::Duplicate);
        assert_eq!(m.offer(c, 5, 5, t), Offer::Duplicate);
    }

    #[test]
    fn a_gap_given_up_on_releases_what_waits() {
        let (mut m, c, t) = (machine(), conv(), Instant::now());
        feed(&mut m, c, 1, t);
        m.offer(c, 3, 3, t);
        m.offer(c, 4, 4, t);
        m.skip_gap(c);
        assert_eq!(m.next_ready(c), Some(3));
        assert_eq!(m.next_ready(c), Some(4));
        assert_eq!(m.next_ready(c), None);
        assert_eq!(m.offer(c, 2, 2, t), Offer::Duplicate);
    }

    #[test]
    fn a_replay_overlapping_what_was_delivered_adds_only_what_was_missed() {
        let (mut m, c, t) = (machine(), conv(), Instant::now());
        for seq in 1..=3 {
            feed(&mut m, c, seq, t);
        }
        let replayed: Vec<i64> = (1..=6).flat_map(|seq| feed(&mut m, c, seq, t)).collect();
        assert_eq!(replayed, vec![4, 5, 6]);
    }

    #[test]
    fn conversations_are_independent() {
        let (mut m, a, b, t) = (machine(), conv(), conv(), Instant::now());
        feed(&mut m, a, 10, t);
        assert_eq!(feed(&mut m, b, 1, t), vec![1]);
        assert_eq!(m.offer(a, 12, 12, t), Offer::Buffered { arm_timer: true });
        assert_eq!(feed(&mut m, b, 2, t), vec![2]);
    }

    #[test]
    fn idle_lanes_are_forgotten_but_never_ones_with_events_waiting() {
        let mut m: Sequencer<i64> = Sequencer::new(CAP, Duration::from_secs(600));
        let t0 = Instant::now();
        let (idle, waiting, busy) = (conv(), conv(), conv());
        feed(&mut m, idle, 5, t0);
        feed(&mut m, waiting, 5, t0);
        m.offer(waiting, 9, 9, t0);
        let later = t0 + Duration::from_secs(601);
        feed(&mut m, busy, 1, later - Duration::from_secs(1));
        // A new conversation after the idle time triggers the sweep.
        feed(&mut m, conv(), 1, later + SWEEP_EVERY);
        assert_eq!(m.cursor(idle), None, "forgotten");
        assert_eq!(m.cursor(waiting), Some(5), "kept: an event waits");
        assert_eq!(m.cursor(busy), Some(1));
        // Forgotten means no cursor: the next event is delivered whatever its seq.
        assert_eq!(feed(&mut m, idle, 3, later + SWEEP_EVERY), vec![3]);
    }

    #[test]
    fn past_the_cap_the_least_recently_active_go() {
        let mut m: Sequencer<i64> = Sequencer::new(8, IDLE);
        let t0 = Instant::now();
        let ids: Vec<ConversationId> = (0..8).map(|_| conv()).collect();
        for (i, id) in ids.iter().enumerate() {
            feed(&mut m, *id, 1, t0 + Duration::from_millis(i as u64));
        }
        // The oldest is touched again, so it is the second oldest that goes first.
        feed(&mut m, ids[0], 2, t0 + Duration::from_millis(100));
        feed(&mut m, conv(), 1, t0 + Duration::from_millis(200));
        assert!(m.lanes.len() <= 8);
        assert_eq!(m.cursor(ids[0]), Some(2));
        assert_eq!(m.cursor(ids[1]), None);
    }
}
