//! Conversation views: what a conversation looks like to one user, current or former member.

use super::*;

pub async fn conversations_are_listed_by_latest_activity(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let base = Timestamp::now();
    let at = |ms: i64| base.plus_millis(ms);
    let first = store.open_direct(alice, bob, ConversationId::generate(), at(0)).await.unwrap().0;
    let second = store.open_direct(alice, carol, ConversationId::generate(), at(10)).await.unwrap().0;
    let id = ConversationId::generate();
    let group =
        NewGroup { id, creator: alice, name: GroupName::parse("g").unwrap(), member_ids: vec![bob], now: at(20) };
    store.create_group(group).await.unwrap();
    let order = |views: Vec<ConversationView>| views.into_iter().map(|v| v.snapshot.id).collect::<Vec<_>>();
    assert_eq!(order(store.list_conversations(alice).await.unwrap()), [id, second, first], "newest first");

    // A message makes its conversation the most recent; a rename does not.
    let mut message = text_message(first, bob, "hello", None);
    message.now = at(30);
    store.send_message(message).await.unwrap();
    store.rename_group(id, GroupName::parse("renamed").unwrap(), alice, at(40)).await.unwrap();
    assert_eq!(order(store.list_conversations(alice).await.unwrap()), [first, id, second]);
    assert_eq!(order(store.list_conversations(carol).await.unwrap()), [second]);

    let views = store.list_conversations(alice).await.unwrap();
    let top = &views[0];
    assert_eq!((top.unread_count, top.my_role), (1, Role::Member));
    assert_eq!(top.last_message.as_ref().map(|m| m.text.as_str()), Some("hello"));
    assert_eq!(top.snapshot.members.len(), 2);
    // The viewer's own messages and deleted ones are not unread; a deleted last message
    // stays the last one, as a tombstone.
    let mine = send(&store, first, alice, "mine").await;
    let theirs = send(&store, first, bob, "oops").await;
    store.delete_message(first, theirs.id, Timestamp::now()).await.unwrap();
    let view = store.conversation(alice, first).await.unwrap().unwrap();
    assert_eq!(view.unread_count, 1);
    let last = view.last_message.unwrap();
    assert_eq!((last.id, last.deleted, last.text.as_str()), (theirs.id, true, ""));
    assert!(last.seq > mine.seq);
    assert!(store.list_conversations(UserId::generate()).await.unwrap().is_empty());
}

pub async fn a_conversation_view_is_one_consistent_snapshot(store: Arc<dyn Store>) {
    // Clients count live events above a view's `last_seq` as unread, on top of the view's
    // `unread_count`; so the two must describe the same moment even while messages commit.
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let sender = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..300 {
                store.send_message(text_message(chat, alice, &format!("m{i}"), None)).await.unwrap();
            }
        })
    };
    let mut views = 0;
    while !sender.is_finished() {
        let view = store.conversation(bob, chat).await.unwrap().unwrap();
        // Seq 1 is the chat's creation; every later seq is one of alice's messages.
        assert_eq!(view.unread_count as i64, view.snapshot.last_seq - 1, "unread count and last_seq disagree");
        views += 1;
        tokio::task::yield_now().await;
    }
    sender.await.unwrap();
    assert!(views > 0);
}

pub async fn a_former_members_view_stays_as_it_was_when_they_left(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let dave = user(&store, "dave").await;
    let erin = user(&store, "erin").await;
    let (group, _) = group_of(&store, alice, vec![bob, dave]).await;
    store.set_group_photo(group, Some(photo("old.jpg")), alice, Timestamp::now()).await.unwrap();
    store.send_message(text_message(group, alice, "before", None)).await.unwrap();
    store.advance_marks(bob, group, None, Some(3), Timestamp::now()).await.unwrap();
    let removal = match store.remove_member(group, dave, dave, Timestamp::now()).await.unwrap() {
        RemoveOutcome::Removed { committed, .. } => committed.seq,
        RemoveOutcome::NotAMember => panic!("dave was a member"),
    };
    let at_removal = store.conversation(alice, group).await.unwrap().unwrap().snapshot;

    // Later changes: none of them reaches dave's view.
    store.rename_group(group, GroupName::parse("renamed").unwrap(), alice, Timestamp::now()).await.unwrap();
    let (_, replaced) = store.set_group_photo(group, Some(photo("new.jpg")), alice, Timestamp::now()).await.unwrap();
    assert_eq!(replaced, None, "dave's view still shows the old photo, so its file stays");
    store.add_members(group, vec![erin], alice, Timestamp::now()).await.unwrap();
    store.send_message(text_message(group, alice, "after", None)).await.unwrap();
    store.advance_marks(bob, group, None, Some(i64::MAX), Timestamp::now()).await.unwrap();
    store.remove_member(group, bob, bob, Timestamp::now()).await.unwrap();

    let single = store.conversation(dave, group).await.unwrap().unwrap();
    let listed = store.list_conversations(dave).await.unwrap().into_iter().find(|v| v.snapshot.id == group).unwrap();
    for view in [single, listed] {
        let snapshot = &view.snapshot;
        assert_eq!(snapshot.name.as_deref(), Some("g"));
        assert_eq!(snapshot.photo_url.as_deref(), Some("/media/old.jpg"));
        assert_eq!((snapshot.last_seq, snapshot.updated_at), (removal, at_removal.updated_at));
        let members: Vec<UserId> = snapshot.members.iter().map(|m| m.user.id).collect();
        assert_eq!(members, vec![alice, bob], "the members at dave's removal, bob (who left later) included");
        assert!(snapshot.members.iter().all(|m| m.read_seq <= removal), "marks as far as the removal");
        assert_eq!(view.last_message.as_ref().map(|m| m.text.as_str()), Some("before"));
        assert_eq!(view.unread_count, 0);
        assert!(view.others_min_read.is_some_and(|read| read <= removal), "{:?}", view.others_min_read);
    }

    // Added back, dave sees the group as it is, and the old photo is used nowhere any more.
    let added = store.add_members(group, vec![dave], alice, Timestamp::now()).await.unwrap();
    assert_eq!(added.unreferenced, vec!["old.jpg".to_owned()]);
    let view = store.conversation(dave, group).await.unwrap().unwrap().snapshot;
    assert_eq!((view.name.as_deref(), view.photo_url.as_deref()), (Some("renamed"), Some("/media/new.jpg")));
}
