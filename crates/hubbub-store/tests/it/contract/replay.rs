//! Reading committed events back for the realtime path: a node filling a gap in what the bus
//! brought it (`committed_after`) and a node replaying a bus outage (`committed_since`).

use super::*;

/// What a test compares: the stored form must be the committed one, byte for byte and
/// recipient for recipient.
fn key(c: &Committed) -> (ConversationId, i64, Vec<u8>, Vec<UserId>) {
    (c.conversation_id, c.seq, c.json.to_vec(), c.recipients.to_vec())
}

pub async fn committed_events_read_back_in_seq_order_with_their_audience(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (group, created) = group_of(&store, alice, vec![bob]).await;
    // Both write paths of an adapter (SQLite: sqlx for groups and members, the direct jobs
    // for sends) must record the audience.
    let mut committed = vec![created];
    for text in ["one", "two"] {
        committed.push(store.send_message(text_message(group, alice, text, None)).await.unwrap().committed.unwrap());
    }
    committed.extend(store.add_members(group, vec![carol], alice, Timestamp::now()).await.unwrap().committed);
    committed.push(store.send_message(text_message(group, carol, "three", None)).await.unwrap().committed.unwrap());
    // The newcomer's own conversation.created is not in the group's log order by itself:
    // what the log holds is one event per seq.
    let mut expected: Vec<_> = committed.iter().filter(|c| c.conversation_id == group).map(key).collect();
    expected.sort_by_key(|k| k.1);
    expected.dedup_by_key(|k| k.1);
    let all = store.committed_after(group, 0, 100).await.unwrap();
    let seqs: Vec<i64> = all.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "every seq, in order");
    let stored: Vec<_> = all.iter().map(key).collect();
    for want in &expected {
        assert!(stored.contains(want), "stored as committed: {:?}", want.1);
    }
    let last = *seqs.last().unwrap();
    assert_eq!(last, 5, "creation, two sends, member.added, a send");
    // The audience is the one at commit time: carol is not told of what came before her.
    assert!(!all[1].recipients.contains(&carol));
    assert!(all[4].recipients.contains(&carol));

    let page: Vec<i64> = store.committed_after(group, 2, 2).await.unwrap().iter().map(|c| c.seq).collect();
    assert_eq!(page, vec![3, 4]);
    assert!(store.committed_after(group, last, 10).await.unwrap().is_empty());
    assert!(store.committed_after(ConversationId::generate(), 0, 10).await.unwrap().is_empty());
}

pub async fn events_since_a_time_come_from_every_conversation(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    store.send_message(text_message(chat, alice, "before", None)).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let since = Timestamp::now();
    let mut later = Vec::new();
    for i in 0..6 {
        let conversation = if i % 2 == 0 { chat } else { group };
        let sent = store.send_message(text_message(conversation, bob, &format!("m{i}"), None)).await.unwrap();
        later.push(key(&sent.committed.unwrap()));
    }
    let name = GroupName::parse("renamed").unwrap();
    later.push(key(&store.rename_group(group, name, alice, Timestamp::now()).await.unwrap()));

    let replay = store.committed_since(since, 100).await.unwrap();
    let got: Vec<_> = replay.iter().map(key).collect();
    let mut want = later.clone();
    want.sort_by_key(|k| (k.0 == group, k.1));
    let mut got_sorted = got.clone();
    got_sorted.sort_by_key(|k| (k.0 == group, k.1));
    assert_eq!(got_sorted, want, "exactly the events created since, as committed");
    // Ordered by (conversation, seq): each conversation's events together, in seq order.
    let runs: Vec<ConversationId> = got.iter().map(|k| k.0).fold(Vec::new(), |mut runs, c| {
        if runs.last() != Some(&c) {
            runs.push(c);
        }
        runs
    });
    assert_eq!(runs.len(), 2, "one run per conversation: {runs:?}");
    for run in [chat, group] {
        let seqs: Vec<i64> = got.iter().filter(|k| k.0 == run).map(|k| k.1).collect();
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    }
    let first_two = store.committed_since(since, 2).await.unwrap();
    assert_eq!(first_two.iter().map(key).collect::<Vec<_>>(), got[..2].to_vec());
    assert!(store.committed_since(Timestamp::now().plus_millis(60_000), 10).await.unwrap().is_empty());
}
