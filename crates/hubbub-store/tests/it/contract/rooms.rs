//! Channels and rooms: creation, access, the directory, topics, passwords, roles, deletion,
//! and a randomised run of membership changes against the invariants.

use super::*;

/// A new room named `name` created by `owner` with `members`, and its `conversation.created`.
pub(crate) async fn room_of(
    store: &Arc<dyn Store>,
    owner: UserId,
    name: &str,
    visibility: Visibility,
    members: Vec<UserId>,
) -> (ConversationId, Committed) {
    let id = ConversationId::generate();
    let channel = NewChannel {
        id,
        space: None,
        creator: owner,
        name: GroupName::parse(name).unwrap(),
        visibility,
        topic: Topic::empty(),
        password_hash: None,
        member_ids: members,
        now: Timestamp::now(),
    };
    (id, store.create_channel(channel).await.unwrap())
}

pub async fn creating_a_room_makes_its_creator_owner(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let id = ConversationId::generate();
    let channel = |member_ids| NewChannel {
        id,
        space: None,
        creator: alice,
        name: GroupName::parse("Book club").unwrap(),
        visibility: Visibility::Public,
        topic: Topic::parse("novels").unwrap(),
        password_hash: Some("$argon2id$fake".into()),
        member_ids,
        now: Timestamp::now(),
    };
    assert!(matches!(
        store.create_channel(channel(vec![UserId::generate()])).await,
        Err(StoreError::UnknownReference("member_ids"))
    ));
    assert!(store.conversation_access(id).await.unwrap().is_none(), "nothing was created");
    let created = store.create_channel(channel(vec![bob])).await.unwrap();
    assert_eq!((created.seq, kind(&created)), (1, "conversation.created".to_owned()));
    assert_eq!(sorted(&created.recipients), sorted(&[alice, bob]));
    let data = &json(&created)["data"];
    assert_eq!(
        (data["kind"].as_str(), data["name"].as_str(), data["topic"].as_str()),
        (Some("channel"), Some("Book club"), Some("novels"))
    );
    assert_eq!((data["visibility"].as_str(), data["has_password"].as_bool()), (Some("public"), Some(true)));
    assert_eq!((data["member_count"].as_i64(), data["space_id"].is_null()), (Some(2), true));
    assert!(!created.json.windows(8).any(|w| w == b"$argon2i"), "the hash never leaves the store");

    let mine = store.membership(alice, id).await.unwrap().unwrap();
    assert_eq!((mine.kind, mine.role, mine.member_count), (ConversationKind::Channel, Role::Owner, 2));
    assert_eq!(store.membership(bob, id).await.unwrap().unwrap().role, Role::Member);
    let access = store.conversation_access(id).await.unwrap().unwrap();
    assert_eq!(
        (access.kind, access.visibility, access.member_count),
        (ConversationKind::Channel, Visibility::Public, 2)
    );
    assert_eq!((access.space_id, access.password_hash.as_deref()), (None, Some("$argon2id$fake")));
    let view = store.conversation(bob, id).await.unwrap().unwrap();
    assert_eq!((view.snapshot.room.topic.as_str(), view.snapshot.room.has_password), ("novels", true));

    // A group's access: private, no password.
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    let access = store.conversation_access(group).await.unwrap().unwrap();
    assert_eq!(
        (access.kind, access.visibility, access.password_hash),
        (ConversationKind::Group, Visibility::Private, None)
    );
    assert!(store.conversation_access(ConversationId::generate()).await.unwrap().is_none());
}

pub async fn the_directory_lists_open_rooms_by_name(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (chess, _) = room_of(&store, alice, "Chess Club", Visibility::Public, vec![bob]).await;
    let (percent, _) = room_of(&store, bob, "100% fun", Visibility::Public, vec![]).await;
    let (_private, _) = room_of(&store, alice, "Chess secrets", Visibility::Private, vec![]).await;
    let (gone, _) = room_of(&store, alice, "Chess history", Visibility::Public, vec![]).await;
    store.delete_conversation(gone, alice, Timestamp::now()).await.unwrap();
    group_of(&store, alice, vec![bob]).await;

    let query = |text: &str| RoomQuery { text: text.to_owned(), only: None, limit: 10 };
    let all = store.public_rooms(carol, query("")).await.unwrap();
    let ids: Vec<ConversationId> = all.iter().map(|r| r.snapshot.id).collect();
    assert_eq!(ids, [chess, percent], "public rooms only, most members first");
    assert!(all.iter().all(|r| r.snapshot.members.is_empty() && r.my_role.is_none()));
    assert_eq!(all[0].snapshot.room.member_count, 2);
    assert_eq!(all[0].snapshot.name.as_deref(), Some("Chess Club"));

    let found = store.public_rooms(bob, query("chess")).await.unwrap();
    assert_eq!(found.iter().map(|r| (r.snapshot.id, r.my_role)).collect::<Vec<_>>(), [(chess, Some(Role::Member))]);
    let found = store.public_rooms(alice, query("0% F")).await.unwrap();
    assert_eq!(found.iter().map(|r| (r.snapshot.id, r.my_role)).collect::<Vec<_>>(), [(percent, None)]);
    assert!(store.public_rooms(alice, query("%%")).await.unwrap().is_empty(), "% matches itself");
    assert!(store.public_rooms(alice, query("_")).await.unwrap().is_empty(), "_ matches itself");
    let limited = store.public_rooms(alice, RoomQuery { limit: 1, ..query("") }).await.unwrap();
    assert_eq!(limited.len(), 1);
    let only = RoomQuery { only: Some(percent), ..query("") };
    assert_eq!(store.public_rooms(alice, only).await.unwrap().len(), 1);
    let hidden = RoomQuery { only: Some(gone), ..query("") };
    assert!(store.public_rooms(alice, hidden).await.unwrap().is_empty());
}

pub async fn topics_and_passwords_commit_conversation_updated(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (room, _) = room_of(&store, alice, "r", Visibility::Public, vec![bob]).await;
    let topic = store.set_topic(room, Topic::parse("first").unwrap(), alice, Timestamp::now()).await.unwrap();
    assert_eq!((topic.seq, kind(&topic)), (2, "conversation.updated".to_owned()));
    assert_eq!(json(&topic)["data"]["topic"], "first");
    assert_eq!(sorted(&topic.recipients), sorted(&[alice, bob]));
    // Bob leaves: his view keeps the topic he saw.
    store.remove_member(room, bob, bob, Timestamp::now()).await.unwrap();
    store.set_topic(room, Topic::parse("second").unwrap(), alice, Timestamp::now()).await.unwrap();
    assert_eq!(store.conversation(bob, room).await.unwrap().unwrap().snapshot.room.topic, "first");
    assert_eq!(store.conversation(alice, room).await.unwrap().unwrap().snapshot.room.topic, "second");

    let set = store.set_room_password(room, Some("$argon2id$x".into()), Timestamp::now()).await.unwrap();
    assert_eq!(
        (kind(&set), json(&set)["data"]["has_password"].as_bool()),
        ("conversation.updated".to_owned(), Some(true))
    );
    assert_eq!(store.conversation_access(room).await.unwrap().unwrap().password_hash.as_deref(), Some("$argon2id$x"));
    let cleared = store.set_room_password(room, None, Timestamp::now()).await.unwrap();
    assert_eq!(json(&cleared)["data"]["has_password"], false);
    assert_eq!(cleared.seq, set.seq + 1);
    assert!(store.conversation_access(room).await.unwrap().unwrap().password_hash.is_none());
    let unknown = ConversationId::generate();
    assert!(matches!(
        store.set_topic(unknown, Topic::empty(), alice, Timestamp::now()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(store.set_room_password(unknown, None, Timestamp::now()).await, Err(StoreError::NotFound)));
}

fn role_change(by: UserId, user: UserId, role: Role) -> RoleChange {
    RoleChange { by, user, role }
}

pub async fn role_changes_commit_member_updated(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (room, _) = room_of(&store, alice, "r", Visibility::Private, vec![bob, carol]).await;
    let now = Timestamp::now;

    let made = store.set_member_role(room, role_change(alice, bob, Role::Admin), now()).await.unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!((made[0].seq, kind(&made[0])), (2, "member.updated".to_owned()));
    assert_eq!(json(&made[0])["data"], serde_json::json!({"user_id": bob, "role": "admin"}));
    assert_eq!(sorted(&made[0].recipients), sorted(&[alice, bob, carol]));
    assert!(
        store.set_member_role(room, role_change(alice, bob, Role::Admin), now()).await.unwrap().is_empty(),
        "unchanged"
    );

    // The owner cannot leave the room without one.
    assert!(matches!(
        store.set_member_role(room, role_change(alice, alice, Role::Admin), now()).await,
        Err(StoreError::InvalidState(_))
    ));
    // Handing ownership over: carol becomes owner, alice admin.
    let handed = store.set_member_role(room, role_change(alice, carol, Role::Owner), now()).await.unwrap();
    let changes: Vec<(i64, serde_json::Value)> = handed.iter().map(|c| (c.seq, json(c)["data"].clone())).collect();
    assert_eq!(
        changes,
        [
            (3, serde_json::json!({"user_id": carol, "role": "owner"})),
            (4, serde_json::json!({"user_id": alice, "role": "admin"}))
        ]
    );
    assert_eq!(store.membership(carol, room).await.unwrap().unwrap().role, Role::Owner);
    assert_eq!(store.membership(alice, room).await.unwrap().unwrap().role, Role::Admin);

    // Not a current member: nobody to change.
    let dave = user(&store, "dave").await;
    assert!(matches!(
        store.set_member_role(room, role_change(carol, dave, Role::Admin), now()).await,
        Err(StoreError::NotFound)
    ));
    store.remove_member(room, bob, bob, now()).await.unwrap();
    assert!(matches!(
        store.set_member_role(room, role_change(carol, bob, Role::Member), now()).await,
        Err(StoreError::NotFound)
    ));

    // A group's last admin cannot make themself a member; with another admin they can.
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    assert!(matches!(
        store.set_member_role(group, role_change(alice, alice, Role::Member), now()).await,
        Err(StoreError::InvalidState(_))
    ));
    store.set_member_role(group, role_change(alice, bob, Role::Admin), now()).await.unwrap();
    store.set_member_role(group, role_change(alice, alice, Role::Member), now()).await.unwrap();
    assert_eq!(store.membership(alice, group).await.unwrap().unwrap().role, Role::Member);
}

pub async fn a_rooms_owner_leaving_hands_it_to_the_longest_standing_admin(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let dave = user(&store, "dave").await;
    let (room, _) = room_of(&store, alice, "r", Visibility::Public, vec![bob, carol]).await;
    store.add_members(room, vec![dave], alice, Timestamp::now()).await.unwrap();
    store.set_member_role(room, role_change(alice, dave, Role::Admin), Timestamp::now()).await.unwrap();
    // An admin leaving needs nobody promoted; the owner leaving does: dave, the only admin,
    // although bob and carol have been there longer.
    match store.remove_member(room, alice, alice, Timestamp::now()).await.unwrap() {
        RemoveOutcome::Removed { promoted, .. } => {
            let promoted = promoted.expect("an heir");
            assert_eq!(kind(&promoted), "conversation.updated");
        }
        RemoveOutcome::NotAMember => panic!("alice was a member"),
    }
    assert_eq!(store.membership(dave, room).await.unwrap().unwrap().role, Role::Owner);
    // With no admin left, the longest-standing member.
    match store.remove_member(room, dave, dave, Timestamp::now()).await.unwrap() {
        RemoveOutcome::Removed { promoted, .. } => assert!(promoted.is_some()),
        RemoveOutcome::NotAMember => panic!("dave was a member"),
    }
    assert_eq!(store.membership(bob, room).await.unwrap().unwrap().role, Role::Owner);
    assert_eq!(store.membership(carol, room).await.unwrap().unwrap().role, Role::Member);
}

pub async fn deleting_a_conversation_tells_its_members_and_hides_it(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (room, _) = room_of(&store, alice, "r", Visibility::Public, vec![bob, carol]).await;
    send(&store, room, bob, "hello").await;
    store.remove_member(room, carol, carol, Timestamp::now()).await.unwrap();
    let deleted = store.delete_conversation(room, alice, Timestamp::now()).await.unwrap();
    assert_eq!((deleted.seq, kind(&deleted)), (4, "conversation.deleted".to_owned()));
    assert_eq!(json(&deleted)["data"], serde_json::json!({"deleted_by": alice}));
    assert_eq!(sorted(&deleted.recipients), sorted(&[alice, bob]), "the current members");
    for who in [alice, bob, carol] {
        assert!(store.conversation(who, room).await.unwrap().is_none());
        assert!(store.membership(who, room).await.unwrap().is_none());
        assert!(store.list_conversations(who).await.unwrap().is_empty(), "in nobody's list");
    }
    assert!(store.conversation_access(room).await.unwrap().is_none());
    assert!(matches!(store.member_ids(room).await, Err(StoreError::NotFound)));
    assert!(matches!(store.send_message(text_message(room, bob, "late", None)).await, Err(StoreError::NotFound)));
    assert!(matches!(store.delete_conversation(room, alice, Timestamp::now()).await, Err(StoreError::NotFound)));
    // The stored event replays to its audience like any other (the realtime path).
    let replayed = store.committed_after(room, 3, 10).await.unwrap();
    assert_eq!(replayed.iter().map(|c| c.seq).collect::<Vec<_>>(), [4]);
}

/// A tiny deterministic generator (a 64-bit LCG), so a failing run can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

/// Random joins, leaves, removals, role changes and messages, in a group and in a room:
/// after every step a conversation with members has someone in its top role (an owner, or
/// a group's admin), and nobody's history or event log holds a message sent while they
/// were not a member.
pub async fn random_membership_changes_keep_a_manager_and_the_windows(store: Arc<dyn Store>) {
    let mut users = Vec::new();
    for n in 0..5 {
        users.push(user(&store, &format!("user{n}")).await);
    }
    for (seed, is_room) in [(7_u64, true), (11, false)] {
        let mut rng = Lcg(seed);
        let (id, kind) = if is_room {
            (room_of(&store, users[0], "r", Visibility::Public, vec![users[1]]).await.0, ConversationKind::Channel)
        } else {
            (group_of(&store, users[0], vec![users[1]]).await.0, ConversationKind::Group)
        };
        let top = hubbub_domain::policy::top_role(kind);
        // Who was a current member when each message was sent.
        let mut sent: Vec<(i64, Vec<UserId>)> = Vec::new();
        for step in 0..60 {
            let current: Vec<UserId> = store.member_ids(id).await.unwrap().to_vec();
            let someone = users[rng.below(users.len())];
            match rng.below(5) {
                0 => {
                    store.add_members(id, vec![someone], someone, Timestamp::now()).await.unwrap();
                }
                1 => {
                    store.remove_member(id, someone, someone, Timestamp::now()).await.unwrap();
                }
                2 if !current.is_empty() => {
                    let who = current[rng.below(current.len())];
                    let roles = [Role::Member, Role::Admin, top];
                    let role = roles[rng.below(roles.len())];
                    let mut by = who;
                    for candidate in &current {
                        if store.membership(*candidate, id).await.unwrap().unwrap().role == top {
                            by = *candidate;
                        }
                    }
                    match store.set_member_role(id, role_change(by, who, role), Timestamp::now()).await {
                        Ok(_) | Err(StoreError::InvalidState(_)) => {}
                        Err(other) => panic!("step {step}: {other}"),
                    }
                }
                _ if !current.is_empty() => {
                    let sender = current[rng.below(current.len())];
                    let message = send(&store, id, sender, &format!("step {step}")).await;
                    sent.push((message.seq, current.clone()));
                }
                _ => {}
            }
            let current: Vec<UserId> = store.member_ids(id).await.unwrap().to_vec();
            if !current.is_empty() {
                let mut roles = Vec::new();
                for member in &current {
                    roles.push(store.membership(*member, id).await.unwrap().unwrap().role);
                }
                assert!(roles.contains(&top), "step {step} ({kind:?}): nobody holds {top:?} among {roles:?}");
            }
        }
        assert!(sent.len() > 5, "the run sent messages");
        for who in &users {
            let Some(membership) = store.membership(*who, id).await.unwrap() else { continue };
            let page = store.list_messages(*who, id, membership, HistoryCursor::Latest, 200).await.unwrap();
            for message in &page.messages {
                let (_, members) = sent.iter().find(|(seq, _)| *seq == message.seq).expect("a message of the run");
                assert!(members.contains(who), "{who} sees message {} sent while they were out", message.seq);
            }
            let events = store.events_after(id, membership, 0, 500).await.unwrap();
            for (seq, kind) in seqs_and_types(&events.events) {
                if kind == "message.created" {
                    let (_, members) = sent.iter().find(|(s, _)| *s == seq).expect("a message of the run");
                    assert!(members.contains(who), "{who} replays message {seq} sent while they were out");
                }
            }
        }
    }
}
