//! Presence across two nodes: a user is online while any device is connected to any node,
//! so closing the last socket on one node says nothing while another node still holds one,
//! and views on every node say `online`. On the in-process directory and on NATS key-value.

use crate::helpers::{TestApp, TestUser, Ws, spawn_cluster_with_presence};
use hubbub_app::ports::{Bus, PresenceDirectory};
use hubbub_app::realtime::{LocalBus, LocalPresence};
use std::sync::Arc;
use std::time::Duration;

pub(crate) type Node = (Arc<dyn Bus>, Arc<dyn PresenceDirectory>);

fn local_nodes() -> (Node, Node) {
    let (bus, presence) = (LocalBus::new(), LocalPresence::new());
    let (other_bus, other_presence) = (bus.join(), presence.join());
    ((Arc::new(bus), Arc::new(presence)), (Arc::new(other_bus), Arc::new(other_presence)))
}

/// Two nodes on the NATS server at `HUBBUB_TEST_NATS_URL`, in a cluster of their own; the
/// bucket is deleted when the test ends.
pub(crate) async fn nats_nodes() -> ((Node, Node), BucketGuard) {
    let url = std::env::var("HUBBUB_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let cluster = format!("http-{}", uuid::Uuid::now_v7().simple());
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let bus = hubbub_bus_nats::NatsBus::connect(&url, &cluster).await.expect("a nats-server");
        let presence = bus.presence(Default::default()).await.expect("JetStream on the nats-server");
        nodes.push((Arc::new(bus) as Arc<dyn Bus>, Arc::new(presence) as Arc<dyn PresenceDirectory>));
    }
    let b = nodes.pop().unwrap();
    let a = nodes.pop().unwrap();
    ((a, b), BucketGuard { url, bucket: format!("hubbub_{cluster}_presence") })
}

pub(crate) struct BucketGuard {
    url: String,
    bucket: String,
}

impl Drop for BucketGuard {
    fn drop(&mut self) {
        let (url, bucket) = (self.url.clone(), self.bucket.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                if let Ok(client) = async_nats::connect(url).await {
                    let _ = async_nats::jetstream::new(client).delete_key_value(bucket).await;
                }
            });
        })
        .join();
    }
}

/// The next `presence` event on `ws` within `wait` (the helpers' readers skip them).
async fn presence_within(ws: &mut Ws, wait: Duration) -> Option<serde_json::Value> {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.stream.next()).await.ok()??;
        if let Ok(Message::Text(text)) = frame {
            let value: serde_json::Value = serde_json::from_str(&text).expect("events are JSON");
            if value["type"] == "presence" {
                return Some(value);
            }
        }
    }
}

async fn next_presence(ws: &mut Ws) -> serde_json::Value {
    presence_within(ws, Duration::from_secs(5)).await.expect("a presence event within 5 s")
}

/// Whether `viewer` is told, by `node`, that `user` is online.
async fn online(node: &TestApp, viewer: &TestUser, user: &TestUser) -> Option<bool> {
    node.get(&format!("/api/users/{}", user.id), viewer).await.body["online"].as_bool()
}

async fn online_on_every_node_while_any_node_holds_a_device((a, b): (Node, Node)) {
    let (node_a, node_b) = spawn_cluster_with_presence(a, b).await;
    let alice = node_a.register("alice").await;
    let bob = node_a.register("bob").await;
    node_a.direct(&alice, &bob).await;
    let mut bob_on_b = node_b.ws(&bob).await;
    assert_eq!(online(&node_b, &bob, &alice).await, Some(false));

    let alice_on_a = node_a.ws(&alice).await;
    let event = next_presence(&mut bob_on_b).await;
    assert_eq!((event["data"]["user_id"].as_str(), event["data"]["online"].as_bool()), (Some(&*alice.id), Some(true)));
    // Node B holds no socket of Alice's, and says she is online.
    crate::helpers::eventually_async(|| async { online(&node_b, &bob, &alice).await == Some(true) }).await;

    // A second device on B: she was online already, nobody is told again.
    let alice_on_b = node_b.ws(&alice).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Her last device on A goes: she is still on B, so no "offline" (not even after the
    // re-check a node makes when it saw another node holding her).
    drop(alice_on_a);
    assert!(
        presence_within(&mut bob_on_b, Duration::from_secs(3)).await.is_none(),
        "no presence event while a device is left"
    );
    assert_eq!(online(&node_a, &bob, &alice).await, Some(true), "node A hears she is on B");

    drop(alice_on_b);
    let event = next_presence(&mut bob_on_b).await;
    assert_eq!((event["data"]["user_id"].as_str(), event["data"]["online"].as_bool()), (Some(&*alice.id), Some(false)));
    assert!(event["data"]["last_seen_at"].is_string());
    crate::helpers::eventually_async(|| async { online(&node_a, &bob, &alice).await == Some(false) }).await;
}

#[tokio::test]
async fn presence_spans_nodes_in_process() {
    online_on_every_node_while_any_node_holds_a_device(local_nodes()).await;
}

#[tokio::test]
async fn presence_spans_nodes_on_nats() {
    let (nodes, _bucket) = nats_nodes().await;
    online_on_every_node_while_any_node_holds_a_device(nodes).await;
}
