//! Spaces: creation with the `general` channel, a member's spaces, the members, adding
//! people (to the space and its `general`), and the channels of a space.

use super::*;

/// A new space named `name` created by `owner` with `members`; its id and its `general`.
pub(crate) async fn space_of(
    store: &Arc<dyn Store>,
    owner: UserId,
    name: &str,
    members: Vec<UserId>,
) -> (SpaceId, ConversationId, Committed) {
    let (id, general) = (SpaceId::generate(), ConversationId::generate());
    let space = NewSpace {
        id,
        creator: owner,
        name: GroupName::parse(name).unwrap(),
        description: "a club".into(),
        member_ids: members,
        general,
        now: Timestamp::now(),
    };
    (id, general, store.create_space(space).await.unwrap())
}

pub async fn creating_a_space_makes_its_general_channel(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let bad = NewSpace {
        id: SpaceId::generate(),
        creator: alice,
        name: GroupName::parse("Club").unwrap(),
        description: String::new(),
        member_ids: vec![UserId::generate()],
        general: ConversationId::generate(),
        now: Timestamp::now(),
    };
    assert!(matches!(store.create_space(bad).await, Err(StoreError::UnknownReference("member_ids"))));
    assert!(store.spaces(alice, None).await.unwrap().is_empty(), "nothing was created");

    let (id, general, created) = space_of(&store, alice, "Club", vec![bob]).await;
    assert_eq!((created.conversation_id, created.seq, kind(&created)), (general, 1, "conversation.created".into()));
    assert_eq!(sorted(&created.recipients), sorted(&[alice, bob]));
    let data = &json(&created)["data"];
    assert_eq!((data["name"].as_str(), data["visibility"].as_str()), (Some("general"), Some("public")));
    assert_eq!(data["space_id"].as_str(), Some(id.to_string().as_str()));

    let mine = store.spaces(alice, None).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (mine[0].id, mine[0].name.as_str(), mine[0].description.as_str(), mine[0].my_role, mine[0].member_count),
        (id, "Club", "a club", Role::Owner, 2)
    );
    assert_eq!(store.spaces(bob, Some(id)).await.unwrap()[0].my_role, Role::Member);
    assert!(store.spaces(carol, Some(id)).await.unwrap().is_empty(), "a stranger is in no space");
    assert!(store.spaces(alice, Some(SpaceId::generate())).await.unwrap().is_empty());

    let members = store.space_members(id).await.unwrap();
    let got: Vec<(UserId, Role)> = members.iter().map(|m| (m.user.id, m.role)).collect();
    assert_eq!(got, vec![(alice, Role::Owner), (bob, Role::Member)]);
    assert!(store.space_members(SpaceId::generate()).await.unwrap().is_empty());

    assert_eq!(store.membership(alice, general).await.unwrap().unwrap().role, Role::Owner);
    assert_eq!(store.membership(bob, general).await.unwrap().unwrap().role, Role::Member);
    let access = store.conversation_access(general).await.unwrap().unwrap();
    assert_eq!(access.space_id, Some(id.0));
    let view = store.conversation(bob, general).await.unwrap().unwrap();
    assert_eq!(view.snapshot.room.space_id, Some(id.0));
    // A space's channels are not in the server-wide directory.
    let query = RoomQuery { text: String::new(), only: None, limit: 10 };
    assert!(store.public_rooms(carol, query).await.unwrap().is_empty());
}

pub async fn adding_space_members_adds_them_to_general(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (id, general, _) = space_of(&store, alice, "Club", vec![]).await;
    assert!(matches!(
        store.add_space_members(id, vec![UserId::generate()], alice, Timestamp::now()).await,
        Err(StoreError::UnknownReference("user_ids"))
    ));
    assert!(matches!(
        store.add_space_members(SpaceId::generate(), vec![bob], alice, Timestamp::now()).await,
        Err(StoreError::NotFound)
    ));
    let added = store.add_space_members(id, vec![bob, carol, bob, alice], alice, Timestamp::now()).await.unwrap();
    assert_eq!(added.added, vec![bob, carol], "alice was in it already; duplicates count once");
    let commits = added.general.unwrap().committed;
    assert!(commits.iter().all(|c| c.conversation_id == general));
    assert!(commits.iter().any(|c| kind(c) == "member.added"));
    for added in commits.iter().filter(|c| kind(c) == "member.added") {
        assert_eq!(json(added)["actor_id"], alice.to_string(), "alice added them");
    }
    assert_eq!(store.membership(carol, general).await.unwrap().unwrap().role, Role::Member);
    assert_eq!(store.spaces(alice, Some(id)).await.unwrap()[0].member_count, 3);
    let again = store.add_space_members(id, vec![bob], alice, Timestamp::now()).await.unwrap();
    assert!(again.added.is_empty() && again.general.is_none(), "adding a member again changes nothing");
}

pub async fn a_spaces_channels_are_its_public_ones_and_the_callers_private_ones(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (id, general, _) = space_of(&store, alice, "Club", vec![bob]).await;
    let channel = |name: &str, visibility, member_ids| NewChannel {
        id: ConversationId::generate(),
        space: Some(id),
        creator: alice,
        name: GroupName::parse(name).unwrap(),
        visibility,
        topic: Topic::empty(),
        password_hash: None,
        member_ids,
        now: Timestamp::now(),
    };
    let news = channel("news", Visibility::Public, vec![]);
    let news_id = news.id;
    store.create_channel(news).await.unwrap();
    let secret = channel("secret", Visibility::Private, vec![]);
    let secret_id = secret.id;
    store.create_channel(secret).await.unwrap();
    let mut unknown = channel("x", Visibility::Public, vec![]);
    unknown.space = Some(SpaceId::generate());
    assert!(matches!(store.create_channel(unknown).await, Err(StoreError::NotFound)));

    let of = |entries: Vec<RoomEntry>| -> Vec<(ConversationId, Option<Role>)> {
        entries.into_iter().map(|e| (e.snapshot.id, e.my_role)).collect()
    };
    // The store lists every channel of the space with the caller's role; which of them a
    // caller may see is the use case's rule.
    assert_eq!(
        of(store.space_channels(alice, id).await.unwrap()),
        vec![(general, Some(Role::Owner)), (news_id, Some(Role::Owner)), (secret_id, Some(Role::Owner))]
    );
    assert_eq!(
        of(store.space_channels(bob, id).await.unwrap()),
        vec![(general, Some(Role::Member)), (news_id, None), (secret_id, None)]
    );
    let entries = store.space_channels(bob, id).await.unwrap();
    assert_eq!((entries[1].snapshot.room.visibility, entries[1].snapshot.room.member_count), (Visibility::Public, 1));
    assert_eq!(entries[1].snapshot.room.space_id, Some(id.0));
    assert!(store.space_channels(bob, SpaceId::generate()).await.unwrap().is_empty());
}

pub async fn space_roles_names_and_removals_change_what_they_say(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (id, general, _) = space_of(&store, alice, "Club", vec![bob, carol]).await;
    store.set_space_roles(id, vec![(bob, Role::Owner), (alice, Role::Admin)]).await.unwrap();
    let roles: Vec<(UserId, Role)> =
        store.space_members(id).await.unwrap().iter().map(|m| (m.user.id, m.role)).collect();
    assert_eq!(roles, vec![(alice, Role::Admin), (bob, Role::Owner), (carol, Role::Member)]);
    let stranger = user(&store, "dave").await;
    assert!(matches!(
        store.set_space_roles(id, vec![(carol, Role::Admin), (stranger, Role::Admin)]).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.spaces(carol, Some(id)).await.unwrap()[0].my_role, Role::Member, "all or none");

    store.update_space(id, Some(GroupName::parse("Renamed").unwrap()), None, Timestamp::now()).await.unwrap();
    store.update_space(id, None, Some(String::new()), Timestamp::now()).await.unwrap();
    let space = &store.spaces(alice, Some(id)).await.unwrap()[0];
    assert_eq!((space.name.as_str(), space.description.as_str()), ("Renamed", ""));
    assert!(matches!(
        store.update_space(SpaceId::generate(), None, None, Timestamp::now()).await,
        Err(StoreError::NotFound)
    ));

    // Removing someone names the channels they are still in; the space row goes at once.
    assert_eq!(store.remove_space_member(id, carol).await.unwrap(), vec![general]);
    assert!(store.spaces(carol, Some(id)).await.unwrap().is_empty());
    assert!(store.membership(carol, general).await.unwrap().unwrap().is_current(), "channels are the use case's");
    assert!(matches!(store.remove_space_member(id, carol).await, Err(StoreError::NotFound)));
    assert!(matches!(store.remove_space_member(id, stranger).await, Err(StoreError::NotFound)));
}

pub async fn deleting_a_space_names_its_channels_and_hides_it(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (id, general, _) = space_of(&store, alice, "Club", vec![bob]).await;
    let gone = ConversationId::generate();
    let channel = NewChannel {
        id: gone,
        space: Some(id),
        creator: alice,
        name: GroupName::parse("old").unwrap(),
        visibility: Visibility::Public,
        topic: Topic::empty(),
        password_hash: None,
        member_ids: vec![],
        now: Timestamp::now(),
    };
    store.create_channel(channel).await.unwrap();
    store.delete_conversation(gone, alice, Timestamp::now()).await.unwrap();
    assert_eq!(store.delete_space(id, Timestamp::now()).await.unwrap(), vec![general], "only channels not yet deleted");
    assert!(
        store.spaces(alice, None).await.unwrap().is_empty() && store.spaces(bob, Some(id)).await.unwrap().is_empty()
    );
    assert!(store.space_members(id).await.unwrap().is_empty());
    assert!(store.space_channels(alice, id).await.unwrap().is_empty());
    assert!(matches!(store.delete_space(id, Timestamp::now()).await, Err(StoreError::NotFound)));
    assert!(matches!(store.add_space_members(id, vec![bob], alice, Timestamp::now()).await, Err(StoreError::NotFound)));
}
