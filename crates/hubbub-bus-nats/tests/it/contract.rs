use hubbub_app::ports::Bus;
use hubbub_bus_nats::NatsBus;
use std::sync::Arc;

/// Two nodes of a cluster of their own: a fresh cluster name per test, so tests running at
/// once never hear each other.
async fn pair() -> (Arc<dyn Bus>, Arc<dyn Bus>) {
    let url = std::env::var("HUBBUB_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let cluster = format!("test-{}", uuid::Uuid::now_v7().simple());
    let a = NatsBus::connect(&url, &cluster).await.expect("a nats-server for the bus contract tests");
    let b = NatsBus::connect(&url, &cluster).await.expect("a nats-server for the bus contract tests");
    assert_eq!(a.subject(), format!("hubbub.{cluster}.events"));
    (Arc::new(a), Arc::new(b))
}

hubbub_app::bus_contract_tests!(pair());

#[tokio::test]
async fn a_cluster_name_that_cannot_be_a_subject_is_refused_before_connecting() {
    for bad in ["", "a.b", "a b", "*", ">"] {
        let error = NatsBus::connect("nats://127.0.0.1:1", bad).await.err().expect("refused");
        assert_eq!(error.code(), "bus_invalid_cluster", "{bad:?}");
    }
}
