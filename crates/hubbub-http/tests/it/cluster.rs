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

/// Reads `socket` until it has seen `count` `message.created` events, checking that in each
/// conversation every event carrying a seq comes in strictly increasing seq order (no
/// duplicate, no step back); then nothing more may come. Returns the texts in order.
async fn in_seq_order(socket: &mut crate::helpers::Ws, count: usize, within: std::time::Duration) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + within;
    let mut last_seq = std::collections::HashMap::new();
    let mut texts = Vec::new();
    while texts.len() < count {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(event) = socket.next_within(left).await else {
            panic!("only {} of {count} messages within {within:?}: {texts:?}", texts.len());
        };
        if let Some(seq) = event["seq"].as_i64() {
            let last = last_seq.entry(event["conversation_id"].to_string()).or_insert(0);
            assert!(seq > *last, "seq {seq} after {last}: out of order or twice ({event})");
            *last = seq;
        }
        if event["type"] == "message.created" {
            texts.push(event["data"]["text"].as_str().unwrap().to_owned());
        }
    }
    socket.assert_quiet().await;
    texts
}

/// Both nodes write into one conversation at once (20 senders on each): every socket, on
/// either node, gets every message exactly once and in seq order. Without the delivery
/// cursor, a node delivers its own commits at once and the other node's a moment later,
/// out of seq order.
async fn concurrent_writers_on_two_nodes_are_seen_once_in_seq_order((a, b): (Arc<dyn Bus>, Arc<dyn Bus>)) {
    let (node_a, node_b) = spawn_cluster(a, b).await;
    let alice = node_a.register("alice").await;
    let bob = node_a.register("bob").await;
    let mut alice_on_a = node_a.ws(&alice).await;
    let mut bob_on_b = node_b.ws(&bob).await;
    let mut bob_on_a = node_a.ws(&node_a.login(&bob).await).await;
    let chat = node_a.direct(&alice, &bob).await;
    const SENDERS: usize = 20;
    const EACH: usize = 2;
    let senders = (0..SENDERS).flat_map(|i| {
        let (node_a, node_b, alice, bob, chat) = (&node_a, &node_b, &alice, &bob, &chat);
        [
            futures::future::Either::Left(async move {
                for n in 0..EACH {
                    node_a.send(alice, chat, &format!("a{i}.{n}")).await;
                }
            }),
            futures::future::Either::Right(async move {
                for n in 0..EACH {
                    node_b.send(bob, chat, &format!("b{i}.{n}")).await;
                }
            }),
        ]
    });
    futures::future::join_all(senders).await;
    let total = 2 * SENDERS * EACH;
    let wait = std::time::Duration::from_secs(10);
    let seen = [
        in_seq_order(&mut alice_on_a, total, wait).await,
        in_seq_order(&mut bob_on_b, total, wait).await,
        in_seq_order(&mut bob_on_a, total, wait).await,
    ];
    assert_eq!(seen[0], seen[1], "every socket sees one order: the seq order");
    assert_eq!(seen[0], seen[2]);
}

#[tokio::test]
async fn concurrent_writers_on_two_nodes_are_seen_once_in_seq_order_in_process() {
    concurrent_writers_on_two_nodes_are_seen_once_in_seq_order(local_pair()).await;
}

#[tokio::test]
async fn concurrent_writers_on_two_nodes_are_seen_once_in_seq_order_over_nats() {
    concurrent_writers_on_two_nodes_are_seen_once_in_seq_order(nats_pair().await).await;
}

/// Polls a node's `/api/health` until its bus says `want` ("ok" or "disconnected").
async fn bus_becomes(node: &crate::helpers::TestApp, want: &str, within: std::time::Duration) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let body: serde_json::Value =
            node.http.get(node.url("/api/health")).send().await.unwrap().json().await.unwrap();
        if body["bus"] == want {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "bus still {body} after {within:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// NATS dies; each node commits messages for a user connected to the other node; NATS comes
/// back: within 5 s every socket has every missed event, once, in order (the nodes replay
/// from the database what was committed while they were cut off).
#[tokio::test]
async fn after_a_nats_outage_every_missed_event_arrives_once_in_order() {
    use hubbub_bus_nats::test_server::NatsServer;
    use std::time::Duration;
    let mut server = NatsServer::start();
    let cluster = format!("outage-{}", uuid::Uuid::now_v7().simple());
    let a = hubbub_bus_nats::NatsBus::connect(&server.url(), &cluster).await.unwrap();
    let b = hubbub_bus_nats::NatsBus::connect(&server.url(), &cluster).await.unwrap();
    let (node_a, node_b) = spawn_cluster(Arc::new(a), Arc::new(b)).await;
    let alice = node_a.register("alice").await;
    let bob = node_a.register("bob").await;
    let carol = node_a.register("carol").await;
    let dave = node_a.register("dave").await;
    let mut bob_on_b = node_b.ws(&bob).await;
    let mut carol_on_a = node_a.ws(&carol).await;
    let alice_bob = node_a.direct(&alice, &bob).await;
    let dave_carol = node_b.direct(&dave, &carol).await;
    node_a.send(&alice, &alice_bob, "before").await;
    assert_eq!(in_seq_order(&mut bob_on_b, 1, Duration::from_secs(5)).await, ["before"]);
    carol_on_a.next_of("conversation.created").await;

    server.kill();
    bus_becomes(&node_a, "disconnected", Duration::from_secs(5)).await;
    bus_becomes(&node_b, "disconnected", Duration::from_secs(5)).await;
    let from_a: Vec<String> = (1..=5).map(|i| format!("a{i}")).collect();
    let from_b: Vec<String> = (1..=5).map(|i| format!("b{i}")).collect();
    for (text_a, text_b) in from_a.iter().zip(&from_b) {
        node_a.send(&alice, &alice_bob, text_a).await;
        node_b.send(&dave, &dave_carol, text_b).await;
    }

    server.restart();
    let wait = Duration::from_secs(5);
    let (on_b, on_a) = tokio::join!(in_seq_order(&mut bob_on_b, 5, wait), in_seq_order(&mut carol_on_a, 5, wait));
    assert_eq!(on_b, from_a, "bob, on B, gets what A committed during the outage");
    assert_eq!(on_a, from_b, "carol, on A, gets what B committed during the outage");
    // And the cluster works as before.
    node_a.send(&alice, &alice_bob, "after").await;
    assert_eq!(in_seq_order(&mut bob_on_b, 1, wait).await, ["after"]);
}

/// The broker freezes (SIGSTOP) for a few seconds in the middle of a stream of messages,
/// then goes on: the other node's socket gets every message once, in order.
#[tokio::test]
async fn a_frozen_nats_server_loses_and_doubles_nothing() {
    use hubbub_bus_nats::test_server::NatsServer;
    use std::time::Duration;
    let server = NatsServer::start();
    let cluster = format!("frozen-{}", uuid::Uuid::now_v7().simple());
    let a = hubbub_bus_nats::NatsBus::connect(&server.url(), &cluster).await.unwrap();
    let b = hubbub_bus_nats::NatsBus::connect(&server.url(), &cluster).await.unwrap();
    let (node_a, node_b) = spawn_cluster(Arc::new(a), Arc::new(b)).await;
    let alice = node_a.register("alice").await;
    let bob = node_a.register("bob").await;
    let mut bob_on_b = node_b.ws(&bob).await;
    let chat = node_a.direct(&alice, &bob).await;
    let texts: Vec<String> = (0..30).map(|i| format!("m{i}")).collect();
    for (i, text) in texts.iter().enumerate() {
        if i == 10 {
            server.pause();
        }
        if i == 20 {
            tokio::time::sleep(Duration::from_secs(3)).await;
            server.resume();
        }
        node_a.send(&alice, &chat, text).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(in_seq_order(&mut bob_on_b, 30, Duration::from_secs(10)).await, texts);
}

/// A client whose attempts a load balancer spreads over the nodes meets the limit of one
/// node: failures counted on A count on B, and the other way round.
async fn login_failures_count_on_every_node((a, b): (Arc<dyn Bus>, Arc<dyn Bus>)) {
    let (node_a, node_b) = spawn_cluster(a, b).await;
    node_a.register("bob").await;
    let attempt = |node: &crate::helpers::TestApp| {
        let url = node.url("/api/session");
        let http = node.http.clone();
        async move {
            let body = json!({"username": "bob", "password": "wrong horse"});
            http.post(url).json(&body).send().await.unwrap().status().as_u16()
        }
    };
    // Ten failures in all (the limit for one username from one address), five per node.
    for _ in 0..5 {
        assert_eq!(attempt(&node_a).await, 401);
        assert_eq!(attempt(&node_b).await, 401);
    }
    // Give the last ones time to cross.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(attempt(&node_a).await, 429, "node A counted B's failures");
    assert_eq!(attempt(&node_b).await, 429, "node B counted A's failures");
}

#[tokio::test]
async fn login_failures_count_on_every_node_in_process() {
    login_failures_count_on_every_node(local_pair()).await;
}

#[tokio::test]
async fn login_failures_count_on_every_node_over_nats() {
    login_failures_count_on_every_node(nats_pair().await).await;
}

/// Adding a member commits two events at one seq (`member.added` for the others, the
/// newcomer's `conversation.created`): on the other node each reaches its audience, neither
/// is taken for a duplicate of the other.
async fn both_events_of_an_addition_cross((a, b): (Arc<dyn Bus>, Arc<dyn Bus>)) {
    let (node_a, node_b) = spawn_cluster(a, b).await;
    let alice = node_a.register("alice").await;
    let bob = node_a.register("bob").await;
    let carol = node_a.register("carol").await;
    let group = node_a.group(&alice, "g", &[&bob]).await;
    let mut bob_on_b = node_b.ws(&bob).await;
    let mut carol_on_b = node_b.ws(&carol).await;
    node_a.send(&alice, &group, "hello").await;
    assert_eq!(bob_on_b.next_of("message.created").await["seq"], 2);
    node_a.post(&format!("/api/conversations/{group}/members"), &alice, json!({"user_ids": [carol.id]})).await;
    let added = bob_on_b.next().await;
    assert_eq!((added["type"].as_str(), added["seq"].as_i64()), (Some("member.added"), Some(3)));
    let welcome = carol_on_b.next().await;
    assert_eq!((welcome["type"].as_str(), welcome["seq"].as_i64()), (Some("conversation.created"), Some(3)));
    node_a.send(&alice, &group, "welcome").await;
    for socket in [&mut bob_on_b, &mut carol_on_b] {
        assert_eq!(in_seq_order(socket, 1, std::time::Duration::from_secs(5)).await, ["welcome"]);
    }
}

#[tokio::test]
async fn both_events_of_an_addition_cross_in_process() {
    both_events_of_an_addition_cross(local_pair()).await;
}

#[tokio::test]
async fn both_events_of_an_addition_cross_over_nats() {
    both_events_of_an_addition_cross(nats_pair().await).await;
}

/// A WebSocket ticket issued by node A is redeemed on node B (a balancer without stickiness
/// sends the two requests anywhere), once: a second use on A is refused.
#[tokio::test]
async fn a_ticket_from_one_node_opens_a_socket_on_the_other_once() {
    let (a, b) = local_pair();
    let (node_a, node_b) = spawn_cluster(a, b).await;
    let alice = node_a.register("alice").await;
    let ticket = node_a.post("/api/ws/ticket", &alice, json!({})).await;
    assert_eq!(ticket.status.as_u16(), 201);
    let ticket = ticket.body["ticket"].as_str().unwrap().to_owned();
    let on_b = format!("ws://{}/api/ws?ticket={ticket}", node_b.addr);
    assert!(tokio_tungstenite::connect_async(&on_b).await.is_ok(), "node B redeems node A's ticket");
    match tokio_tungstenite::connect_async(format!("ws://{}/api/ws?ticket={ticket}", node_a.addr)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("a ticket used on B must be refused on A, got {:?}", other.map(|_| ())),
    }
}

/// A long NATS outage under traffic: more envelopes than the NATS client buffers (2,048)
/// are published while the server is gone, and this node's own sockets still get every
/// message live. (The bus must never make the node's own delivery wait on the network.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_nats_outage_does_not_hold_back_local_delivery() {
    use hubbub_bus_nats::test_server::NatsServer;
    use std::time::Duration;
    let mut server = NatsServer::start();
    let cluster = format!("long-{}", uuid::Uuid::now_v7().simple());
    let a = hubbub_bus_nats::NatsBus::connect(&server.url(), &cluster).await.unwrap();
    let b = hubbub_bus_nats::NatsBus::connect(&server.url(), &cluster).await.unwrap();
    let (node_a, _node_b) = spawn_cluster(Arc::new(a), Arc::new(b)).await;
    let alice = node_a.register("alice").await;
    let bob = node_a.register("bob").await;
    let mut bob_on_a = node_a.ws(&bob).await;
    let chat = node_a.direct(&alice, &bob).await;
    bob_on_a.next_of("conversation.created").await;
    server.kill();
    bus_becomes(&node_a, "disconnected", Duration::from_secs(5)).await;
    const MESSAGES: usize = 2_600;
    let node_a = Arc::new(node_a);
    let mut senders = Vec::new();
    for worker in 0..8 {
        let (node_a, alice, chat) = (node_a.clone(), alice.clone(), chat.clone());
        senders.push(tokio::spawn(async move {
            for i in (worker..MESSAGES).step_by(8) {
                let reply = node_a
                    .post(&format!("/api/conversations/{chat}/messages"), &alice, json!({"text": format!("m{i}")}))
                    .await;
                assert_eq!(reply.status.as_u16(), 201, "{}", reply.body);
            }
        }));
    }
    let mut seen = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while seen < MESSAGES {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match bob_on_a.next_within(left.min(Duration::from_secs(10))).await {
            Some(event) if event["type"] == "message.created" => seen += 1,
            Some(_) => {}
            None => panic!("local delivery stalled after {seen} of {MESSAGES} messages while NATS was away"),
        }
    }
    for sender in senders {
        sender.await.unwrap();
    }
}

/// A logout through node B while NATS is away (so node A never hears of it over the bus):
/// node A's periodic session sweep closes the ended session's socket with 4001 anyway, and
/// the token stops working there.
#[tokio::test]
async fn a_logout_lost_by_the_bus_still_closes_the_other_nodes_sockets() {
    use hubbub_bus_nats::test_server::NatsServer;
    use std::time::Duration;
    let mut server = NatsServer::start();
    let cluster = format!("sweep-{}", uuid::Uuid::now_v7().simple());
    let a = hubbub_bus_nats::NatsBus::connect(&server.url(), &cluster).await.unwrap();
    let b = hubbub_bus_nats::NatsBus::connect(&server.url(), &cluster).await.unwrap();
    let limits = hubbub_domain::Limits {
        session_sweep_interval: Duration::from_millis(500),
        ..crate::helpers::TestConfig::default().limits
    };
    let presence = hubbub_app::realtime::LocalPresence::new();
    let other = presence.join();
    let (node_a, node_b) = crate::helpers::spawn_cluster_with_limits(
        limits,
        (Arc::new(a), Arc::new(presence)),
        (Arc::new(b), Arc::new(other)),
    )
    .await;
    let alice = node_a.register("alice").await;
    let mut socket_on_a = node_a.ws(&alice).await;
    server.kill();
    bus_becomes(&node_b, "disconnected", Duration::from_secs(5)).await;
    assert_eq!(node_b.delete("/api/session", &alice).await.status.as_u16(), 204);
    let closed = tokio::time::timeout(Duration::from_secs(5), close_frame(&mut socket_on_a)).await;
    assert_eq!(closed.expect("closed by the sweep"), Some((4001, "session ended".to_owned())));
    assert_eq!(node_a.get("/api/users/me", &alice).await.status.as_u16(), 401);
}
