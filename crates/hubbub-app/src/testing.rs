//! Test support shared with the adapters' crates (feature `testing`): the bus contract
//! suite. One suite, written against the `Bus` port, run on every adapter by
//! [`bus_contract_tests!`](crate::bus_contract_tests).

pub mod bus_contract {
    use crate::ports::{Bus, BusHandler, BusMessage, Envelope, SessionId};
    use bytes::Bytes;
    use hubbub_domain::{ConversationId, UserId};
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::mpsc;
    use uuid::Uuid;

    /// How long a message may take to cross; generous, since CI machines stall.
    const CROSSING: Duration = Duration::from_secs(5);
    /// How long to wait for a message that must not come (a duplicate, an echo).
    const QUIET: Duration = Duration::from_millis(300);

    /// A node's handler that records what it is given, in order.
    pub struct Recorder {
        tx: mpsc::UnboundedSender<Envelope>,
    }

    impl BusHandler for Recorder {
        fn handle(&self, envelope: Envelope) {
            let _ = self.tx.send(envelope);
        }
    }

    /// A node under test: its bus and what its handler received.
    pub struct Node {
        pub bus: Arc<dyn Bus>,
        received: mpsc::UnboundedReceiver<Envelope>,
    }

    impl Node {
        pub fn subscribe(bus: Arc<dyn Bus>) -> Node {
            let (tx, received) = mpsc::unbounded_channel();
            bus.subscribe(Arc::new(Recorder { tx }));
            Node { bus, received }
        }

        pub async fn next(&mut self) -> Envelope {
            tokio::time::timeout(CROSSING, self.received.recv())
                .await
                .expect("a message within the crossing time")
                .expect("the handler is alive")
        }

        pub async fn assert_quiet(&mut self) {
            if let Ok(Some(extra)) = tokio::time::timeout(QUIET, self.received.recv()).await {
                panic!("unexpected message: {extra:?}");
            }
        }
    }

    fn deliver(conversation: ConversationId, seq: i64, audience: &[UserId]) -> BusMessage {
        BusMessage::Deliver {
            conversation,
            seq,
            payload: Bytes::from(format!("{{\"seq\":{seq}}}")),
            audience: audience.to_vec().into(),
        }
    }

    /// Two nodes of one cluster have different ids.
    pub async fn nodes_have_their_own_ids(a: Arc<dyn Bus>, b: Arc<dyn Bus>) {
        assert_ne!(a.node(), b.node());
    }

    /// Deliveries published on A reach B once each, in publish order per conversation
    /// (here two interleaved conversations), with origin A and the payload and audience
    /// unchanged.
    pub async fn deliveries_cross_once_in_order_with_their_origin(a: Arc<dyn Bus>, b: Arc<dyn Bus>) {
        let origin = a.node();
        let _a = Node::subscribe(a.clone());
        let mut b = Node::subscribe(b);
        let (one, two) = (ConversationId::generate(), ConversationId::generate());
        let audience = [UserId::generate(), UserId::generate()];
        let mut sent = Vec::new();
        for seq in 1..=50 {
            for conversation in [one, two] {
                let message = deliver(conversation, seq, &audience);
                sent.push(message.clone());
                a.publish(message).await;
            }
        }
        for expected in sent {
            let got = b.next().await;
            assert_eq!(got.origin, origin);
            assert_eq!(got.message, expected);
        }
        b.assert_quiet().await;
    }

    /// A node's own messages reach its own handler exactly once, at once (before `publish`
    /// returns), and never a second time when they come back from the network.
    pub async fn own_messages_are_handled_once_before_publish_returns(a: Arc<dyn Bus>, b: Arc<dyn Bus>) {
        let origin = a.node();
        let mut a_node = Node::subscribe(a.clone());
        let mut b_node = Node::subscribe(b);
        let message = deliver(ConversationId::generate(), 1, &[UserId::generate()]);
        a.publish(message.clone()).await;
        let own = a_node.received.try_recv().expect("handled before publish returned");
        assert_eq!(own, Envelope { origin, message: message.clone() });
        assert_eq!(b_node.next().await.message, message);
        a_node.assert_quiet().await;
    }

    /// Ending sessions on A closes their sockets and forgets them on B.
    pub async fn session_ends_cross(a: Arc<dyn Bus>, b: Arc<dyn Bus>) {
        let _a = Node::subscribe(a.clone());
        let mut b = Node::subscribe(b);
        let sessions = vec![SessionId(Uuid::now_v7()), SessionId(Uuid::now_v7())];
        a.publish(BusMessage::ForgetSessions(sessions.clone())).await;
        a.publish(BusMessage::CloseSessions(sessions.clone())).await;
        assert_eq!(b.next().await.message, BusMessage::ForgetSessions(sessions.clone()));
        assert_eq!(b.next().await.message, BusMessage::CloseSessions(sessions));
        b.assert_quiet().await;
    }

    /// Presence and ephemeral events (typing, receipts, profile changes) cross both ways,
    /// with their except-user and an empty audience intact.
    pub async fn presence_and_ephemeral_cross_both_ways(a: Arc<dyn Bus>, b: Arc<dyn Bus>) {
        let (a_id, b_id) = (a.node(), b.node());
        let mut a_node = Node::subscribe(a.clone());
        let mut b_node = Node::subscribe(b.clone());
        let (user, contact) = (UserId::generate(), UserId::generate());
        let presence = BusMessage::Presence {
            user,
            online: true,
            payload: Bytes::from_static(b"{\"type\":\"presence\"}"),
            audience: vec![contact].into(),
        };
        let typing = BusMessage::Ephemeral {
            payload: Bytes::from_static(b"{\"type\":\"typing\"}"),
            audience: vec![user, contact].into(),
            except_user: Some(user),
        };
        let nobody = BusMessage::Ephemeral { payload: Bytes::new(), audience: Vec::new().into(), except_user: None };
        a.publish(presence.clone()).await;
        b.publish(typing.clone()).await;
        b.publish(nobody.clone()).await;
        // Order is kept per origin; between origins nothing is promised.
        let on_a = [a_node.next().await, a_node.next().await, a_node.next().await];
        let on_b = [b_node.next().await, b_node.next().await, b_node.next().await];
        for seen in [on_a, on_b] {
            let from = |node| seen.iter().filter(|e| e.origin == node).map(|e| e.message.clone()).collect::<Vec<_>>();
            assert_eq!(from(a_id), vec![presence.clone()]);
            assert_eq!(from(b_id), vec![typing.clone(), nobody.clone()]);
        }
        a_node.assert_quiet().await;
        b_node.assert_quiet().await;
    }

    /// Login failures and registrations counted on A reach B as they were (B counts them in
    /// its own limiters), an IPv6 address and an empty (malformed-name) key included.
    pub async fn limiter_counts_cross(a: Arc<dyn Bus>, b: Arc<dyn Bus>) {
        let _a = Node::subscribe(a.clone());
        let mut b = Node::subscribe(b);
        let sent = vec![
            BusMessage::LoginFailed { username: "bob".to_owned(), address: "192.0.2.7".parse().unwrap() },
            BusMessage::LoginFailed { username: String::new(), address: "2001:db8::1".parse().unwrap() },
            BusMessage::Registered { address: "198.51.100.4".parse().unwrap() },
            BusMessage::RoomPasswordFailed { user: UserId::generate(), room: ConversationId::generate() },
        ];
        for message in &sent {
            a.publish(message.clone()).await;
        }
        for expected in sent {
            let got = b.next().await;
            assert_eq!(got.origin, a.node());
            assert_eq!(got.message, expected);
        }
        b.assert_quiet().await;
    }

    /// `subscribe` is once per node: a second handler gets nothing, the first keeps
    /// getting everything.
    pub async fn connected_nodes_say_they_are(a: Arc<dyn Bus>, b: Arc<dyn Bus>) {
        // Both nodes of a working network report it (losing it is adapter-specific: the
        // NATS crate tests it against a server it stops).
        assert_eq!(a.health(), crate::ports::BusHealth::Connected);
        assert_eq!(b.health(), crate::ports::BusHealth::Connected);
    }

    pub async fn a_second_subscribe_is_ignored(a: Arc<dyn Bus>, b: Arc<dyn Bus>) {
        let _a = Node::subscribe(a.clone());
        let mut first = Node::subscribe(b.clone());
        let mut second = Node::subscribe(b);
        let message = deliver(ConversationId::generate(), 7, &[]);
        a.publish(message.clone()).await;
        assert_eq!(first.next().await.message, message);
        second.assert_quiet().await;
    }
}

/// Runs the bus contract suite on one adapter. `$pair` is an expression giving a future of
/// two buses `(Arc<dyn Bus>, Arc<dyn Bus>)`: two nodes of one cluster that no other test
/// shares (for NATS, their own subject prefix).
#[macro_export]
macro_rules! bus_contract_tests {
    ($pair:expr) => {
        $crate::bus_contract_tests!(@each $pair;
            nodes_have_their_own_ids,
            deliveries_cross_once_in_order_with_their_origin,
            own_messages_are_handled_once_before_publish_returns,
            session_ends_cross,
            presence_and_ephemeral_cross_both_ways,
            connected_nodes_say_they_are,
            limiter_counts_cross,
            a_second_subscribe_is_ignored
        );
    };
    (@each $pair:expr; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (a, b) = $pair.await;
                $crate::testing::bus_contract::$name(a, b).await;
            }
        )*
    };
}

pub mod presence_contract;
