//! Failures under traffic: a node SIGKILLed, NATS killed and restarted, NATS frozen with
//! SIGSTOP. What must hold: nothing acknowledged is lost (`/events` has it), no socket gets
//! an event twice, and once the cluster has recovered, new messages reach every socket live.

use super::client::{User, Ws, assert_none_twice, assert_once_in_order};
use super::harness::{Cluster, NODES};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn stored_seqs(events: &[serde_json::Value]) -> BTreeSet<u64> {
    events.iter().filter(|e| e["type"] == "message.created").filter_map(|e| e["seq"].as_u64()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_stream_loses_nothing_acknowledged_and_its_users_reconnect() {
    let mut cluster = Cluster::start().await;
    let alice = cluster.register("alice").await;
    let bob = cluster.register("bob").await;
    let carol = cluster.register("carol").await;
    let group = cluster.group(&alice, &[&bob, &carol]).await;
    let mut socks = Vec::new();
    for user in [&alice, &bob, &carol] {
        socks.push(cluster.ws(user).await);
    }
    let doomed = socks[2].1;
    assert_eq!(socks.iter().map(|(_, n)| *n).collect::<BTreeSet<_>>().len(), NODES);

    let stop = Arc::new(AtomicBool::new(false));
    let sender = cluster.sender(&alice, &group, Duration::from_millis(20), stop.clone());
    tokio::time::sleep(Duration::from_millis(800)).await;
    cluster.kill_node(doomed).await;
    // Only now is haproxy sure to route around it: what is acknowledged from here on must
    // reach the sockets on the two nodes left, live.
    let after_kill_from = cluster.send(&alice, &group, "after the kill").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop.store(true, Ordering::SeqCst);
    let mut acked = sender.await.unwrap();
    acked.push(after_kill_from);
    acked.sort_unstable();
    assert!(acked.len() >= 10, "the sender kept going: {acked:?}");

    let stored = stored_seqs(&cluster.events(&alice, &group, 0).await);
    assert!(acked.iter().all(|s| stored.contains(s)), "acknowledged {acked:?}, stored {stored:?}");
    let late: Vec<u64> = acked.iter().copied().filter(|s| *s >= after_kill_from).collect();
    for (ws, node) in &socks[..2] {
        assert!(ws.has_all(&group, &late, WAIT).await, "node {node} kept delivering: {:?}", ws.message_seqs(&group));
        assert_once_in_order(&ws.message_seqs(&group), &format!("socket on node {node}"));
    }

    // Carol's socket died with its node; she reconnects through the LB (to a live node),
    // catches up from the last seq she saw, and then gets new messages live.
    let (old, _) = socks.pop().unwrap();
    assert!(old.closed_within(WAIT).await.is_some(), "the dead node's socket ended");
    let seen = old.message_seqs(&group);
    assert_none_twice(&seen, "carol's first socket");
    let (again, node) = cluster.ws(&carol).await;
    assert_ne!(node, doomed, "haproxy does not send her to the dead node");
    let caught_up = stored_seqs(&cluster.events(&carol, &group, seen.last().copied().unwrap_or(0)).await);
    let union: BTreeSet<u64> = seen.iter().copied().chain(caught_up).collect();
    assert!(acked.iter().all(|s| union.contains(s)), "live + catch-up cover everything acknowledged");
    let next = cluster.send(&bob, &group, "welcome back").await;
    assert!(again.has_all(&group, &[next], WAIT).await);
    assert_eq!(again.message_seqs(&group), vec![next]);
}

struct Outage {
    cluster: Cluster,
    alice: User,
    group: String,
    socks: Vec<(Ws, usize)>,
    acked: Vec<u64>,
    /// The owner of each socket, in the same order.
    users: Vec<User>,
}

/// Traffic through NATS being killed and restarted, then frozen for 10 s; returns once
/// every node says its bus is back, with what was acknowledged meanwhile.
async fn nats_outage() -> Outage {
    let mut cluster = Cluster::start().await;
    let alice = cluster.register("alice").await;
    let bob = cluster.register("bob").await;
    let carol = cluster.register("carol").await;
    let group = cluster.group(&alice, &[&bob, &carol]).await;
    let mut socks = Vec::new();
    for user in [&alice, &bob, &carol] {
        socks.push(cluster.ws(user).await);
    }
    assert_eq!(socks.iter().map(|(_, n)| *n).collect::<BTreeSet<_>>().len(), NODES);

    let stop = Arc::new(AtomicBool::new(false));
    let sender = cluster.sender(&alice, &group, Duration::from_millis(50), stop.clone());
    tokio::time::sleep(Duration::from_millis(700)).await;
    cluster.nats.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.nats.restart();
    cluster.wait_all_ok(Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    cluster.nats.pause();
    tokio::time::sleep(Duration::from_secs(10)).await;
    cluster.nats.resume();
    cluster.wait_all_ok(Duration::from_secs(20)).await;
    stop.store(true, Ordering::SeqCst);
    let acked = sender.await.unwrap();
    Outage { cluster, users: vec![alice.clone(), bob, carol], alice, group, socks, acked }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_killed_restarted_and_frozen_loses_nothing_acknowledged_and_duplicates_nothing() {
    let Outage { cluster, alice, group, socks, acked, users } = nats_outage().await;
    assert!(acked.len() >= 20, "sends were acknowledged through the outages: {acked:?}");
    let stored = stored_seqs(&cluster.events(&alice, &group, 0).await);
    assert!(acked.iter().all(|s| stored.contains(s)), "acknowledged {acked:?}, stored {stored:?}");

    // What NATS held while frozen arrives at once when it thaws: a socket whose queue of 64
    // overflowed is closed "too slow" (never waited on), and its client reconnects, as
    // every client does on 1001. None of them got anything twice before that.
    let mut live = Vec::new();
    for ((ws, node), user) in socks.into_iter().zip(&users) {
        assert_none_twice(&ws.message_seqs(&group), &format!("socket on node {node}"));
        match ws.closed_within(Duration::ZERO).await {
            None => live.push((ws, node)),
            Some(close) => {
                // 1001 "too slow"; or, on a machine too busy for the close frame's 200 ms, the
                // connection ends without one. Either way the client reconnects.
                assert!(
                    matches!(&close, None | Some((1001, _))),
                    "the only close an outage may cause is 1001 too slow: {close:?}"
                );
                live.push(cluster.ws(user).await);
            }
        }
    }

    // Recovered means: a probe sent now reaches every socket live (the nodes' subscriptions
    // are back). Then everything sent after it must arrive live, once each.
    let mut recovered = false;
    for _ in 0..20 {
        let probe = cluster.send(&alice, &group, "probe").await;
        let mut all = true;
        for (ws, _) in &live {
            all &= ws.has_all(&group, &[probe], Duration::from_millis(500)).await;
        }
        if all {
            recovered = true;
            break;
        }
    }
    if !recovered {
        let got: Vec<(usize, Vec<u64>)> = live.iter().map(|(ws, n)| (*n, ws.message_seqs(&group))).collect();
        panic!("the cluster does not deliver live again after NATS came back; acked {acked:?}, sockets {got:?}");
    }
    let mut after = Vec::new();
    for i in 0..10 {
        after.push(cluster.send(&alice, &group, &format!("after {i}")).await);
    }
    for (ws, node) in &live {
        assert!(ws.has_all(&group, &after, WAIT).await, "node {node} delivers live after recovery");
        assert_none_twice(&ws.message_seqs(&group), &format!("socket on node {node}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_nats_outage_every_missed_event_is_delivered_live_within_5s() {
    let Outage { socks, acked, group, .. } = nats_outage().await;
    for (ws, node) in &socks {
        assert!(
            ws.has_all(&group, &acked, Duration::from_secs(5)).await,
            "node {node}: missed {:?}",
            acked.iter().filter(|s| !ws.message_seqs(&group).contains(s)).collect::<Vec<_>>()
        );
        assert_once_in_order(&ws.message_seqs(&group), &format!("socket on node {node}"));
    }
}
