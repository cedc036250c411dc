//! Messages: sending, history, edits, deletes, reactions.

use super::*;

pub async fn sending_stores_the_message_and_its_event(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    let now = Timestamp::from_millis(Timestamp::now().millis());
    let id = MessageId::generate();
    let new = NewMessage {
        id,
        conversation_id: group,
        sender: alice,
        text: MessageText::parse("look", 4096, false).unwrap(),
        photo: Some(photo("p.jpg")),
        file: None,
        reply_to: None,
        client_id: None,
        forwarded: true,
        now,
        mentions: Default::default(),
        outbox: None,
    };
    let SendOutcome { message, committed, .. } = store.send_message(new).await.unwrap();
    let expected = Message {
        id,
        conversation_id: group,
        seq: 2,
        sender_id: alice,
        text: "look".into(),
        photo: Some(Photo { url: "/media/p.jpg".into(), width: 4, height: 3 }),
        file: None,
        reply_to: None,
        forwarded: true,
        reactions: vec![],
        status: None,
        created_at: now,
        edited_at: None,
        deleted: false,
        link_preview: None,
        mentions: vec![],
        pinned: false,
    };
    assert_eq!(message, expected);
    let committed = committed.expect("a new message commits its event");
    assert_eq!((committed.conversation_id, committed.seq, kind(&committed)), (group, 2, "message.created".into()));
    assert_eq!(json(&committed)["data"], serde_json::to_value(&expected).unwrap(), "the event carries the message");
    assert_eq!(sorted(&committed.recipients), sorted(&[alice, bob]));
    let bobs = store.membership(bob, group).await.unwrap().unwrap();
    let page = store.list_messages(bob, group, bobs, HistoryCursor::Latest, 50).await.unwrap();
    assert_eq!(page.messages, vec![expected]);

    // A forwarded copy shares the file, recorded once, as a message photo.
    let chat = direct(&store, alice, bob).await;
    let mut copy = text_message(chat, alice, "x", None);
    (copy.text, copy.photo, copy.forwarded) = (MessageText::parse("", 4096, true).unwrap(), Some(photo("p.jpg")), true);
    let copy = store.send_message(copy).await.unwrap().message;
    assert_eq!((copy.seq, copy.text.as_str()), (2, ""));
    let records = store.media_records().await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].media_name.as_str(), records[0].purpose), ("p.jpg", MediaPurpose::Message));
}

pub async fn only_current_members_send(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let outsider = user(&store, "carol").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    store.remove_member(group, bob, bob, Timestamp::now()).await.unwrap();
    for (conversation, sender) in
        [(group, outsider), (group, bob), (group, UserId::generate()), (ConversationId::generate(), alice)]
    {
        let result = store.send_message(text_message(conversation, sender, "hi", None)).await;
        assert!(matches!(result, Err(StoreError::NotFound)), "a non-member is told the conversation does not exist");
    }
    assert_eq!(send(&store, group, alice, "hi").await.seq, 3, "refused sends take no seq");
}

pub async fn replies_must_be_visible_to_the_sender(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (group, _) = group_of(&store, alice, vec![]).await;
    let early = send(&store, group, alice, "before bob").await;
    store.add_members(group, vec![bob], alice, Timestamp::now()).await.unwrap();
    let original = send(&store, group, alice, "original").await;
    let elsewhere = send(&store, direct(&store, alice, bob).await, alice, "elsewhere").await;
    let reply = |to: MessageId| {
        let mut message = text_message(group, bob, "reply", None);
        message.reply_to = Some(to);
        message
    };
    let sent = store.send_message(reply(original.id)).await.unwrap().message;
    assert_eq!(sent.reply_to, Some(ReplyRef { id: original.id, sender_id: alice, text: "original".into() }));
    for unseen in [MessageId::generate(), elsewhere.id, early.id] {
        assert!(matches!(store.send_message(reply(unseen)).await, Err(StoreError::UnknownReference("reply_to"))));
    }
    // The original's deletion empties the quote, in history and in a new reply.
    store.delete_message(group, original.id, Timestamp::now()).await.unwrap();
    let again = store.send_message(reply(original.id)).await.unwrap().message;
    assert_eq!(again.reply_to.map(|r| r.text), Some(String::new()));
    let bobs = store.membership(bob, group).await.unwrap().unwrap();
    let page = store.list_messages(bob, group, bobs, HistoryCursor::Latest, 50).await.unwrap();
    let listed = page.messages.iter().find(|m| m.id == sent.id).unwrap();
    assert_eq!(listed.reply_to.as_ref().map(|r| (r.id, r.text.as_str())), Some((original.id, "")));
}

pub async fn client_ids_make_sends_idempotent(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let first = store.send_message(text_message(chat, alice, "hi", Some("k1"))).await.unwrap();
    let second = store.send_message(text_message(chat, alice, "hi", Some("k1"))).await.unwrap();
    assert!(first.committed.is_some());
    assert!(second.committed.is_none());
    assert_eq!(first.message.id, second.message.id);
    // A client id is the sender's own: another sender may use the same one.
    let bobs = store.send_message(text_message(chat, bob, "hi", Some("k1"))).await.unwrap();
    assert!(bobs.committed.is_some());
    assert_eq!(bobs.message.seq, 3);
    let other_chat = direct(&store, alice, user(&store, "carol").await).await;
    assert!(matches!(
        store.send_message(text_message(other_chat, alice, "hi", Some("k1"))).await,
        Err(StoreError::Conflict("client_id"))
    ));
}

pub async fn a_retried_send_returns_the_message_as_it_is_now(store: Arc<dyn Store>) {
    let mut feed = store.commit_feed().expect("a fresh store's feed");
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let first = store.send_message(text_message(chat, alice, "helo", Some("k"))).await.unwrap().message;
    let now = Timestamp::now();
    store
        .edit_message(chat, first.id, MessageText::parse("hello", 4096, false).unwrap(), Default::default(), now)
        .await
        .unwrap();
    while feed.try_recv().is_ok() {}
    let retry = store.send_message(text_message(chat, alice, "helo", Some("k"))).await.unwrap();
    assert!(retry.committed.is_none());
    assert_eq!((retry.message.id, retry.message.seq, retry.message.text.as_str()), (first.id, 2, "hello"));
    assert_eq!(retry.message.edited_at, Some(now));
    assert!(feed.try_recv().is_err(), "a retry commits nothing");
    assert_eq!(send(&store, chat, alice, "next").await.seq, 4, "and takes no seq");
}

/// The seqs of a page, in the order given.
fn seqs(page: &MessagePage) -> Vec<i64> {
    page.messages.iter().map(|m| m.seq).collect()
}

pub async fn history_pages_back_and_forth(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    for i in 0..10 {
        send(&store, chat, if i % 2 == 0 { alice } else { bob }, &format!("m{i}")).await;
    }
    let mine = store.membership(alice, chat).await.unwrap().unwrap();
    let page = |cursor, limit| {
        let store = store.clone();
        async move {
            let page = store.list_messages(alice, chat, mine, cursor, limit).await.unwrap();
            (seqs(&page), page.has_more)
        }
    };
    use HistoryCursor::*;
    // Seq 1 is the conversation's creation; messages are 2..=11, always in ascending order.
    assert_eq!(page(Latest, 3).await, (vec![9, 10, 11], true));
    assert_eq!(page(Before(9), 3).await, (vec![6, 7, 8], true));
    assert_eq!(page(Before(5), 3).await, (vec![2, 3, 4], false), "exactly the rest: nothing older");
    assert_eq!(page(Before(3), 3).await, (vec![2], false));
    assert_eq!(page(Before(2), 3).await, (vec![], false));
    assert_eq!(page(Before(1_000), 2).await, (vec![10, 11], true));
    assert_eq!(page(After(0), 3).await, (vec![2, 3, 4], true));
    assert_eq!(page(After(1), 3).await, (vec![2, 3, 4], true));
    assert_eq!(page(After(8), 3).await, (vec![9, 10, 11], false), "exactly the rest: nothing newer");
    assert_eq!(page(After(9), 3).await, (vec![10, 11], false));
    assert_eq!(page(After(11), 3).await, (vec![], false));
    assert_eq!(page(Latest, 10).await, ((2..=11).collect(), false));
    assert_eq!(page(Latest, 200).await, ((2..=11).collect(), false));

    // The others' lowest marks come with the page, for the status of the caller's messages.
    store.advance_marks(bob, chat, Some(7), Some(5), Timestamp::now()).await.unwrap();
    let marked = store.list_messages(alice, chat, mine, Latest, 1).await.unwrap();
    assert_eq!((marked.others_min_delivered, marked.others_min_read), (Some(7), Some(5)));
    assert_eq!(marked.messages[0].status, None, "statuses are the use case's to set");
}

pub async fn history_stays_inside_the_members_window(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (group, _) = group_of(&store, alice, vec![]).await;
    send(&store, group, alice, "2").await;
    send(&store, group, alice, "3").await;
    store.add_members(group, vec![bob], alice, Timestamp::now()).await.unwrap(); // seq 4
    send(&store, group, alice, "5").await;
    send(&store, group, bob, "6").await;
    store.advance_marks(alice, group, None, Some(6), Timestamp::now()).await.unwrap();
    store.remove_member(group, bob, bob, Timestamp::now()).await.unwrap(); // seq 7
    send(&store, group, alice, "8").await;
    store.advance_marks(alice, group, None, Some(8), Timestamp::now()).await.unwrap();

    let bobs = store.membership(bob, group).await.unwrap().unwrap();
    assert_eq!((bobs.visible_after, bobs.left_seq), (4, Some(7)));
    let page = |cursor, limit| {
        let store = store.clone();
        async move {
            let page = store.list_messages(bob, group, bobs, cursor, limit).await.unwrap();
            (seqs(&page), page.has_more)
        }
    };
    use HistoryCursor::*;
    assert_eq!(page(Latest, 50).await, (vec![5, 6], false));
    assert_eq!(page(Latest, 1).await, (vec![6], true));
    assert_eq!(page(Latest, 2).await, (vec![5, 6], false), "nothing more inside his window");
    assert_eq!(page(Before(6), 1).await, (vec![5], false), "nothing before bob's addition counts");
    assert_eq!(page(Before(100), 50).await, (vec![5, 6], false), "nothing after his removal either");
    assert_eq!(page(After(0), 1).await, (vec![5], true));
    assert_eq!(page(After(5), 50).await, (vec![6], false));
    assert_eq!(page(After(6), 50).await, (vec![], false));
    let former = store.list_messages(bob, group, bobs, Latest, 50).await.unwrap();
    assert_eq!(
        (former.others_min_delivered, former.others_min_read),
        (Some(7), Some(7)),
        "the others' marks at the removal: alice read up to 8, capped at 7"
    );

    let alices = store.membership(alice, group).await.unwrap().unwrap();
    let all = store.list_messages(alice, group, alices, Latest, 50).await.unwrap();
    assert_eq!(seqs(&all), vec![2, 3, 5, 6, 8]);
    assert_eq!((all.others_min_delivered, all.others_min_read), (None, None), "nobody else is left");
    let unknown = store.list_messages(alice, ConversationId::generate(), alices, Latest, 50).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)));
}

pub async fn message_meta_and_content(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let other = direct(&store, alice, user(&store, "carol").await).await;
    let mut new = text_message(chat, bob, "caption", None);
    new.photo = Some(photo("c.jpg"));
    let sent = store.send_message(new).await.unwrap().message;
    let meta = store.message_meta(chat, sent.id).await.unwrap().unwrap();
    assert_eq!((meta.sender_id, meta.seq, meta.deleted), (bob, 2, false));
    let content = store.message_content(chat, sent.id).await.unwrap().unwrap();
    assert_eq!(content.text, "caption");
    let photo_in = content.photo.unwrap();
    assert_eq!((photo_in.media_name.as_str(), photo_in.content_type.as_str()), ("c.jpg", "image/jpeg"));
    assert_eq!((photo_in.size_bytes, photo_in.width, photo_in.height), (10, 4, 3));
    let plain = send(&store, chat, alice, "plain").await;
    assert!(store.message_content(chat, plain.id).await.unwrap().unwrap().photo.is_none());

    for (conversation, message) in
        [(chat, MessageId::generate()), (other, sent.id), (ConversationId::generate(), sent.id)]
    {
        assert!(store.message_meta(conversation, message).await.unwrap().is_none());
        assert!(store.message_content(conversation, message).await.unwrap().is_none());
    }
    store.delete_message(chat, sent.id, Timestamp::now()).await.unwrap();
    let meta = store.message_meta(chat, sent.id).await.unwrap().unwrap();
    assert_eq!((meta.sender_id, meta.seq, meta.deleted), (bob, 2, true), "a tombstone keeps its place");
    assert!(store.message_content(chat, sent.id).await.unwrap().is_none(), "nothing left to forward");
}

pub async fn edits_change_the_text_and_commit_message_updated(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let original = send(&store, chat, alice, "helo").await;
    let smile = Emoji::parse("😀").unwrap();
    store.set_reaction(bob, chat, original.id, Some(smile), Timestamp::now()).await.unwrap();
    let now = Timestamp::now();
    let text = MessageText::parse("hello", 4096, false).unwrap();
    let (edited, committed) = store.edit_message(chat, original.id, text, Default::default(), now).await.unwrap();
    assert_eq!((edited.id, edited.seq, edited.text.as_str(), edited.edited_at), (original.id, 2, "hello", Some(now)));
    assert_eq!((edited.created_at, edited.reactions.len()), (original.created_at, 1), "the rest stays");
    assert_eq!((committed.seq, kind(&committed)), (4, "message.updated".to_owned()));
    assert_eq!(json(&committed)["data"], serde_json::to_value(&edited).unwrap());
    assert_eq!(sorted(&committed.recipients), sorted(&[alice, bob]));
    let mine = store.membership(alice, chat).await.unwrap().unwrap();
    let listed = store.list_messages(alice, chat, mine, HistoryCursor::Latest, 1).await.unwrap();
    assert_eq!(listed.messages, vec![edited]);

    let text = || MessageText::parse("x", 4096, false).unwrap();
    let other = direct(&store, alice, user(&store, "carol").await).await;
    for (conversation, message) in
        [(chat, MessageId::generate()), (other, original.id), (ConversationId::generate(), original.id)]
    {
        assert!(matches!(
            store.edit_message(conversation, message, text(), Default::default(), Timestamp::now()).await,
            Err(StoreError::NotFound)
        ));
    }
    store.delete_message(chat, original.id, Timestamp::now()).await.unwrap();
    assert!(matches!(
        store.edit_message(chat, original.id, text(), Default::default(), Timestamp::now()).await,
        Err(StoreError::InvalidState(_))
    ));
}

pub async fn deletes_leave_a_tombstone(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let other = direct(&store, alice, user(&store, "carol").await).await;
    let mut new = text_message(chat, alice, "secret", None);
    new.photo = Some(photo("d.jpg"));
    let sent = store.send_message(new).await.unwrap().message;
    let mut copy = text_message(other, alice, "fwd", None);
    (copy.photo, copy.forwarded) = (Some(photo("d.jpg")), true);
    let copy = store.send_message(copy).await.unwrap().message;
    store.set_reaction(bob, chat, sent.id, Some(Emoji::parse("😀").unwrap()), Timestamp::now()).await.unwrap();

    let (committed, replaced) = store.delete_message(chat, sent.id, Timestamp::now()).await.unwrap();
    assert_eq!(
        (committed.seq, kind(&committed), replaced),
        (4, "message.updated".to_owned(), Vec::<String>::new()),
        "the copy uses d.jpg"
    );
    let data = &json(&committed)["data"];
    assert_eq!((data["deleted"].as_bool(), data["text"].as_str()), (Some(true), Some("")));
    assert!(data["photo"].is_null());
    assert_eq!(data["reactions"], serde_json::json!([]));
    assert_eq!(data["seq"], 2);
    assert!(store.reactions(chat, sent.id).await.unwrap().is_empty(), "reactions go with the message");
    let mine = store.membership(alice, chat).await.unwrap().unwrap();
    let listed = store.list_messages(alice, chat, mine, HistoryCursor::Latest, 50).await.unwrap().messages;
    let tombstone = listed.iter().find(|m| m.id == sent.id).unwrap();
    assert_eq!((tombstone.seq, tombstone.sender_id, tombstone.created_at), (2, alice, sent.created_at));
    assert_eq!((tombstone.deleted, tombstone.text.as_str(), tombstone.photo.is_none()), (true, "", true));

    let (_, replaced) = store.delete_message(other, copy.id, Timestamp::now()).await.unwrap();
    assert_eq!(replaced, ["d.jpg"], "the last use of the file went");
    assert!(store.media_records().await.unwrap().is_empty());
    for (conversation, message) in
        [(chat, MessageId::generate()), (other, sent.id), (ConversationId::generate(), sent.id)]
    {
        assert!(matches!(
            store.delete_message(conversation, message, Timestamp::now()).await,
            Err(StoreError::NotFound)
        ));
    }
}

pub async fn one_reaction_per_user(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (group, _) = group_of(&store, alice, vec![bob, carol]).await;
    let message = send(&store, group, alice, "hi").await;
    let thumbs = || Some(Emoji::parse("👍").unwrap());
    let party = || Some(Emoji::parse("🎉").unwrap());
    let react = |who: UserId, emoji: Option<Emoji>| {
        let store = store.clone();
        async move { store.set_reaction(who, group, message.id, emoji, Timestamp::now()).await.unwrap() }
    };
    let summary = |committed: &Committed| {
        json(committed)["data"]["reactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let users: Vec<String> =
                    r["user_ids"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_owned()).collect();
                (r["emoji"].as_str().unwrap().to_owned(), r["count"].as_i64().unwrap(), users)
            })
            .collect::<Vec<_>>()
    };
    let first = react(bob, thumbs()).await.expect("a new reaction commits");
    assert_eq!((first.seq, kind(&first)), (3, "message.updated".to_owned()));
    assert_eq!(summary(&first), [("👍".to_owned(), 1, vec![bob.to_string()])]);
    assert!(react(bob, thumbs()).await.is_none(), "the same reaction again changes nothing");
    let second = react(carol, thumbs()).await.unwrap();
    assert_eq!(summary(&second), [("👍".to_owned(), 2, vec![bob.to_string(), carol.to_string()])]);
    let changed = react(bob, party()).await.unwrap();
    assert_eq!(
        summary(&changed),
        [("👍".to_owned(), 1, vec![carol.to_string()]), ("🎉".to_owned(), 1, vec![bob.to_string()])],
        "one reaction per user: a changed one replaces the old"
    );
    let listed: Vec<(UserId, String)> =
        store.reactions(group, message.id).await.unwrap().into_iter().map(|r| (r.user_id, r.emoji)).collect();
    assert_eq!(listed, [(carol, "👍".to_owned()), (bob, "🎉".to_owned())], "a changed reaction moves to the end");
    let cleared = react(bob, None).await.unwrap();
    assert_eq!((cleared.seq, summary(&cleared).len()), (6, 1));
    assert!(react(bob, None).await.is_none(), "clearing nothing changes nothing");
    let mine = store.membership(alice, group).await.unwrap().unwrap();
    let listed = store.list_messages(alice, group, mine, HistoryCursor::Latest, 1).await.unwrap().messages;
    let expected = ReactionSummary { emoji: "👍".into(), count: 1, user_ids: vec![carol] };
    assert_eq!(listed[0].reactions, vec![expected]);

    let unknown = MessageId::generate();
    assert!(matches!(store.reactions(group, unknown).await, Err(StoreError::NotFound)));
    assert!(matches!(store.reactions(ConversationId::generate(), message.id).await, Err(StoreError::NotFound)));
    for (who, conversation, id) in
        [(bob, group, unknown), (UserId::generate(), group, message.id), (bob, ConversationId::generate(), message.id)]
    {
        let result = store.set_reaction(who, conversation, id, thumbs(), Timestamp::now()).await;
        assert!(matches!(result, Err(StoreError::NotFound)));
    }
}

pub async fn a_reaction_never_lands_on_a_tombstone(store: Arc<dyn Store>) {
    // The react use case refuses deleted messages from `message_meta`, read before it calls
    // `set_reaction`; a delete committing in between must not leave a reaction on the
    // tombstone, so the store refuses it inside the write, as `edit_message` does.
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let message = send(&store, chat, alice, "hi").await;
    store.delete_message(chat, message.id, Timestamp::now()).await.unwrap();
    let thumbs = Some(Emoji::parse("👍").unwrap());
    let result = store.set_reaction(bob, chat, message.id, thumbs, Timestamp::now()).await;
    assert!(matches!(result, Err(StoreError::InvalidState(_))), "{:?}", result.map(|c| c.map(|c| c.seq)));
    assert!(store.reactions(chat, message.id).await.unwrap().is_empty());
    let mine = store.membership(alice, chat).await.unwrap().unwrap();
    let listed = store.list_messages(alice, chat, mine, HistoryCursor::Latest, 1).await.unwrap().messages;
    assert!(listed[0].reactions.is_empty(), "a tombstone shows no reactions");
}

pub async fn only_current_members_react(store: Arc<dyn Store>) {
    // As with sends (checked inside the write), a member removed after the use case's
    // membership check must not get a reaction in.
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let outsider = user(&store, "carol").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    let message = send(&store, group, alice, "hi").await;
    store.remove_member(group, bob, bob, Timestamp::now()).await.unwrap();
    for who in [bob, outsider] {
        let result =
            store.set_reaction(who, group, message.id, Some(Emoji::parse("👍").unwrap()), Timestamp::now()).await;
        assert!(matches!(result, Err(StoreError::NotFound)), "{:?}", result.map(|c| c.map(|c| c.seq)));
    }
    assert!(store.reactions(group, message.id).await.unwrap().is_empty());
}
