//! The presence directory contract suite on JetStream key-value, and what only a directory
//! with refreshed keys does: a node that stops refreshing (crashed) loses its users on the
//! other nodes, and hearing of them again is news.

use hubbub_app::ports::{PresenceDirectory, PresenceHandler};
use hubbub_app::testing::presence_contract::eventually;
use hubbub_bus_nats::{NatsBus, NatsPresence, PresenceTiming};
use hubbub_domain::UserId;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn url() -> String {
    std::env::var("HUBBUB_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A node's directory, whose cluster's bucket is deleted when the last node of the test
/// drops it, so tests leave no bucket behind on the shared server.
struct Node {
    directory: Option<NatsPresence>,
    cleanup: Option<Arc<Cleanup>>,
}

struct Cleanup {
    url: String,
    bucket: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let (url, bucket) = (self.url.clone(), self.bucket.clone());
        // Drop is synchronous, and may run inside the test's runtime: a thread of its own.
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

#[async_trait::async_trait]
impl PresenceDirectory for Node {
    async fn set_here(&self, user: UserId, online: bool) {
        self.directory.as_ref().unwrap().set_here(user, online).await
    }
    fn elsewhere(&self, user: UserId) -> bool {
        self.directory.as_ref().unwrap().elsewhere(user)
    }
    fn subscribe(&self, handler: Arc<dyn PresenceHandler>) {
        self.directory.as_ref().unwrap().subscribe(handler)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // The directory first, so its tasks stop before the bucket goes.
        self.directory.take();
        self.cleanup.take();
    }
}

/// `count` nodes of a fresh cluster, and its name (for more nodes later).
async fn nodes(count: usize, timing: PresenceTiming) -> (Vec<Node>, String) {
    let cluster = format!("test-{}", uuid::Uuid::now_v7().simple());
    let cleanup = Arc::new(Cleanup { url: url(), bucket: format!("hubbub_{cluster}_presence") });
    let mut nodes = Vec::new();
    for _ in 0..count {
        let bus = NatsBus::connect(&url(), &cluster).await.expect("a nats-server with JetStream");
        let directory = bus.presence(timing).await.expect("the presence bucket");
        nodes.push(Node { directory: Some(directory), cleanup: Some(cleanup.clone()) });
    }
    (nodes, cluster)
}

async fn pair() -> (Arc<dyn PresenceDirectory>, Arc<dyn PresenceDirectory>) {
    let (mut nodes, _) = nodes(2, PresenceTiming::default()).await;
    let b = nodes.pop().unwrap();
    let a = nodes.pop().unwrap();
    (Arc::new(a), Arc::new(b))
}

hubbub_app::presence_contract_tests!(pair());

#[derive(Default)]
struct Told(Mutex<Vec<(UserId, bool)>>);

impl PresenceHandler for Told {
    fn lapsed(&self, user: UserId, online: bool) {
        self.0.lock().unwrap().push((user, online));
    }
}

#[tokio::test]
async fn a_node_that_stops_refreshing_loses_its_users_and_hearing_of_them_again_is_news() {
    let timing = PresenceTiming {
        refresh: Duration::from_millis(200),
        stale: Duration::from_millis(1200),
        max_age: Duration::from_secs(3),
    };
    let (mut nodes, cluster) = nodes(2, timing).await;
    let observer = nodes.pop().unwrap();
    let crashing = nodes.pop().unwrap();
    let told = Arc::new(Told::default());
    observer.subscribe(told.clone());
    let erin = UserId(uuid::Uuid::now_v7());

    crashing.set_here(erin, true).await;
    eventually("the observer hears of erin", || observer.elsewhere(erin)).await;
    // Refreshed keys stay believed well past `stale`.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(observer.elsewhere(erin), "a refreshed key is not swept");
    assert!(told.0.lock().unwrap().is_empty(), "nothing lapsed while the node refreshed: {:?}", told.0.lock());

    // The crash: its tasks stop, its key is never deleted.
    let mut crashing = crashing;
    crashing.directory.take();
    eventually("the observer stops believing in erin", || !observer.elsewhere(erin)).await;
    eventually("and is told so", || told.0.lock().unwrap().as_slice() == [(erin, false)]).await;

    // Erin comes back through a new node: the observer is told, once.
    let bus = NatsBus::connect(&url(), &cluster).await.unwrap();
    let comeback = bus.presence(timing).await.unwrap();
    comeback.set_here(erin, true).await;
    eventually("the observer hears of erin again", || observer.elsewhere(erin)).await;
    eventually("and is told so", || told.0.lock().unwrap().as_slice() == [(erin, false), (erin, true)]).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(told.0.lock().unwrap().len(), 2, "refreshes are not news");
    drop(comeback);
    drop(crashing);
}
