//! Two nodes of a cluster, each with its own hub and session cache, on one database and one
//! bus: what happens on one node reaches the sockets and caches of the other. Run on the
//! in-process bus and on NATS (the nats-server at `HUBBUB_TEST_NATS_URL`, default
//! `nats://127.0.0.1:4222`; a cluster name of their own per test).

use crate::helpers::spawn_cluster;
use crate::realtime::close_frame;
use hubbub_app::ports::Bus;
use hubbub_app::realtime::LocalBus;
use serde_json::json;
use std::sync::Arc;

fn local_pair() -> (Arc<dyn Bus>, Arc<dyn Bus>) {
    let a = LocalBus::new();
    let b = a.join();
    (Arc::new(a), Arc::new(b))
}

async fn nats_pair() -> (Arc<dyn Bus>, Arc<dyn Bus>) {
    let url = std::env::var("HUBBUB_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let cluster = format!("http-{}", uuid::Uuid::now_v7().simple());
    let a = hubbub_bus_nats::NatsBus::connect(&url, &cluster).await.expect("a nats-server for the cluster tests");
    let b = hubbub_bus_nats::NatsBus::connect(&url, &cluster).await.expect("a nats-server for the cluster tests");
    (Arc::new(a), Arc::new(b))
}

/// A message committed through node A reaches Bob's socket on node B (and Alice's own on
/// A), in order, as the stored event JSON.
async fn messages_reach_sockets_on_the_other_node((a, b): (Arc<dyn Bus>, Arc<dyn Bus>)) {
    let (node_a, node_b) = spawn_cluster(a, b).await;
    let alice = node_a.register("alice").await;
    let bob = node_a.register("bob").await;
    let mut bob_on_b = node_b.ws(&bob).await;
    let mut alice_on_a = node_a.ws(&alice).await;
    let chat = node_a.direct(&alice, &bob).await;
    for text in ["one", "two", "three"] {
        node_a.send(&alice, &chat, text).await;
    }
    for socket in [&mut bob_on_b, &mut alice_on_a] {
        assert_eq!(socket.next_of("conversation.created").await["conversation_id"], chat.as_str());
        for (seq, text) in [(2, "one"), (3, "two"), (4, "three")] {
            let event = socket.next_of("message.created").await;
            assert_eq!(event["seq"], seq);
            assert_eq!(event["data"]["text"], text);
        }
    }
    // Typing on B (an ephemeral event of node B) reaches Alice on A.
    bob_on_b.send_json(json!({"type": "typing", "conversation_id": chat})).await;
    assert_eq!(alice_on_a.next_of("typing").await["data"]["user_id"], bob.id.as_str());
}

/// Logging out through node B closes the session's socket on node A with 4001, and node A,
/// which had just confirmed the token (so holds it in its session cache), refuses it at
/// once instead of trusting its cache for another 10 s.
async fn a_logout_on_one_node_ends_the_session_on_the_other((a, b): (Arc<dyn Bus>, Arc<dyn Bus>)) {
    let (node_a, node_b) = spawn_cluster(a, b).await;
    let alice = node_a.register("alice").await;
    let mut socket_on_a = node_a.ws(&alice).await;
    assert_eq!(node_a.get("/api/users/me", &alice).await.status.as_u16(), 200);
    assert_eq!(node_b.delete("/api/session", &alice).await.status.as_u16(), 204);
    assert_eq!(close_frame(&mut socket_on_a).await, Some((4001, "session ended".to_owned())));
    let after = node_a.get("/api/users/me", &alice).await;
    assert_eq!(after.status.as_u16(), 401, "{:?}", after.body);
}

#[tokio::test]
async fn messages_reach_sockets_on_the_other_node_in_process() {
    messages_reach_sockets_on_the_other_node(local_pair()).await;
}

#[tokio::test]
async fn messages_reach_sockets_on_the_other_node_over_nats() {
    messages_reach_sockets_on_the_other_node(nats_pair().await).await;
}

#[tokio::test]
async fn a_logout_on_one_node_ends_the_session_on_the_other_in_process() {
    a_logout_on_one_node_ends_the_session_on_the_other(local_pair()).await;
}

#[tokio::test]
async fn a_logout_on_one_node_ends_the_session_on_the_other_over_nats() {
    a_logout_on_one_node_ends_the_session_on_the_other(nats_pair().await).await;
}
