//! Conversations, members and their marks.

use super::*;

pub async fn creating_a_group_commits_its_creation_to_every_member(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let outsider = user(&store, "dave").await;
    let (group, created) = group_of(&store, alice, vec![bob, carol]).await;
    assert_eq!((created.conversation_id, created.seq), (group, 1));
    assert_eq!(sorted(&created.recipients), sorted(&[alice, bob, carol]));
    let event = json(&created);
    assert_eq!((event["type"].as_str(), event["seq"].as_i64()), (Some("conversation.created"), Some(1)));
    assert_eq!(event["data"]["name"], "g");
    assert_eq!(event["data"]["kind"], "group");
    let roles: Vec<(String, String)> = event["data"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user"]["username"].as_str().unwrap().into(), m["role"].as_str().unwrap().into()))
        .collect();
    let expected = [("alice", "admin"), ("bob", "member"), ("carol", "member")];
    assert_eq!(roles, expected.map(|(u, r)| (u.to_owned(), r.to_owned())), "the creator first, as admin");

    let mine = store.membership(alice, group).await.unwrap().unwrap();
    assert_eq!(
        (mine.kind, mine.role, mine.visible_after, mine.left_seq),
        (ConversationKind::Group, Role::Admin, 0, None)
    );
    assert_eq!(mine.member_count, 3);
    assert_eq!(store.membership(bob, group).await.unwrap().unwrap().role, Role::Member);
    assert!(store.membership(outsider, group).await.unwrap().is_none());
    assert!(store.membership(alice, ConversationId::generate()).await.unwrap().is_none());
    assert_eq!(sorted(&store.member_ids(group).await.unwrap()), sorted(&[alice, bob, carol]));
    assert!(matches!(store.member_ids(ConversationId::generate()).await, Err(StoreError::NotFound)));

    let view = store.conversation(bob, group).await.unwrap().unwrap();
    assert_eq!((view.snapshot.id, view.snapshot.last_seq, view.snapshot.name.as_deref()), (group, 1, Some("g")));
    assert_eq!((view.unread_count, view.my_role, view.last_message.is_none()), (0, Role::Member, true));
    assert_eq!((view.others_min_delivered, view.others_min_read), (Some(0), Some(0)));
    assert!(store.conversation(outsider, group).await.unwrap().is_none(), "invisible to non-members");
    assert!(store.conversation(alice, ConversationId::generate()).await.unwrap().is_none());
}

pub async fn a_group_with_an_unknown_member_is_not_created(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let id = ConversationId::generate();
    let group = |creator, member_ids| NewGroup {
        id,
        creator,
        name: GroupName::parse("g").unwrap(),
        member_ids,
        now: Timestamp::now(),
    };
    assert!(matches!(
        store.create_group(group(alice, vec![bob, UserId::generate()])).await,
        Err(StoreError::UnknownReference("member_ids"))
    ));
    assert!(matches!(store.create_group(group(UserId::generate(), vec![bob])).await, Err(StoreError::NotFound)));
    assert!(store.list_conversations(alice).await.unwrap().is_empty(), "nothing was created");
    assert!(store.list_conversations(bob).await.unwrap().is_empty());
    assert!(store.membership(bob, id).await.unwrap().is_none());
    // The id is still free.
    assert_eq!(store.create_group(group(alice, vec![bob])).await.unwrap().seq, 1);
}

pub async fn direct_conversations_are_unique_per_pair(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (a, b) = tokio::join!(
        store.open_direct(alice, bob, ConversationId::generate(), Timestamp::now()),
        store.open_direct(bob, alice, ConversationId::generate(), Timestamp::now()),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.0, b.0);
    assert_eq!(a.1.is_some() as u8 + b.1.is_some() as u8, 1, "created exactly once");
}

pub async fn opening_a_direct_conversation_again_finds_it(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let id = ConversationId::generate();
    let (opened, created) = store.open_direct(alice, bob, id, Timestamp::now()).await.unwrap();
    let created = created.expect("created now");
    assert_eq!((opened, created.conversation_id, created.seq), (id, id, 1));
    assert_eq!(sorted(&created.recipients), sorted(&[alice, bob]));
    let event = json(&created);
    assert_eq!(
        (event["type"].as_str(), event["data"]["kind"].as_str()),
        (Some("conversation.created"), Some("direct"))
    );
    assert!(event["data"]["name"].is_null(), "a direct conversation's name depends on who looks");
    for (me, other) in [(alice, bob), (bob, alice)] {
        let (again, created) =
            store.open_direct(me, other, ConversationId::generate(), Timestamp::now()).await.unwrap();
        assert_eq!((again, created.is_none()), (id, true));
    }
    let mine = store.membership(bob, id).await.unwrap().unwrap();
    assert_eq!(
        (mine.kind, mine.role, mine.member_count, mine.visible_after),
        (ConversationKind::Direct, Role::Member, 2, 0)
    );
    let other = store.open_direct(alice, carol, ConversationId::generate(), Timestamp::now()).await.unwrap();
    assert_ne!(other.0, id, "one conversation per pair");
    assert!(matches!(
        store.open_direct(alice, UserId::generate(), ConversationId::generate(), Timestamp::now()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn renames_and_group_photos_commit_conversation_updated(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    let renamed =
        store.rename_group(group, GroupName::parse("new name").unwrap(), alice, Timestamp::now()).await.unwrap();
    assert_eq!((renamed.seq, kind(&renamed)), (2, "conversation.updated".to_owned()));
    assert_eq!(json(&renamed)["data"]["name"], "new name");
    assert_eq!(sorted(&renamed.recipients), sorted(&[alice, bob]));
    assert_eq!(store.conversation(bob, group).await.unwrap().unwrap().snapshot.name.as_deref(), Some("new name"));

    let (set, replaced) = store.set_group_photo(group, Some(photo("one.jpg")), alice, Timestamp::now()).await.unwrap();
    assert_eq!((set.seq, kind(&set), replaced), (3, "conversation.updated".to_owned(), None));
    assert_eq!(json(&set)["data"]["photo_url"], "/media/one.jpg");
    let (_, replaced) = store.set_group_photo(group, Some(photo("two.jpg")), alice, Timestamp::now()).await.unwrap();
    assert_eq!(replaced.as_deref(), Some("one.jpg"), "nothing else uses it");
    let (cleared, replaced) = store.set_group_photo(group, None, alice, Timestamp::now()).await.unwrap();
    assert_eq!((cleared.seq, replaced.as_deref()), (5, Some("two.jpg")));
    assert!(json(&cleared)["data"]["photo_url"].is_null());
    let view = store.conversation(alice, group).await.unwrap().unwrap();
    assert_eq!((view.snapshot.photo_url, view.snapshot.last_seq), (None, 5));
    assert!(store.media_records().await.unwrap().is_empty());

    let unknown = ConversationId::generate();
    let name = GroupName::parse("x").unwrap();
    assert!(matches!(store.rename_group(unknown, name, alice, Timestamp::now()).await, Err(StoreError::NotFound)));
    assert!(matches!(
        store.set_group_photo(unknown, Some(photo("lost.jpg")), alice, Timestamp::now()).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.media_records().await.unwrap().is_empty(), "a refused change records no file");
    store.set_group_photo(group, Some(photo("three.jpg")), alice, Timestamp::now()).await.unwrap();
    let (again, replaced) =
        store.set_group_photo(group, Some(photo("three.jpg")), alice, Timestamp::now()).await.unwrap();
    assert_eq!((again.seq, replaced), (7, None), "the same photo again replaces nothing, but is still a change");
}

pub async fn adding_members_tells_the_others_and_the_newcomer(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let dave = user(&store, "dave").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    let added = store.add_members(group, vec![bob, carol, dave], alice, Timestamp::now()).await.unwrap();
    let summary: Vec<(i64, String, Vec<UserId>)> =
        added.committed.iter().map(|c| (c.seq, kind(c), sorted(&c.recipients))).collect();
    assert_eq!(
        summary,
        vec![
            (2, "member.added".into(), sorted(&[alice, bob])),
            (2, "conversation.created".into(), vec![carol]),
            (3, "member.added".into(), sorted(&[alice, bob, carol])),
            (3, "conversation.created".into(), vec![dave]),
        ],
        "bob is already a member; each newcomer hears of the conversation at the seq of their addition"
    );
    assert!(added.unreferenced.is_empty());
    assert_eq!(json(&added.committed[0])["data"]["user"]["id"], carol.to_string());
    assert_eq!(json(&added.committed[3])["data"]["last_seq"], 3);
    let carols = store.membership(carol, group).await.unwrap().unwrap();
    assert_eq!((carols.role, carols.visible_after, carols.left_seq, carols.member_count), (Role::Member, 2, None, 4));
    let view = store.conversation(carol, group).await.unwrap().unwrap();
    let carol_row = view.snapshot.members.iter().find(|m| m.user.id == carol).unwrap();
    assert_eq!((carol_row.delivered_seq, carol_row.read_seq), (2, 2), "marks start at the addition");
    // Only member.added is logged: replaying never shows a member its own arrival.
    let alices = store.membership(alice, group).await.unwrap().unwrap();
    let log = store.events_after(group, alices, 0, 100).await.unwrap();
    assert_eq!(
        seqs_and_types(&log.events),
        [(1, "conversation.created"), (2, "member.added"), (3, "member.added")].map(|(s, t)| (s, t.to_owned()))
    );

    assert!(store.add_members(group, vec![alice, dave], alice, Timestamp::now()).await.unwrap().committed.is_empty());
    assert!(matches!(
        store.add_members(group, vec![UserId::generate()], alice, Timestamp::now()).await,
        Err(StoreError::UnknownReference("user_ids"))
    ));
    let erin = user(&store, "erin").await;
    assert!(matches!(
        store.add_members(group, vec![erin, UserId::generate()], alice, Timestamp::now()).await,
        Err(StoreError::UnknownReference("user_ids"))
    ));
    assert!(store.membership(erin, group).await.unwrap().is_none(), "a refused addition adds nobody");
    assert!(matches!(
        store.add_members(ConversationId::generate(), vec![erin], alice, Timestamp::now()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn a_former_member_added_back_starts_a_new_window(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    send(&store, group, alice, "one").await;
    store.advance_marks(bob, group, None, Some(2), Timestamp::now()).await.unwrap();
    store.remove_member(group, bob, bob, Timestamp::now()).await.unwrap();
    send(&store, group, alice, "while away").await;
    let added = store.add_members(group, vec![bob], alice, Timestamp::now()).await.unwrap();
    assert_eq!(added.committed[0].seq, 5);
    let back = store.membership(bob, group).await.unwrap().unwrap();
    assert_eq!((back.role, back.visible_after, back.left_seq, back.is_current()), (Role::Member, 5, None, true));
    let view = store.conversation(bob, group).await.unwrap().unwrap();
    let row = view.snapshot.members.iter().find(|m| m.user.id == bob).unwrap();
    assert_eq!((row.delivered_seq, row.read_seq, view.unread_count), (5, 5, 0));
    let history = store.list_messages(bob, group, back, HistoryCursor::Latest, 50).await.unwrap();
    assert!(history.messages.is_empty(), "the new window starts at the new addition");
}

pub async fn removing_a_member_ends_their_window(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let outsider = user(&store, "dave").await;
    let (group, _) = group_of(&store, alice, vec![bob, carol]).await;
    let RemoveOutcome::Removed { committed, promoted } =
        store.remove_member(group, carol, carol, Timestamp::now()).await.unwrap()
    else {
        panic!("carol was a member")
    };
    assert_eq!((committed.seq, kind(&committed), promoted.is_none()), (2, "member.removed".to_owned(), true));
    assert_eq!(json(&committed)["data"]["user_id"], carol.to_string());
    assert_eq!(sorted(&committed.recipients), sorted(&[alice, bob, carol]), "the leaver hears it too");
    let carols = store.membership(carol, group).await.unwrap().unwrap();
    assert_eq!((carols.left_seq, carols.is_current(), carols.visible_after), (Some(2), false, 0));
    assert_eq!(store.membership(alice, group).await.unwrap().unwrap().member_count, 2);
    assert_eq!(sorted(&store.member_ids(group).await.unwrap()), sorted(&[alice, bob]));

    for user in [carol, outsider, UserId::generate()] {
        assert!(matches!(
            store.remove_member(group, user, user, Timestamp::now()).await.unwrap(),
            RemoveOutcome::NotAMember
        ));
    }
    assert!(matches!(
        store.remove_member(ConversationId::generate(), bob, bob, Timestamp::now()).await,
        Err(StoreError::NotFound)
    ));
    // The last one out leaves nobody to promote.
    store.remove_member(group, bob, bob, Timestamp::now()).await.unwrap();
    match store.remove_member(group, alice, alice, Timestamp::now()).await.unwrap() {
        RemoveOutcome::Removed { promoted, .. } => assert!(promoted.is_none()),
        RemoveOutcome::NotAMember => panic!("alice was a member"),
    }
    assert!(store.member_ids(group).await.unwrap().is_empty());
}

pub async fn last_admin_leaving_promotes_the_longest_standing_member(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    store.add_members(group, vec![carol], alice, Timestamp::now()).await.unwrap();
    match store.remove_member(group, alice, alice, Timestamp::now()).await.unwrap() {
        RemoveOutcome::Removed { committed, promoted } => {
            let promoted = promoted.expect("bob is promoted");
            assert_eq!((committed.seq, promoted.seq), (3, 4), "the promotion takes the next seq");
            assert_eq!(kind(&promoted), "conversation.updated");
            assert_eq!(sorted(&promoted.recipients), sorted(&[bob, carol]));
            let event = json(&promoted);
            let admins: Vec<&serde_json::Value> = event["data"]["members"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["role"] == "admin")
                .map(|m| &m["user"]["id"])
                .collect();
            assert_eq!(admins, [&serde_json::Value::from(bob.to_string())]);
        }
        RemoveOutcome::NotAMember => panic!("alice was a member"),
    }
    assert_eq!(store.membership(bob, group).await.unwrap().unwrap().role, Role::Admin);
    assert_eq!(store.membership(carol, group).await.unwrap().unwrap().role, Role::Member);
    assert!(matches!(
        store.remove_member(group, alice, alice, Timestamp::now()).await.unwrap(),
        RemoveOutcome::NotAMember
    ));
    // With an admin left, nobody is promoted.
    let (other, _) = group_of(&store, alice, vec![bob]).await;
    store.add_members(other, vec![carol], alice, Timestamp::now()).await.unwrap();
    match store.remove_member(other, bob, bob, Timestamp::now()).await.unwrap() {
        RemoveOutcome::Removed { promoted, .. } => assert!(promoted.is_none()),
        RemoveOutcome::NotAMember => panic!("bob was a member"),
    }
}

pub async fn marks_only_move_forward(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    for i in 0..5 {
        send(&store, chat, alice, &format!("m{i}")).await;
    }
    let moved = store.advance_marks(bob, chat, Some(4), None, Timestamp::now()).await.unwrap();
    let MarksChange::Moved { delivered_seq: 4, read_seq: 0, recipients } = moved else { panic!("moved to 4") };
    assert_eq!(sorted(&recipients), sorted(&[alice, bob]), "every device of both hears the receipt");
    let back = store.advance_marks(bob, chat, Some(2), None, Timestamp::now()).await.unwrap();
    assert!(matches!(back, MarksChange::Unchanged));
    let same = store.advance_marks(bob, chat, Some(4), Some(0), Timestamp::now()).await.unwrap();
    assert!(matches!(same, MarksChange::Unchanged), "a repeated mark");
    assert!(matches!(
        store.advance_marks(bob, chat, None, None, Timestamp::now()).await.unwrap(),
        MarksChange::Unchanged
    ));
    let read = store.advance_marks(bob, chat, None, Some(100), Timestamp::now()).await.unwrap();
    assert!(
        matches!(read, MarksChange::Moved { delivered_seq: 6, read_seq: 6, .. }),
        "clamped, and read implies delivered"
    );
    let view = store.conversation(alice, chat).await.unwrap().unwrap();
    assert_eq!((view.others_min_delivered, view.others_min_read), (Some(6), Some(6)));
    assert_eq!(store.conversation(bob, chat).await.unwrap().unwrap().unread_count, 0);
}

pub async fn marks_of_non_members_are_refused(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    send(&store, group, alice, "hi").await;
    store.remove_member(group, bob, bob, Timestamp::now()).await.unwrap();
    for (who, conversation) in [(carol, group), (bob, group), (alice, ConversationId::generate())] {
        let result = store.advance_marks(who, conversation, Some(2), Some(2), Timestamp::now()).await;
        assert!(matches!(result, Err(StoreError::NotFound)), "only current members have marks to move");
    }
}
