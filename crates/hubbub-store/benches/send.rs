//! Persisted sends through the `Store` port alone, with no HTTP: the ceiling that storage
//! puts under `hubbub-bench`'s write scenario. It runs the same shape of load (N closed-loop
//! senders, one group of two each, plain text, no `client_id`) for a few seconds and prints
//! messages per second. Run it with `cargo bench -p hubbub-store` (release profile, plain
//! `main`); `SENDERS` and `SECONDS` in the environment change the shape. Under `cargo test`
//! (no `--bench` argument) it runs for a moment with two senders, so it cannot rot.

use hubbub_app::ports::{NewAccount, NewGroup, NewMessage, NewSession, SessionId, Store};
use hubbub_domain::{ConversationId, GroupName, MessageId, MessageText, Timestamp, UserId, Username};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn user(store: &Arc<dyn Store>, name: &str) -> UserId {
    let account = NewAccount {
        id: UserId::generate(),
        username: Username::parse(name).unwrap(),
        display_name: name.to_owned(),
        password_hash: "$argon2id$bench".to_owned(),
        now: Timestamp::now(),
    };
    let session = NewSession {
        id: SessionId(uuid::Uuid::now_v7()),
        token_digest: hubbub_app::security::issue_token().digest,
        now: Timestamp::now(),
    };
    store.create_account(account, session).await.unwrap().id
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let benching = std::env::args().any(|arg| arg == "--bench");
    let senders = env_or("SENDERS", if benching { 64 } else { 2 }) as usize;
    let run_for = if benching { Duration::from_secs(env_or("SECONDS", 5)) } else { Duration::from_millis(200) };
    for durability in [hubbub_store::Durability::Normal, hubbub_store::Durability::Full] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.db");
        let store = hubbub_store::open(&path.to_string_lossy(), durability).await.unwrap();
        // Nobody reads the commit feed here; take it so its queue does not grow.
        let mut feed = store.commit_feed().unwrap();
        tokio::spawn(async move { while feed.recv().await.is_some() {} });
        let mut groups = Vec::new();
        for i in 0..senders {
            let (a, b) = (user(&store, &format!("alice{i}")).await, user(&store, &format!("bob{i}")).await);
            let id = ConversationId::generate();
            store
                .create_group(NewGroup {
                    id,
                    creator: a,
                    name: GroupName::parse("bench").unwrap(),
                    member_ids: vec![b],
                    now: Timestamp::now(),
                })
                .await
                .unwrap();
            groups.push((id, a));
        }
        let sent = Arc::new(AtomicU64::new(0));
        let end = Instant::now() + run_for;
        let start = Instant::now();
        let tasks: Vec<_> = groups
            .into_iter()
            .enumerate()
            .map(|(i, (conversation_id, sender))| {
                let (store, sent) = (store.clone(), sent.clone());
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < end {
                        let text = format!("bench:0:{i}:{n}:{}", Timestamp::now().millis());
                        store
                            .send_message(NewMessage {
                                id: MessageId::generate(),
                                conversation_id,
                                sender,
                                text: MessageText::parse(&text, 4096, false).unwrap(),
                                photo: None,
                                file: None,
                                reply_to: None,
                                client_id: None,
                                forwarded: false,
                                now: Timestamp::now(),
                                mentions: Default::default(),
                                outbox: None,
                            })
                            .await
                            .unwrap();
                        sent.fetch_add(1, Ordering::Relaxed);
                        n += 1;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let sent = sent.load(Ordering::Relaxed);
        assert!(sent > 0, "no message was persisted");
        let rate = sent as f64 / start.elapsed().as_secs_f64();
        println!("store send, {senders} senders, {durability:?}: {rate:.0} msg/s");
    }
}
