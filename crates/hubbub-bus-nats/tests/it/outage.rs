//! The broker goes away and comes back: the bus says so, reconnects by itself, and carries
//! messages between the nodes again. On a nats-server of the test's own.

use hubbub_app::ports::{Bus, BusHandler, BusHealth, BusMessage, Envelope};
use hubbub_bus_nats::NatsBus;
use hubbub_bus_nats::test_server::NatsServer;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

struct Forward(mpsc::UnboundedSender<Envelope>);

impl BusHandler for Forward {
    fn handle(&self, envelope: Envelope) {
        let _ = self.0.send(envelope);
    }
}

async fn wait_for(bus: &NatsBus, healthy: bool, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let now_healthy = bus.health() == BusHealth::Connected;
        if now_healthy == healthy {
            return;
        }
        assert!(Instant::now() < deadline, "bus health still {:?} after {within:?}", bus.health());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_lost_broker_is_reported_and_the_nodes_talk_again_once_it_is_back() {
    let mut server = NatsServer::start();
    let a = NatsBus::connect(&server.url(), "outage").await.unwrap();
    let b = NatsBus::connect(&server.url(), "outage").await.unwrap();
    let (tx, mut received) = mpsc::unbounded_channel();
    b.subscribe(Arc::new(Forward(tx)));
    assert_eq!(a.health(), BusHealth::Connected);

    server.kill();
    wait_for(&a, false, Duration::from_secs(5)).await;
    let BusHealth::Disconnected(why) = a.health() else { unreachable!() };
    assert!(why.contains("NATS"), "{why}");

    server.restart();
    wait_for(&a, true, Duration::from_secs(20)).await;
    wait_for(&b, true, Duration::from_secs(20)).await;
    // The subscription came back with the connection: a message crosses again. (NATS may
    // need a moment to register the resubscription, so publish until one arrives.)
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        a.publish(BusMessage::ForgetSessions(vec![])).await;
        if let Ok(Some(envelope)) = tokio::time::timeout(Duration::from_millis(200), received.recv()).await
            && envelope.origin == a.node()
        {
            break;
        }
        assert!(Instant::now() < deadline, "no message crossed after the broker came back");
    }
}
