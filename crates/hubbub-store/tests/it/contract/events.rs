//! Seqs, the commit feed, the event log and receipts.

use super::*;

pub async fn seqs_are_gapless_under_concurrency(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let sender = if i % 2 == 0 { alice } else { bob };
            store.send_message(text_message(chat, sender, &format!("m{i}"), None)).await.unwrap().message.seq
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (2..202).collect::<Vec<_>>(), "seq 1 is the conversation's creation");
}

pub async fn mixed_writes_commit_and_publish_in_seq_order(store: Arc<dyn Store>) {
    // Sends, marks and renames all take seqs of (or read) one conversation at once. An
    // adapter may run different kinds of writes differently (SQLite runs the hot ones on a
    // second connection), but the seqs stay gapless, every failure is the caller's own, and
    // the commit feed hands events on in exactly seq order.
    let mut feed = store.commit_feed();
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (group, created) = group_of(&store, alice, vec![bob]).await;
    assert_eq!(created.seq, 1);
    let mut tasks = Vec::new();
    for i in 0..150 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            match i % 3 {
                0 => {
                    let name = GroupName::parse(&format!("name {i}")).unwrap();
                    Some(store.rename_group(group, name, alice, Timestamp::now()).await.unwrap().seq)
                }
                1 => Some(
                    store.send_message(text_message(group, alice, &format!("m{i}"), None)).await.unwrap().message.seq,
                ),
                _ => {
                    store.advance_marks(bob, group, Some(i64::MAX), Some(i), Timestamp::now()).await.unwrap();
                    None
                }
            }
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.extend(task.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (2..102).collect::<Vec<_>>());
    if let Some(feed) = feed.as_mut() {
        let mut published = Vec::new();
        while let Ok(event) = feed.try_recv() {
            if event.conversation_id == group {
                published.push(event.seq);
            }
        }
        assert_eq!(published, (1..102).collect::<Vec<_>>(), "published in commit order, which is seq order");
    }
    let bobs = store.membership(bob, group).await.unwrap().unwrap();
    let log = store.events_after(group, bobs, 0, 500).await.unwrap();
    assert_eq!(log.events.len(), 101);
}

pub async fn the_event_log_replays_in_order_within_the_members_view(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (group, _) = group_of(&store, alice, vec![]).await;
    store.send_message(text_message(group, alice, "before bob", None)).await.unwrap();
    let added = store.add_members(group, vec![bob], alice, Timestamp::now()).await.unwrap();
    assert_eq!(added.committed.len(), 2, "member.added for the others, conversation.created for bob");
    store.send_message(text_message(group, alice, "with bob", None)).await.unwrap();
    let alice_view = store.membership(alice, group).await.unwrap().unwrap();
    let bob_view = store.membership(bob, group).await.unwrap().unwrap();
    let all = store.events_after(group, alice_view, 0, 500).await.unwrap();
    let seqs: Vec<i64> = all
        .events
        .iter()
        .map(|e| serde_json::from_slice::<serde_json::Value>(e).unwrap()["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    let bobs = store.events_after(group, bob_view, 0, 500).await.unwrap();
    assert_eq!(bobs.events.len(), 1, "bob's view starts after his addition");
    let page = store.events_after(group, alice_view, 0, 2).await.unwrap();
    assert!(page.has_more && page.events.len() == 2);
}

pub async fn every_persisted_change_reaches_the_feed_once_in_seq_order(store: Arc<dyn Store>) {
    let mut feed = store.commit_feed().expect("a fresh store hands out its feed");
    assert!(store.commit_feed().is_none(), "the feed is taken once");
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let now = Timestamp::now;
    let mut returned: Vec<Committed> = Vec::new();

    let (chat, created) = store.open_direct(alice, bob, ConversationId::generate(), now()).await.unwrap();
    returned.extend(created);
    let sent = store.send_message(text_message(chat, alice, "hi", None)).await.unwrap();
    returned.extend(sent.committed);
    let text = MessageText::parse("hi!", 4096, false).unwrap();
    returned.push(store.edit_message(chat, sent.message.id, text, Default::default(), now()).await.unwrap().1);
    returned.extend(
        store.set_reaction(bob, chat, sent.message.id, Some(Emoji::parse("👍").unwrap()), now()).await.unwrap(),
    );
    returned.push(store.delete_message(chat, sent.message.id, now()).await.unwrap().0);
    // Writes that change no conversation commit no event.
    store.advance_marks(bob, chat, Some(5), Some(5), now()).await.unwrap();
    store.set_last_seen(alice, now()).await.unwrap();
    store.update_profile(alice, ProfilePatch { about: Some("x".into()), ..Default::default() }).await.unwrap();
    store.set_user_photo(alice, Some(photo("face.jpg"))).await.unwrap();
    store.create_session(alice, session()).await.unwrap();

    let (group, created) = group_of(&store, alice, vec![bob]).await;
    returned.push(created);
    returned.push(store.rename_group(group, GroupName::parse("h").unwrap(), alice, now()).await.unwrap());
    returned.push(store.set_group_photo(group, Some(photo("g.jpg")), alice, now()).await.unwrap().0);
    returned.extend(store.add_members(group, vec![carol], alice, now()).await.unwrap().committed);
    match store.remove_member(group, alice, alice, now()).await.unwrap() {
        RemoveOutcome::Removed { committed, promoted } => returned.extend([committed].into_iter().chain(promoted)),
        RemoveOutcome::NotAMember => panic!("alice was a member"),
    }

    let mut fed = Vec::new();
    while let Ok(committed) = feed.try_recv() {
        fed.push(committed);
    }
    let summary = |list: &[Committed]| {
        list.iter()
            .map(|c| (c.conversation_id, c.seq, kind(c), sorted(&c.recipients), c.json.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(summary(&fed), summary(&returned), "the feed carries exactly what the writes returned, in order");
    let types = |id: ConversationId| {
        fed.iter().filter(|c| c.conversation_id == id).map(|c| (c.seq, kind(c))).collect::<Vec<_>>()
    };
    let expected = |list: &[(i64, &str)]| list.iter().map(|(s, t)| (*s, t.to_string())).collect::<Vec<_>>();
    assert_eq!(
        types(chat),
        expected(&[
            (1, "conversation.created"),
            (2, "message.created"),
            (3, "message.updated"),
            (4, "message.updated"),
            (5, "message.updated")
        ])
    );
    assert_eq!(
        types(group),
        expected(&[
            (1, "conversation.created"),
            (2, "conversation.updated"),
            (3, "conversation.updated"),
            (4, "member.added"),
            (4, "conversation.created"),
            (5, "member.removed"),
            (6, "conversation.updated"),
        ])
    );
    // What the log replays is byte for byte what was fed (one serialisation per event).
    let bobs = store.membership(bob, chat).await.unwrap().unwrap();
    let log = store.events_after(chat, bobs, 0, 100).await.unwrap();
    let fed_json: Vec<bytes::Bytes> =
        fed.iter().filter(|c| c.conversation_id == chat).map(|c| c.json.clone()).collect();
    assert_eq!(log.events, fed_json);
}

pub async fn event_pages_end_exactly(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    for i in 0..3 {
        send(&store, chat, alice, &format!("m{i}")).await;
    }
    let mine = store.membership(alice, chat).await.unwrap().unwrap();
    let page = |after, limit| {
        let store = store.clone();
        async move {
            let page = store.events_after(chat, mine, after, limit).await.unwrap();
            (seqs_and_types(&page.events).into_iter().map(|(s, _)| s).collect::<Vec<_>>(), page.has_more)
        }
    };
    assert_eq!(page(0, 4).await, (vec![1, 2, 3, 4], false), "exactly the rest: nothing more");
    assert_eq!(page(0, 3).await, (vec![1, 2, 3], true));
    assert_eq!(page(2, 1).await, (vec![3], true));
    assert_eq!(page(3, 3).await, (vec![4], false));
    assert_eq!(page(4, 3).await, (vec![], false));
    assert_eq!(page(100, 3).await, (vec![], false));

    // A former member replays up to and including their own removal, and nothing later.
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    send(&store, group, alice, "2").await;
    store.remove_member(group, bob, bob, Timestamp::now()).await.unwrap();
    send(&store, group, alice, "4").await;
    let bobs = store.membership(bob, group).await.unwrap().unwrap();
    let log = store.events_after(group, bobs, 0, 100).await.unwrap();
    let expected = [(1, "conversation.created"), (2, "message.created"), (3, "member.removed")];
    assert_eq!(seqs_and_types(&log.events), expected.map(|(s, t)| (s, t.to_owned())));
    assert!(!log.has_more);
    assert!(!store.events_after(group, bobs, 0, 3).await.unwrap().has_more, "nothing more inside his window");
    assert!(store.events_after(group, bobs, 3, 100).await.unwrap().events.is_empty());
    let unknown = store.events_after(ConversationId::generate(), mine, 0, 10).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)));
}

pub async fn receipts_list_the_members_who_could_see_the_message(store: Arc<dyn Store>) {
    let mut ids = Vec::new();
    for name in ["alice", "bob", "carol", "frank", "erin", "dave"] {
        ids.push(user(&store, name).await);
    }
    let [alice, bob, carol, frank, erin, dave] = <[UserId; 6]>::try_from(ids).unwrap();
    let (group, _) = group_of(&store, alice, vec![bob, carol, frank, erin]).await;
    store.remove_member(group, erin, erin, Timestamp::now()).await.unwrap(); // seq 2: gone before
    let message = send(&store, group, alice, "hi").await; // seq 3
    store.add_members(group, vec![dave], alice, Timestamp::now()).await.unwrap(); // seq 4: came after
    store.remove_member(group, frank, frank, Timestamp::now()).await.unwrap(); // seq 5: left after
    let base = Timestamp::now();
    let t = |ms: i64| base.plus_millis(ms);
    store.advance_marks(bob, group, Some(3), None, t(1)).await.unwrap();
    store.advance_marks(bob, group, None, Some(3), t(2)).await.unwrap();
    // A mark past the message covers it; reading implies delivery.
    store.advance_marks(carol, group, None, Some(5), t(3)).await.unwrap();
    store.advance_marks(dave, group, None, Some(5), t(4)).await.unwrap();
    let receipts = store.receipts(group, message.id).await.unwrap();
    assert_eq!(
        receipts,
        vec![
            Receipt { user_id: bob, delivered_at: Some(t(1)), read_at: Some(t(2)) },
            Receipt { user_id: carol, delivered_at: Some(t(3)), read_at: Some(t(3)) },
            Receipt { user_id: frank, delivered_at: None, read_at: None },
        ],
        "members when it was sent, but the sender, oldest first; later moves change nothing"
    );
    store.advance_marks(bob, group, None, Some(5), t(9)).await.unwrap();
    assert_eq!(
        store.receipts(group, message.id).await.unwrap()[0].read_at,
        Some(t(2)),
        "the first move that covered it"
    );
    assert!(matches!(store.receipts(group, MessageId::generate()).await, Err(StoreError::NotFound)));
    assert!(matches!(store.receipts(ConversationId::generate(), message.id).await, Err(StoreError::NotFound)));
}

pub async fn racing_duplicates_commit_once(store: Arc<dyn Store>) {
    // What a single writer gets for free a backend with concurrent writers must enforce:
    // retries racing each other store one message, one member, one reaction.
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    let mut sends = Vec::new();
    for _ in 0..10 {
        let store = store.clone();
        sends.push(tokio::spawn(async move {
            store.send_message(text_message(group, alice, "once", Some("retry"))).await.unwrap()
        }));
    }
    let mut ids = Vec::new();
    let mut committed = 0;
    for task in sends {
        let outcome = task.await.unwrap();
        committed += outcome.committed.is_some() as usize;
        ids.push(outcome.message.id);
    }
    ids.dedup();
    assert_eq!((committed, ids.len()), (1, 1), "one message, whoever won");
    let message = ids[0];

    let mut adds = Vec::new();
    let mut reacts = Vec::new();
    for _ in 0..10 {
        let store2 = store.clone();
        adds.push(tokio::spawn(async move {
            store2.add_members(group, vec![carol], alice, Timestamp::now()).await.unwrap()
        }));
        let store3 = store.clone();
        reacts.push(tokio::spawn(async move {
            let emoji = Some(Emoji::parse("👍").unwrap());
            store3.set_reaction(bob, group, message, emoji, Timestamp::now()).await.unwrap()
        }));
    }
    let mut added = 0;
    for task in adds {
        added += task.await.unwrap().committed.iter().filter(|c| kind(c) == "member.added").count();
    }
    let mut reacted = 0;
    for task in reacts {
        reacted += task.await.unwrap().is_some() as usize;
    }
    assert_eq!((added, reacted), (1, 1));
    assert_eq!(store.reactions(group, message).await.unwrap().len(), 1);
    let alices = store.membership(alice, group).await.unwrap().unwrap();
    assert_eq!(alices.member_count, 3);
    let history = store.list_messages(alice, group, alices, HistoryCursor::Latest, 50).await.unwrap();
    assert_eq!(history.messages.len(), 1);
    let log = store.events_after(group, alices, 0, 100).await.unwrap();
    let (seqs, mut types): (Vec<i64>, Vec<String>) = seqs_and_types(&log.events).into_iter().unzip();
    types.sort();
    assert_eq!(seqs, vec![1, 2, 3, 4], "no seq taken by a duplicate");
    // The member and the reaction raced each other: either may hold seq 3.
    assert_eq!(types, ["conversation.created", "member.added", "message.created", "message.updated"]);
}
