//! Mentions, pins and edit history: what a message mentions is stored with it and counted
//! from the read watermark; pins are changes of the conversation; edits keep the old text.

use super::*;

/// Sends `text` mentioning `mentions` (as the use case would have resolved them).
async fn send_mentioning(
    store: &Arc<dyn Store>,
    conversation: ConversationId,
    sender: UserId,
    text: &str,
    mentions: Mentions,
) -> SendOutcome {
    let mut new = text_message(conversation, sender, text, None);
    new.mentions = mentions;
    store.send_message(new).await.unwrap()
}

fn named(users: &[UserId]) -> Mentions {
    Mentions { users: users.to_vec(), all: false }
}

async fn unread_mentions(store: &Arc<dyn Store>, me: UserId, id: ConversationId) -> (i64, i64) {
    let view = store.conversation(me, id).await.unwrap().unwrap();
    let listed = store.list_conversations(me).await.unwrap();
    let in_list = listed.iter().find(|v| v.snapshot.id == id).map(|v| v.unread_mentions);
    assert_eq!(in_list, Some(view.unread_mentions), "the list and the single view agree");
    (view.unread_count, view.unread_mentions)
}

pub async fn mentions_are_stored_with_the_message_and_counted_from_the_read_mark(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (group, _) = group_of(&store, alice, vec![bob, carol]).await;
    let sent = send_mentioning(&store, group, alice, "hi @bob", named(&[bob])).await;
    assert_eq!((sent.message.mentions.clone(), sent.message.pinned), (vec![bob], false));
    let committed = sent.committed.unwrap();
    assert_eq!(json(&committed)["data"]["mentions"], serde_json::json!([bob]), "the event carries them");
    let bobs = store.membership(bob, group).await.unwrap().unwrap();
    let page = store.list_messages(bob, group, bobs, HistoryCursor::Latest, 50).await.unwrap();
    assert_eq!(page.messages[0].mentions, vec![bob]);

    assert_eq!(unread_mentions(&store, bob, group).await, (1, 1));
    assert_eq!(unread_mentions(&store, carol, group).await, (1, 0));
    let everyone =
        send_mentioning(&store, group, alice, "@all", Mentions { users: vec![alice, bob, carol], all: true })
            .await
            .message;
    assert_eq!(everyone.mentions, vec![alice, bob, carol]);
    assert_eq!(unread_mentions(&store, bob, group).await, (2, 2));
    assert_eq!(unread_mentions(&store, carol, group).await, (2, 1));
    assert_eq!(unread_mentions(&store, alice, group).await, (0, 0), "one's own messages are never unread");
    send(&store, group, carol, "plain").await;
    assert_eq!(unread_mentions(&store, bob, group).await, (3, 2));

    // Reading up to the first mention leaves the second.
    store.advance_marks(bob, group, None, Some(sent.message.seq), Timestamp::now()).await.unwrap();
    assert_eq!(unread_mentions(&store, bob, group).await, (2, 1));

    // An edit replaces what the message mentions; a delete takes them away.
    let text = MessageText::parse("hi @carol", 4096, false).unwrap();
    let (edited, _) =
        store.edit_message(group, sent.message.id, text, named(&[carol]), Timestamp::now()).await.unwrap();
    assert_eq!(edited.mentions, vec![carol]);
    assert_eq!(unread_mentions(&store, carol, group).await, (2, 2));
    let text = MessageText::parse("@all, again", 4096, false).unwrap();
    let (edited, _) = store.edit_message(group, everyone.id, text, named(&[]), Timestamp::now()).await.unwrap();
    assert_eq!(edited.mentions, Vec::<UserId>::new());
    assert_eq!(unread_mentions(&store, bob, group).await, (2, 0), "no longer for everyone");
    store.delete_message(group, sent.message.id, Timestamp::now()).await.unwrap();
    assert_eq!(unread_mentions(&store, carol, group).await, (1, 0));
    let carols = store.membership(carol, group).await.unwrap().unwrap();
    let page = store.list_messages(carol, group, carols, HistoryCursor::Latest, 50).await.unwrap();
    assert_eq!(page.messages[0].mentions, Vec::<UserId>::new(), "a tombstone mentions nobody");

    // A former member has nothing unread.
    send_mentioning(&store, group, alice, "@carol", named(&[carol])).await;
    store.remove_member(group, carol, carol, Timestamp::now()).await.unwrap();
    assert_eq!(unread_mentions(&store, carol, group).await, (0, 0));
}

pub async fn members_are_found_by_username_among_current_members(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    user(&store, "dave").await;
    let (group, _) = group_of(&store, alice, vec![bob, carol]).await;
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let found = store.members_named(group, &names(&["carol", "bob", "dave", "nobody"])).await.unwrap();
    assert_eq!(sorted(&found), sorted(&[bob, carol]), "dave is no member");
    store.remove_member(group, carol, carol, Timestamp::now()).await.unwrap();
    assert_eq!(store.members_named(group, &names(&["carol", "bob"])).await.unwrap(), vec![bob]);
    assert!(store.members_named(group, &[]).await.unwrap().is_empty());
    assert!(store.members_named(ConversationId::generate(), &names(&["bob"])).await.unwrap().is_empty());
}

pub async fn mentions_of_me_are_listed_newest_first_inside_my_window(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (group, _) = group_of(&store, alice, vec![bob, carol]).await;
    let chat = direct(&store, alice, bob).await;
    let ids = |messages: Vec<Message>| messages.into_iter().map(|m| m.id).collect::<Vec<_>>();
    let first = send_mentioning(&store, group, alice, "@bob", named(&[bob])).await.message;
    send_mentioning(&store, group, alice, "@carol", named(&[carol])).await;
    let everyone =
        send_mentioning(&store, group, carol, "@all", Mentions { users: vec![alice, bob, carol], all: true })
            .await
            .message;
    send_mentioning(&store, group, bob, "me, @bob", named(&[bob])).await;
    let direct_one = send_mentioning(&store, chat, alice, "@bob", named(&[bob])).await.message;
    send(&store, chat, alice, "no mention").await;

    let mine = store.mentions_of(bob, None, 50).await.unwrap();
    assert_eq!(ids(mine.clone()), vec![direct_one.id, everyone.id, first.id], "not his own, newest first");
    assert_eq!(mine[0].mentions, vec![bob]);
    assert_eq!(ids(store.mentions_of(bob, None, 2).await.unwrap()), vec![direct_one.id, everyone.id]);
    assert_eq!(ids(store.mentions_of(bob, Some(everyone.id), 50).await.unwrap()), vec![first.id]);
    assert!(matches!(
        store.mentions_of(bob, Some(MessageId::generate()), 50).await,
        Err(StoreError::UnknownReference("before"))
    ));
    assert_eq!(ids(store.mentions_of(alice, None, 50).await.unwrap()), vec![everyone.id]);

    // Deleted messages, cleared history and what came after leaving are not listed.
    store.delete_message(chat, direct_one.id, Timestamp::now()).await.unwrap();
    assert_eq!(ids(store.mentions_of(bob, None, 50).await.unwrap()), vec![everyone.id, first.id]);
    store.clear_history(bob, group, false).await.unwrap();
    assert!(store.mentions_of(bob, None, 50).await.unwrap().is_empty());
    let kept = send_mentioning(&store, group, alice, "@carol", named(&[carol])).await.message;
    store.remove_member(group, carol, carol, Timestamp::now()).await.unwrap();
    send_mentioning(&store, group, alice, "@all", Mentions { users: vec![alice, bob], all: true }).await;
    let carols = ids(store.mentions_of(carol, None, 50).await.unwrap());
    assert_eq!(carols.first(), Some(&kept.id), "a former member keeps what they could see, and nothing later");
    assert_eq!(carols.len(), 2);
    assert!(store.mentions_of(UserId::generate(), None, 50).await.unwrap().is_empty());
}

pub async fn pins_are_changes_of_the_conversation_listed_latest_first(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    let first = send(&store, group, alice, "one").await;
    let second = send(&store, group, bob, "two").await;
    let pinned = store.set_pinned(group, first.id, true, Timestamp::now()).await.unwrap().expect("a change");
    assert_eq!((pinned.seq, kind(&pinned)), (4, "message.updated".to_owned()));
    assert_eq!(json(&pinned)["data"]["pinned"], true);
    assert_eq!(json(&pinned)["data"]["seq"], first.seq, "the message keeps the seq of its creation");
    assert_eq!(sorted(&pinned.recipients), sorted(&[alice, bob]));
    assert!(store.set_pinned(group, first.id, true, Timestamp::now()).await.unwrap().is_none(), "already pinned");
    store.set_pinned(group, second.id, true, Timestamp::now()).await.unwrap().unwrap();
    let bobs = store.membership(bob, group).await.unwrap().unwrap();
    let pins = store.pinned_messages(group, bobs).await.unwrap();
    assert_eq!(pins.iter().map(|m| (m.id, m.pinned)).collect::<Vec<_>>(), vec![(second.id, true), (first.id, true)]);
    let page = store.list_messages(bob, group, bobs, HistoryCursor::Latest, 50).await.unwrap();
    assert!(page.messages.iter().all(|m| m.pinned));

    let unpinned = store.set_pinned(group, second.id, false, Timestamp::now()).await.unwrap().unwrap();
    assert_eq!((unpinned.seq, json(&unpinned)["data"]["pinned"].clone()), (6, serde_json::json!(false)));
    assert!(store.set_pinned(group, second.id, false, Timestamp::now()).await.unwrap().is_none());
    assert_eq!(store.pinned_messages(group, bobs).await.unwrap().len(), 1);

    // A former member sees the pins of their stay; a deleted message is unpinned for good.
    store.remove_member(group, bob, bob, Timestamp::now()).await.unwrap();
    let later = send(&store, group, alice, "after bob").await;
    store.set_pinned(group, later.id, true, Timestamp::now()).await.unwrap().unwrap();
    let bobs = store.membership(bob, group).await.unwrap().unwrap();
    assert_eq!(
        store.pinned_messages(group, bobs).await.unwrap().iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![first.id]
    );
    store.delete_message(group, first.id, Timestamp::now()).await.unwrap();
    let alices = store.membership(alice, group).await.unwrap().unwrap();
    assert_eq!(
        store.pinned_messages(group, alices).await.unwrap().iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![later.id]
    );
    assert!(matches!(
        store.set_pinned(group, first.id, true, Timestamp::now()).await,
        Err(StoreError::InvalidState(_))
    ));
    assert!(matches!(
        store.set_pinned(group, MessageId::generate(), true, Timestamp::now()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn edits_keep_the_earlier_versions(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let message = send(&store, chat, alice, "helo").await;
    assert!(store.message_versions(chat, message.id).await.unwrap().is_empty(), "never edited");
    let at = |ms: i64| Timestamp::from_millis(ms);
    let text = |t: &str| MessageText::parse(t, 4096, false).unwrap();
    store.edit_message(chat, message.id, text("hello"), Mentions::default(), at(1_000)).await.unwrap();
    store.edit_message(chat, message.id, text("hello!"), Mentions::default(), at(2_000)).await.unwrap();
    let versions = store.message_versions(chat, message.id).await.unwrap();
    assert_eq!(
        versions,
        vec![
            MessageVersion { text: "helo".into(), edited_at: None },
            MessageVersion { text: "hello".into(), edited_at: Some(at(1_000)) },
        ]
    );
    assert!(matches!(store.message_versions(chat, MessageId::generate()).await, Err(StoreError::NotFound)));
    let other = direct(&store, alice, user(&store, "carol").await).await;
    assert!(matches!(store.message_versions(other, message.id).await, Err(StoreError::NotFound)));
    store.delete_message(chat, message.id, Timestamp::now()).await.unwrap();
    assert!(store.message_versions(chat, message.id).await.unwrap().is_empty(), "a delete takes the history too");
}
