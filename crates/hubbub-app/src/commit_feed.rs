//! The commit feed: how a store hands its committed events to the task that publishes them,
//! in commit order. A port-level type (no channel type of a runtime in the `Store` port),
//! bounded so that a publisher that falls behind slows the writers down instead of letting
//! the events of a burst pile up in memory without limit.
//!
//! Why backpressure is safe here: the publisher (`App::start`'s task) only hands events to
//! the bus, whose `publish` never waits on the network (the NATS adapter queues what it
//! sends and drops what does not fit; other nodes fill such gaps from the store) and never
//! needs a write. So a full feed means the node is momentarily behind on delivering, and
//! the writers waiting for room is the right answer: acknowledging writes faster than they
//! can be delivered would only grow the lag.

use crate::ports::Committed;
use tokio::sync::mpsc;

/// Events a feed holds before the store's writers wait for the publisher.
pub const COMMIT_FEED_CAPACITY: usize = 16_384;

/// The store's end: pushes committed events, in commit order.
#[derive(Clone, Debug)]
pub struct CommitSink(mpsc::Sender<Committed>);

/// The publisher's end, handed out once by `Store::commit_feed`.
#[derive(Debug)]
pub struct CommitFeed(mpsc::Receiver<Committed>);

/// The feed is empty (or closed); see [`CommitFeed::try_recv`].
#[derive(Debug, PartialEq, Eq)]
pub struct FeedEmpty;

/// A new feed of [`COMMIT_FEED_CAPACITY`] events.
pub fn commit_feed() -> (CommitSink, CommitFeed) {
    let (tx, rx) = mpsc::channel(COMMIT_FEED_CAPACITY);
    (CommitSink(tx), CommitFeed(rx))
}

impl CommitSink {
    /// Waits for room when the feed is full. Nobody listening (the app has not started or
    /// has shut down) is not an error: the events are in the log, and clients catch up
    /// from it.
    pub async fn push(&self, event: Committed) {
        let _ = self.0.send(event).await;
    }
}

impl CommitFeed {
    /// The next event, once there is one; `None` once every sink is gone.
    pub async fn recv(&mut self) -> Option<Committed> {
        self.0.recv().await
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Result<Committed, FeedEmpty> {
        self.0.try_recv().map_err(|_| FeedEmpty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubbub_domain::ConversationId;

    fn event(seq: i64) -> Committed {
        Committed {
            conversation_id: ConversationId(uuid::Uuid::nil()),
            seq,
            json: bytes::Bytes::from_static(b"{}"),
            recipients: std::sync::Arc::from([]),
        }
    }

    #[tokio::test]
    async fn a_full_feed_makes_the_writer_wait_and_keeps_order() {
        let (sink, mut feed) = commit_feed();
        for seq in 0..COMMIT_FEED_CAPACITY as i64 {
            sink.push(event(seq)).await;
        }
        let blocked = tokio::spawn({
            let sink = sink.clone();
            async move { sink.push(event(-1)).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!blocked.is_finished(), "a full feed holds the writer back");
        assert_eq!(feed.recv().await.unwrap().seq, 0);
        blocked.await.unwrap();
        let mut last = 0;
        while let Ok(next) = feed.try_recv() {
            if next.seq >= 0 {
                assert_eq!(next.seq, last + 1);
                last = next.seq;
            }
        }
        assert_eq!(last, COMMIT_FEED_CAPACITY as i64 - 1);
    }

    #[tokio::test]
    async fn pushing_with_nobody_listening_is_fine() {
        let (sink, feed) = commit_feed();
        drop(feed);
        sink.push(event(1)).await;
    }
}
