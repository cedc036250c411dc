//! Users spread over three nodes by haproxy's round robin: fan-out, receipts, typing,
//! presence, catch-up and session ends all cross nodes.

use super::client::{User, Ws, assert_once_in_order};
use super::harness::{Cluster, NODES};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// Opens one socket per user in turn; round robin puts consecutive ones on different nodes.
async fn sockets(cluster: &Cluster, users: &[&User]) -> Vec<(Ws, usize)> {
    let mut all = Vec::new();
    for user in users {
        all.push(cluster.ws(user).await);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_on_different_nodes_share_messages_receipts_typing_and_presence() {
    let cluster = Cluster::start().await;
    let alice = cluster.register("alice").await;
    let bob = cluster.register("bob").await;
    let carol = cluster.register("carol").await;
    let group = cluster.group(&alice, &[&bob, &carol]).await;
    // Six sockets, two per user, opened one after another: every node holds two of them, and
    // each user's two are on two nodes (sockets 0-5 go to nodes n, n+1, n+2, n, n+1, n+2).
    let socks = sockets(&cluster, &[&alice, &bob, &carol, &bob, &carol, &alice]).await;
    let nodes: Vec<usize> = socks.iter().map(|(_, n)| *n).collect();
    assert_eq!(nodes.iter().collect::<BTreeSet<_>>().len(), NODES, "round robin spreads sockets: {nodes:?}");
    for (first, second) in [(0, 5), (1, 3), (2, 4)] {
        assert_ne!(nodes[first], nodes[second], "a user's two sockets are on two nodes: {nodes:?}");
    }
    let currents: Vec<u64> = cluster.stats().await.iter().map(|s| s.current).collect();
    assert!(currents.iter().all(|c| *c >= 2), "every node holds two open sockets: {currents:?}");

    // Twenty messages from all three, each through whichever node haproxy picks.
    let mut sent = Vec::new();
    for i in 0..20 {
        let sender = [&alice, &bob, &carol][i % 3];
        sent.push(cluster.send(sender, &group, &format!("m{i}")).await);
    }
    for (index, (ws, node)) in socks.iter().enumerate() {
        assert!(ws.has_all(&group, &sent, WAIT).await, "socket {index} on node {node}: {:?}", ws.message_seqs(&group));
        let seqs = ws.message_seqs(&group);
        assert_once_in_order(&seqs, &format!("socket {index} on node {node}"));
        assert_eq!(seqs, sent, "socket {index} got exactly the twenty, in order");
    }

    // Bob reads up to the last one: Alice's sockets (on other nodes than Bob's request,
    // whichever it went to) see his receipt.
    let last = *sent.last().unwrap();
    let read = cluster
        .call(Method::PUT, &format!("/api/conversations/{group}/read"), Some(&bob.token), Some(json!({"seq": last})))
        .await;
    assert_eq!(read.status, StatusCode::NO_CONTENT, "{}", read.body);
    for (ws, _) in [&socks[0], &socks[5], &socks[2], &socks[4]] {
        let receipt = ws
            .wait_for("Bob's receipt", WAIT, |e| {
                e["type"] == "receipt.updated" && e["data"]["user_id"] == bob.id.as_str()
            })
            .await;
        assert_eq!(receipt["data"]["read_seq"], last);
    }

    // Carol types on her socket on one node; Alice's and Bob's on the others hear it, Carol's
    // own other socket does not.
    let (carol_ws, _) = &socks[2];
    let mut typing_from = Ws::connect(&cluster.ws_base, &carol.token).await;
    typing_from.send_json(json!({"type": "typing", "conversation_id": group})).await;
    for (ws, _) in [&socks[0], &socks[1], &socks[3], &socks[5]] {
        let typing = ws.wait_for("Carol typing", WAIT, |e| e["type"] == "typing").await;
        assert_eq!(typing["data"]["user_id"], carol.id.as_str());
    }
    assert!(!carol_ws.events().iter().any(|e| e["type"] == "typing"), "no typing to the typist's own devices");
    typing_from.close().await;

    // Catch-up through the LB: a device that was away replays the same twenty.
    let events = cluster.events(&carol, &group, 0).await;
    let replayed: Vec<u64> =
        events.iter().filter(|e| e["type"] == "message.created").map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(replayed, sent);
    let later = cluster.events(&carol, &group, sent[9]).await;
    assert_eq!(later.first().map(|e| e["seq"].as_u64().unwrap()), Some(sent[10]));

    // Carol's sockets (on two nodes) all close: Alice, on yet other nodes, sees her offline.
    let mut socks = socks;
    let carol_second = socks.remove(4).0;
    let carol_first = socks.remove(2).0;
    carol_first.close().await;
    carol_second.close().await;
    for (ws, _) in [&socks[0], &socks[3]] {
        ws.wait_for("Carol offline", WAIT, |e| {
            e["type"] == "presence" && e["data"]["user_id"] == carol.id.as_str() && e["data"]["online"] == false
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_and_password_change_end_sessions_on_every_node() {
    let cluster = Cluster::start().await;
    let alice = cluster.register("alice").await;
    let phone = cluster.login(&alice, "correct horse").await;

    // The laptop session's sockets land on all three nodes; the phone's on one.
    let laptop = sockets(&cluster, &[&alice, &alice, &alice]).await;
    let nodes: BTreeSet<usize> = laptop.iter().map(|(_, n)| *n).collect();
    assert_eq!(nodes.len(), NODES, "one laptop socket per node");
    let (phone_ws, _) = cluster.ws(&phone).await;
    // Every node has checked the laptop's token recently (so holds it in its session cache).
    for _ in 0..6 {
        assert_eq!(cluster.get("/api/users/me", &alice).await.status, StatusCode::OK);
    }
    let logout = cluster.call(Method::DELETE, "/api/session", Some(&alice.token), None).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    for (ws, node) in &laptop {
        assert_eq!(ws.closed_within(WAIT).await, Some(Some((4001, "session ended".into()))), "on node {node}");
    }
    let before = cluster.totals().await;
    for _ in 0..6 {
        assert_eq!(cluster.get("/api/users/me", &alice).await.status, StatusCode::UNAUTHORIZED, "no node trusts it");
    }
    let after = cluster.totals().await;
    assert!((0..NODES).all(|i| after[i] > before[i]), "the six went to every node: {before:?} -> {after:?}");
    assert_eq!(phone_ws.closed_within(Duration::from_millis(500)).await, None, "the phone stays connected");

    // A password change on the phone ends the other sessions everywhere, not the phone's.
    let tablet = cluster.login(&alice, "correct horse").await;
    let tablet_socks = sockets(&cluster, &[&tablet, &tablet, &tablet]).await;
    for _ in 0..6 {
        assert_eq!(cluster.get("/api/users/me", &tablet).await.status, StatusCode::OK);
    }
    let change = json!({"current_password": "correct horse", "new_password": "battery staple"});
    let changed = cluster.call(Method::PUT, "/api/users/me/password", Some(&phone.token), Some(change)).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
    for (ws, node) in &tablet_socks {
        assert_eq!(ws.closed_within(WAIT).await, Some(Some((4001, "session ended".into()))), "on node {node}");
    }
    for _ in 0..6 {
        assert_eq!(cluster.get("/api/users/me", &tablet).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(cluster.get("/api/users/me", &phone).await.status, StatusCode::OK);
    }
    assert_eq!(phone_ws.closed_within(Duration::from_millis(300)).await, None, "the changing session stays");
    cluster.login(&alice, "battery staple").await;
}
