//! Starting the app: a store that cannot hand over its commit feed is refused at start-up,
//! since every event it commits would otherwise be stored and never published.

use hubbub_app::App;
use hubbub_app::realtime::LocalBus;
use hubbub_domain::Limits;
use std::sync::Arc;

#[tokio::test]
#[should_panic(expected = "commit feed")]
async fn a_store_whose_commit_feed_is_gone_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = hubbub_store::open(&dir.path().join("app.db").to_string_lossy(), hubbub_store::Durability::Normal)
        .await
        .unwrap();
    // Someone else took the feed: nothing the app publishes would ever see a commit.
    let _taken = store.commit_feed();
    App::start(store, Arc::new(LocalBus::new()), Limits::default());
}
