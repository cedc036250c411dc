use hubbub_app::ports::*;
use hubbub_domain::*;
use std::sync::Arc;
use uuid::Uuid;

#[macro_export]
macro_rules! contract_tests {
    ($module:ident, $make:path) => {
        mod $module {
            $crate::contract_tests!(@each $make;
                accounts_are_unique_case_insensitively,
                sessions_and_tickets,
                seqs_are_gapless_under_concurrency,
                mixed_writes_commit_and_publish_in_seq_order,
                a_conversation_view_is_one_consistent_snapshot,
                a_failing_write_does_not_spoil_its_batch,
                client_ids_make_sends_idempotent,
                marks_only_move_forward,
                the_event_log_replays_in_order_within_the_members_view,
                last_admin_leaving_promotes_the_longest_standing_member,
                direct_conversations_are_unique_per_pair,
                a_former_members_view_stays_as_it_was_when_they_left,
                media_uses_name_every_place_a_file_is_used,
            );
        }
    };
    (@each $make:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                let (store, _guard) = $make().await;
                $crate::contract::$test(store).await;
            }
        )*
    };
}

fn session() -> NewSession {
    let token = hubbub_app::security::issue_token();
    NewSession { id: SessionId(Uuid::now_v7()), token_digest: token.digest, now: Timestamp::now() }
}

async fn user(store: &Arc<dyn Store>, name: &str) -> UserId {
    let account = NewAccount {
        id: UserId::generate(),
        username: Username::parse(name).unwrap(),
        display_name: name.to_owned(),
        password_hash: "$argon2id$fake".to_owned(),
        now: Timestamp::now(),
    };
    store.create_account(account, session()).await.unwrap().id
}

async fn direct(store: &Arc<dyn Store>, a: UserId, b: UserId) -> ConversationId {
    store.open_direct(a, b, ConversationId::generate(), Timestamp::now()).await.unwrap().0
}

/// A new group named "g" created by `creator` with `members`, and its `conversation.created`.
async fn group_of(store: &Arc<dyn Store>, creator: UserId, members: Vec<UserId>) -> (ConversationId, Committed) {
    let id = ConversationId::generate();
    let group =
        NewGroup { id, creator, name: GroupName::parse("g").unwrap(), member_ids: members, now: Timestamp::now() };
    (id, store.create_group(group).await.unwrap())
}

/// A photo as the media pipeline would hand it over (the store never opens the file).
fn photo(name: &str) -> PhotoInput {
    PhotoInput { media_name: name.to_owned(), content_type: "image/jpeg".into(), size_bytes: 10, width: 4, height: 3 }
}

fn text_message(conversation: ConversationId, sender: UserId, text: &str, client_id: Option<&str>) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        conversation_id: conversation,
        sender,
        text: MessageText::parse(text, 4096, false).unwrap(),
        photo: None,
        reply_to: None,
        client_id: client_id.map(str::to_owned),
        forwarded: false,
        now: Timestamp::now(),
    }
}

pub async fn accounts_are_unique_case_insensitively(store: Arc<dyn Store>) {
    let id = user(&store, "alice").await;
    let again = NewAccount {
        id: UserId::generate(),
        username: Username::parse("ALICE").unwrap(),
        display_name: "x".into(),
        password_hash: "h".into(),
        now: Timestamp::now(),
    };
    assert!(matches!(store.create_account(again, session()).await, Err(StoreError::Conflict("username"))));
    let credentials = store.credentials(&Username::parse("Alice").unwrap()).await.unwrap().unwrap();
    assert_eq!(credentials.user_id, id);
    assert!(store.credentials(&Username::parse("nobody").unwrap()).await.unwrap().is_none());
}

pub async fn sessions_and_tickets(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let token = hubbub_app::security::issue_token();
    let sid = SessionId(Uuid::now_v7());
    store
        .create_session(alice, NewSession { id: sid, token_digest: token.digest, now: Timestamp::now() })
        .await
        .unwrap();
    let actor = store.session_by_token(&token.digest, Timestamp::now()).await.unwrap().unwrap();
    assert_eq!((actor.user_id, actor.session_id), (alice, sid));

    let ticket = hubbub_app::security::issue_token();
    store.create_ws_ticket(actor, ticket.digest, Timestamp::now().plus_millis(60_000)).await.unwrap();
    assert_eq!(store.redeem_ws_ticket(&ticket.digest, Timestamp::now()).await.unwrap(), Some(actor));
    assert_eq!(store.redeem_ws_ticket(&ticket.digest, Timestamp::now()).await.unwrap(), None, "single use");
    let stale = hubbub_app::security::issue_token();
    store.create_ws_ticket(actor, stale.digest, Timestamp::now().plus_millis(-1)).await.unwrap();
    assert_eq!(store.redeem_ws_ticket(&stale.digest, Timestamp::now()).await.unwrap(), None, "expired");

    store.delete_session(sid).await.unwrap();
    assert!(store.session_by_token(&token.digest, Timestamp::now()).await.unwrap().is_none());
}

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
                    Some(store.rename_group(group, name, Timestamp::now()).await.unwrap().seq)
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

pub async fn a_failing_write_does_not_spoil_its_batch(store: Arc<dyn Store>) {
    // Many registrations of the same name at once land in shared batches: exactly one wins,
    // the rest fail alone, and unrelated writes in the same batches commit.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let name = if i % 2 == 0 { "same_name".to_owned() } else { format!("user_{i}") };
            let account = NewAccount {
                id: UserId::generate(),
                username: Username::parse(&name).unwrap(),
                display_name: name.clone(),
                password_hash: "h".into(),
                now: Timestamp::now(),
            };
            store.create_account(account, session()).await.map(|_| name)
        }));
    }
    let mut won = 0;
    let mut conflicts = 0;
    let mut others = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(name) if name == "same_name" => won += 1,
            Ok(_) => others += 1,
            Err(StoreError::Conflict(_)) => conflicts += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((won, conflicts, others), (1, 19, 20));
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
    let other_chat = direct(&store, alice, user(&store, "carol").await).await;
    assert!(matches!(
        store.send_message(text_message(other_chat, alice, "hi", Some("k1"))).await,
        Err(StoreError::Conflict("client_id"))
    ));
}

pub async fn marks_only_move_forward(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    for i in 0..5 {
        store.send_message(text_message(chat, alice, &format!("m{i}"), None)).await.unwrap();
    }
    let moved = store.advance_marks(bob, chat, Some(4), None, Timestamp::now()).await.unwrap();
    assert!(matches!(moved, MarksChange::Moved { delivered_seq: 4, read_seq: 0, .. }));
    let back = store.advance_marks(bob, chat, Some(2), None, Timestamp::now()).await.unwrap();
    assert!(matches!(back, MarksChange::Unchanged));
    let read = store.advance_marks(bob, chat, None, Some(100), Timestamp::now()).await.unwrap();
    assert!(
        matches!(read, MarksChange::Moved { delivered_seq: 6, read_seq: 6, .. }),
        "clamped, and read implies delivered"
    );
    let view = store.conversation(alice, chat).await.unwrap().unwrap();
    assert_eq!((view.others_min_delivered, view.others_min_read), (Some(6), Some(6)));
    assert_eq!(store.conversation(bob, chat).await.unwrap().unwrap().unread_count, 0);
}

pub async fn the_event_log_replays_in_order_within_the_members_view(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (group, _) = group_of(&store, alice, vec![]).await;
    store.send_message(text_message(group, alice, "before bob", None)).await.unwrap();
    let added = store.add_members(group, vec![bob], Timestamp::now()).await.unwrap();
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

pub async fn last_admin_leaving_promotes_the_longest_standing_member(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    store.add_members(group, vec![carol], Timestamp::now()).await.unwrap();
    match store.remove_member(group, alice, Timestamp::now()).await.unwrap() {
        RemoveOutcome::Removed { promoted, .. } => assert!(promoted.is_some()),
        RemoveOutcome::NotAMember => panic!("alice was a member"),
    }
    assert_eq!(store.membership(bob, group).await.unwrap().unwrap().role, Role::Admin);
    assert_eq!(store.membership(carol, group).await.unwrap().unwrap().role, Role::Member);
    assert!(matches!(store.remove_member(group, alice, Timestamp::now()).await.unwrap(), RemoveOutcome::NotAMember));
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

pub async fn a_former_members_view_stays_as_it_was_when_they_left(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let dave = user(&store, "dave").await;
    let erin = user(&store, "erin").await;
    let (group, _) = group_of(&store, alice, vec![bob, dave]).await;
    store.set_group_photo(group, Some(photo("old.jpg")), Timestamp::now()).await.unwrap();
    store.send_message(text_message(group, alice, "before", None)).await.unwrap();
    store.advance_marks(bob, group, None, Some(3), Timestamp::now()).await.unwrap();
    let removal = match store.remove_member(group, dave, Timestamp::now()).await.unwrap() {
        RemoveOutcome::Removed { committed, .. } => committed.seq,
        RemoveOutcome::NotAMember => panic!("dave was a member"),
    };
    let at_removal = store.conversation(alice, group).await.unwrap().unwrap().snapshot;

    // Later changes: none of them reaches dave's view.
    store.rename_group(group, GroupName::parse("renamed").unwrap(), Timestamp::now()).await.unwrap();
    let (_, replaced) = store.set_group_photo(group, Some(photo("new.jpg")), Timestamp::now()).await.unwrap();
    assert_eq!(replaced, None, "dave's view still shows the old photo, so its file stays");
    store.add_members(group, vec![erin], Timestamp::now()).await.unwrap();
    store.send_message(text_message(group, alice, "after", None)).await.unwrap();
    store.advance_marks(bob, group, None, Some(i64::MAX), Timestamp::now()).await.unwrap();
    store.remove_member(group, bob, Timestamp::now()).await.unwrap();

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
    let added = store.add_members(group, vec![dave], Timestamp::now()).await.unwrap();
    assert_eq!(added.unreferenced, vec!["old.jpg".to_owned()]);
    let view = store.conversation(dave, group).await.unwrap().unwrap().snapshot;
    assert_eq!((view.name.as_deref(), view.photo_url.as_deref()), (Some("renamed"), Some("/media/new.jpg")));
}

pub async fn media_uses_name_every_place_a_file_is_used(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    store.set_user_photo(alice, Some(photo("face.jpg"))).await.unwrap();
    assert_eq!(store.media_uses("face.jpg").await.unwrap(), vec![MediaUse::UserPhoto]);

    let (group, _) = group_of(&store, alice, vec![bob]).await;
    store.set_group_photo(group, Some(photo("group.jpg")), Timestamp::now()).await.unwrap();
    assert_eq!(store.media_uses("group.jpg").await.unwrap(), vec![MediaUse::GroupPhoto(group)]);
    store.remove_member(group, bob, Timestamp::now()).await.unwrap();
    let uses = store.media_uses("group.jpg").await.unwrap();
    assert_eq!(uses.len(), 2, "{uses:?}");
    assert!(uses.contains(&MediaUse::GroupPhoto(group)));
    assert!(uses.contains(&MediaUse::FormerGroupPhoto { conversation: group, user: bob }));
    store.set_group_photo(group, None, Timestamp::now()).await.unwrap();
    assert_eq!(
        store.media_uses("group.jpg").await.unwrap(),
        vec![MediaUse::FormerGroupPhoto { conversation: group, user: bob }]
    );

    // A re-optimised file keeps every use under its new name.
    let record = |name: &str| MediaRecord {
        media_name: name.to_owned(),
        content_type: "image/webp".into(),
        size_bytes: 5,
        width: 4,
        height: 3,
        purpose: MediaPurpose::Avatar,
    };
    store.update_media("group.jpg", record("group.webp")).await.unwrap();
    assert_eq!(store.media_uses("group.jpg").await.unwrap(), vec![]);
    assert_eq!(
        store.media_uses("group.webp").await.unwrap(),
        vec![MediaUse::FormerGroupPhoto { conversation: group, user: bob }]
    );

    let chat = direct(&store, alice, bob).await;
    let mut message = text_message(chat, alice, "look", None);
    message.photo = Some(photo("message.jpg"));
    let sent = store.send_message(message).await.unwrap().message;
    assert_eq!(
        store.media_uses("message.jpg").await.unwrap(),
        vec![MediaUse::MessagePhoto { conversation: chat, seq: sent.seq }]
    );
    assert_eq!(store.media_uses("nothing.jpg").await.unwrap(), vec![]);
}
