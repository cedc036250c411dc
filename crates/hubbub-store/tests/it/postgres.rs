//! What only a shared database shows: several stores (the nodes of a cluster) writing one
//! conversation at once on one PostgreSQL database.

use crate::TestDb;
use crate::contract::{group_of, text_message, user};
use hubbub_app::ports::Store;
use hubbub_domain::*;
use std::sync::Arc;

async fn nodes(db: &TestDb, n: usize) -> Vec<Arc<dyn Store>> {
    let mut stores = Vec::new();
    for _ in 0..n {
        stores.push(hubbub_store::open(&db.url, hubbub_store::Durability::Normal).await.unwrap());
    }
    stores
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_writing_one_conversation_take_gapless_seqs_and_each_feed_is_in_order() {
    let db = TestDb::create("nodes").await;
    let stores = nodes(&db, 3).await;
    let mut feeds: Vec<_> = stores.iter().map(|s| s.commit_feed().unwrap()).collect();
    let alice = user(&stores[0], "alice").await;
    let bob = user(&stores[1], "bob").await;
    let (group, _) = group_of(&stores[2], alice, vec![bob]).await;
    // 20 concurrent senders per node, 5 messages each, and renames mixed in: 300 + 30 writes
    // of one conversation, all queued on its row lock.
    let mut tasks = Vec::new();
    for (node, store) in stores.iter().enumerate() {
        for sender in 0..20 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut seqs = Vec::new();
                for i in 0..5 {
                    let from = if sender % 2 == 0 { alice } else { bob };
                    let sent = store.send_message(text_message(group, from, &format!("{node}/{sender}/{i}"), None));
                    seqs.push(sent.await.unwrap().message.seq);
                }
                if sender % 2 == 0 {
                    let name = GroupName::parse(&format!("n{node}{sender}")).unwrap();
                    seqs.push(store.rename_group(group, name, alice, Timestamp::now()).await.unwrap().seq);
                }
                (node, seqs)
            }));
        }
    }
    let mut all = Vec::new();
    let mut per_node = vec![Vec::new(); 3];
    for task in tasks {
        let (node, seqs) = task.await.unwrap();
        per_node[node].extend(seqs.iter().copied());
        all.extend(seqs);
    }
    all.sort();
    assert_eq!(all, (2..=331).collect::<Vec<_>>(), "every seq once, none skipped (seq 1 is the creation)");
    for (node, feed) in feeds.iter_mut().enumerate() {
        let mut published = Vec::new();
        while let Ok(event) = feed.try_recv() {
            if event.conversation_id == group && event.seq > 1 {
                published.push(event.seq);
            }
        }
        let mut expected = per_node[node].clone();
        expected.sort();
        assert_eq!(published, expected, "node {node} publishes exactly its own commits, in seq order");
    }
    let membership = stores[0].membership(alice, group).await.unwrap().unwrap();
    let log = stores[1].events_after(group, membership, 0, 1000).await.unwrap();
    assert_eq!(log.events.len(), 331, "the log has every change once");
}

#[tokio::test]
async fn two_nodes_opening_one_direct_conversation_at_once_find_the_same_one() {
    let db = TestDb::create("nodes").await;
    let stores = nodes(&db, 2).await;
    let alice = user(&stores[0], "alice").await;
    let bob = user(&stores[0], "bob").await;
    for i in 0..10 {
        let carol = user(&stores[0], &format!("carol{i}")).await;
        let a = stores[0].open_direct(alice, carol, ConversationId(uuid::Uuid::now_v7()), Timestamp::now());
        let b = stores[1].open_direct(carol, alice, ConversationId(uuid::Uuid::now_v7()), Timestamp::now());
        let (a, b) = tokio::join!(a, b);
        let ((a, created_a), (b, created_b)) = (a.unwrap(), b.unwrap());
        assert_eq!(a, b, "one conversation per pair");
        assert_eq!(created_a.is_some() as u8 + created_b.is_some() as u8, 1, "created once");
    }
    let _ = bob;
}

#[tokio::test]
async fn a_database_out_of_reach_is_unavailable_not_an_internal_error() {
    let db = TestDb::create("nodes").await;
    let store = hubbub_store::open(&db.url, hubbub_store::Durability::Normal).await.unwrap();
    let alice = user(&store, "alice").await;
    let url = db.url.clone();
    drop(db); // DROP DATABASE ... WITH (FORCE): every connection of the pool is cut.
    match store.user(alice).await {
        Err(hubbub_app::ports::StoreError::Unavailable(_)) => {}
        Err(hubbub_app::ports::StoreError::Other(e)) => {
            panic!("a lost database must read as unavailable, got {e} ({url})")
        }
        other => panic!("expected an error, got {:?}", other.map(|u| u.map(|u| u.username))),
    }
}

/// Writes to one conversation that wait together commit together (`postgres/writer.rs`),
/// each in its own savepoint: refused ones (a stranger's sends, a reply to nothing) get
/// their own error and leave no trace, and the others keep gapless seqs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_in_a_batch_spoils_nothing_else() {
    let db = TestDb::create("nodes").await;
    let stores = nodes(&db, 2).await;
    let alice = user(&stores[0], "alice").await;
    let bob = user(&stores[0], "bob").await;
    let mallory = user(&stores[0], "mallory").await;
    let (group, _) = group_of(&stores[0], alice, vec![bob]).await;
    let mut tasks = Vec::new();
    for i in 0..120 {
        let store = stores[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            let sender = [alice, bob, mallory][i % 3];
            let mut message = text_message(group, sender, &format!("m{i}"), None);
            if i % 7 == 0 && sender != mallory {
                message.reply_to = Some(MessageId(uuid::Uuid::now_v7()));
            }
            (sender, store.send_message(message).await.map(|sent| sent.message.seq))
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (sender, Err(hubbub_app::ports::StoreError::NotFound)) => assert_eq!(sender, mallory),
            (_, Err(hubbub_app::ports::StoreError::UnknownReference("reply_to"))) => {}
            (sender, Ok(seq)) => {
                assert_ne!(sender, mallory, "a stranger's send is refused");
                seqs.push(seq);
            }
            (_, Err(other)) => panic!("unexpected {other:?}"),
        }
    }
    seqs.sort();
    let expected: Vec<i64> = (2..2 + seqs.len() as i64).collect();
    assert_eq!(seqs, expected, "the kept writes took every seq once");
    let membership = stores[1].membership(alice, group).await.unwrap().unwrap();
    let log = stores[1].events_after(group, membership, 0, 1000).await.unwrap();
    assert_eq!(log.events.len(), 1 + seqs.len(), "nothing of the refused ones is in the log");
}

/// A retried send reaching two nodes at once (a client that timed out on A and retried
/// through B) is stored once: the second waits on the conversation's lock and then finds
/// the first by its `client_id`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_racing_on_two_nodes_is_stored_once() {
    let db = TestDb::create("nodes").await;
    let stores = nodes(&db, 3).await;
    let alice = user(&stores[0], "alice").await;
    let bob = user(&stores[0], "bob").await;
    let (group, _) = group_of(&stores[0], alice, vec![bob]).await;
    for round in 0..10 {
        let client_id = format!("retry-{round}");
        let mut sends = Vec::new();
        for store in stores.iter().chain(stores.iter()) {
            let (store, client_id) = (store.clone(), client_id.clone());
            sends.push(tokio::spawn(async move {
                store.send_message(text_message(group, alice, "once", Some(&client_id))).await.unwrap()
            }));
        }
        let mut ids = Vec::new();
        let mut committed = 0;
        for task in sends {
            let outcome = task.await.unwrap();
            committed += usize::from(outcome.committed.is_some());
            ids.push(outcome.message.id);
        }
        ids.dedup();
        assert_eq!((committed, ids.len()), (1, 1), "round {round}: one message, whichever node won");
    }
    let membership = stores[0].membership(alice, group).await.unwrap().unwrap();
    assert_eq!(stores[0].events_after(group, membership, 0, 100).await.unwrap().events.len(), 11);
}
