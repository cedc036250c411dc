//! The presence directory contract suite: what every adapter of `PresenceDirectory` must do,
//! run by [`presence_contract_tests!`](crate::presence_contract_tests) on `LocalPresence`
//! (the lib tests) and on NATS key-value (`hubbub-bus-nats`). Each test gets two nodes'
//! directories of one cluster.

use crate::ports::PresenceDirectory;
use hubbub_domain::UserId;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a change may take to reach the other node; generous, since CI machines stall.
const CROSSING: Duration = Duration::from_secs(5);

fn user() -> UserId {
    UserId(Uuid::now_v7())
}

/// Waits until `check` holds, or fails the test after the crossing time.
pub async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + CROSSING;
    while !check() {
        assert!(Instant::now() < deadline, "not within {CROSSING:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn a_user_here_is_elsewhere_for_the_other_node_only(
    a: Arc<dyn PresenceDirectory>,
    b: Arc<dyn PresenceDirectory>,
) {
    let alice = user();
    assert!(!a.elsewhere(alice) && !b.elsewhere(alice), "nobody is online before they connect");
    a.set_here(alice, true).await;
    eventually("b hears that alice is on a", || b.elsewhere(alice)).await;
    assert!(!a.elsewhere(alice), "a node's own users are not elsewhere for it");
    a.set_here(alice, false).await;
    eventually("b hears that alice left a", || !b.elsewhere(alice)).await;
}

pub async fn a_user_on_both_nodes_stays_elsewhere_until_both_let_go(
    a: Arc<dyn PresenceDirectory>,
    b: Arc<dyn PresenceDirectory>,
) {
    let bob = user();
    a.set_here(bob, true).await;
    b.set_here(bob, true).await;
    eventually("each hears of the other", || a.elsewhere(bob) && b.elsewhere(bob)).await;
    a.set_here(bob, false).await;
    eventually("b hears that bob left a", || !b.elsewhere(bob)).await;
    assert!(a.elsewhere(bob), "bob is still on b");
    b.set_here(bob, false).await;
    eventually("a hears that bob left b", || !a.elsewhere(bob)).await;
}

pub async fn users_are_told_apart(a: Arc<dyn PresenceDirectory>, b: Arc<dyn PresenceDirectory>) {
    let (carol, dave) = (user(), user());
    a.set_here(carol, true).await;
    b.set_here(dave, true).await;
    eventually("both cross", || b.elsewhere(carol) && a.elsewhere(dave)).await;
    assert!(!b.elsewhere(dave) && !a.elsewhere(carol));
    // Telling a node's directory of a user it never held changes nothing elsewhere.
    b.set_here(carol, false).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(b.elsewhere(carol), "b letting go of carol, whom it never held, does not take her off a");
}

#[macro_export]
macro_rules! presence_contract_tests {
    ($pair:expr) => {
        $crate::presence_contract_tests!(@each $pair;
            a_user_here_is_elsewhere_for_the_other_node_only,
            a_user_on_both_nodes_stays_elsewhere_until_both_let_go,
            users_are_told_apart
        );
    };
    (@each $pair:expr; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (a, b) = $pair.await;
                $crate::testing::presence_contract::$name(a, b).await;
            }
        )*
    };
}
