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

/// NATS goes away: each node keeps serving REST and its own sockets and says `degraded`;
/// when NATS is back the nodes hear each other again and say `ok`.
#[tokio::test]
async fn without_nats_a_node_serves_its_own_sockets_and_says_degraded() {
    use hubbub_bus_nats::test_server::NatsServer;
    use std::time::{Duration, Instant};
    let mut server = NatsServer::start();
    let cluster = format!("degraded-{}", uuid::Uuid::now_v7().simple());
    let a = hubbub_bus_nats::NatsBus::connect(&server.url(), &cluster).await.unwrap();
    let b = hubbub_bus_nats::NatsBus::connect(&server.url(), &cluster).await.unwrap();
    let (node_a, node_b) = spawn_cluster(Arc::new(a), Arc::new(b)).await;
    let health = |node: &crate::helpers::TestApp| {
        let url = node.url("/api/health");
        let http = node.http.clone();
        async move {
            let reply = http.get(url).send().await.unwrap();
            (reply.status(), reply.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, body) = health(&node_a).await;
    assert_eq!((status.as_u16(), body["status"].as_str(), body["bus"].as_str()), (200, Some("ok"), Some("ok")));
    let alice = node_a.register("alice").await;
    let bob = node_a.register("bob").await;
    let mut alice_on_a = node_a.ws(&alice).await;
    let chat = node_a.direct(&alice, &bob).await;
    alice_on_a.next_of("conversation.created").await;

    server.kill();
    let deadline = Instant::now() + Duration::from_secs(5);
    let body = loop {
        let (status, body) = health(&node_a).await;
        assert_eq!(status.as_u16(), 200, "a node without its bus still serves: {body}");
        if body["status"] == "degraded" {
            break body;
        }
        assert!(Instant::now() < deadline, "still {body} after NATS went away");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(body["bus"], "disconnected");
    assert!(body["reasons"][0].as_str().unwrap().contains("NATS"), "{body}");
    // REST and this node's own sockets keep working.
    node_a.send(&alice, &chat, "still here").await;
    assert_eq!(alice_on_a.next_of("message.created").await["data"]["text"], "still here");

    server.restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    for node in [&node_a, &node_b] {
        while health(node).await.1["status"] != "ok" {
            assert!(Instant::now() < deadline, "still degraded after NATS came back");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
