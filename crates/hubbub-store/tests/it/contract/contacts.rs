//! Contacts with aliases, and blocks: each user's own, seen by nobody else.

use super::*;

pub async fn contacts_keep_one_alias_per_owner(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let contact = store.set_contact(alice, bob, Some("Bobby".into()), Timestamp::now()).await.unwrap();
    assert_eq!(
        (contact.user.id, contact.user.username.as_str(), contact.alias.as_deref()),
        (bob, "bob", Some("Bobby"))
    );
    store.set_contact(alice, carol, None, Timestamp::now()).await.unwrap();
    let listed = |contacts: Vec<Contact>| contacts.into_iter().map(|c| (c.user.id, c.alias)).collect::<Vec<_>>();
    assert_eq!(listed(store.contact_list(alice).await.unwrap()), [(bob, Some("Bobby".to_owned())), (carol, None)]);
    assert!(store.contact_list(bob).await.unwrap().is_empty(), "an address book is its owner's only");

    // Setting again replaces the alias, in place.
    let replaced = store.set_contact(alice, bob, None, Timestamp::now()).await.unwrap();
    assert_eq!(replaced.alias, None);
    store.set_contact(alice, bob, Some("B".into()), Timestamp::now()).await.unwrap();
    assert_eq!(listed(store.contact_list(alice).await.unwrap()), [(bob, Some("B".to_owned())), (carol, None)]);

    store.delete_contact(alice, bob).await.unwrap();
    store.delete_contact(alice, bob).await.unwrap();
    store.delete_contact(alice, UserId::generate()).await.unwrap();
    assert_eq!(listed(store.contact_list(alice).await.unwrap()), [(carol, None)]);
    assert!(matches!(
        store.set_contact(alice, UserId::generate(), None, Timestamp::now()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn an_alias_names_a_direct_conversation_for_its_owner_only(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    assert_eq!(store.conversation(alice, chat).await.unwrap().unwrap().alias, None);
    store.set_contact(alice, bob, Some("Bobby".into()), Timestamp::now()).await.unwrap();
    assert_eq!(store.conversation(alice, chat).await.unwrap().unwrap().alias.as_deref(), Some("Bobby"));
    let views = store.list_conversations(alice).await.unwrap();
    let alias_of = |id| views.iter().find(|v| v.snapshot.id == id).unwrap().alias.clone();
    assert_eq!(alias_of(chat).as_deref(), Some("Bobby"));
    assert_eq!(alias_of(group), None, "a group keeps its own name");
    assert_eq!(store.conversation(bob, chat).await.unwrap().unwrap().alias, None, "nobody else sees it");
    // The snapshot, which events carry, knows nothing of aliases.
    assert_eq!(store.conversation(alice, chat).await.unwrap().unwrap().snapshot.name, None);
}

pub async fn blocks_are_the_blockers_own_and_idempotent(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    store.set_blocked(alice, bob, true, Timestamp::now()).await.unwrap();
    store.set_blocked(alice, bob, true, Timestamp::now()).await.unwrap();
    store.set_blocked(alice, carol, true, Timestamp::now()).await.unwrap();
    let ids = |users: Vec<User>| users.into_iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(ids(store.blocked_users(alice).await.unwrap()), [bob, carol], "in the order blocked");
    assert!(store.blocked_users(bob).await.unwrap().is_empty());
    store.set_blocked(carol, bob, true, Timestamp::now()).await.unwrap();
    assert_eq!(store.blockers_of(bob).await.unwrap(), [alice, carol]);
    assert!(store.blockers_of(alice).await.unwrap().is_empty());
    store.set_blocked(alice, bob, false, Timestamp::now()).await.unwrap();
    store.set_blocked(alice, bob, false, Timestamp::now()).await.unwrap();
    assert_eq!(ids(store.blocked_users(alice).await.unwrap()), [carol]);
    assert_eq!(store.blockers_of(bob).await.unwrap(), [carol]);
    let ghost = UserId::generate();
    assert!(matches!(store.set_blocked(alice, ghost, true, Timestamp::now()).await, Err(StoreError::NotFound)));
}

pub async fn a_blocked_user_cannot_post_to_the_blocker_directly(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    store.set_blocked(alice, bob, true, Timestamp::now()).await.unwrap();
    let refused = store.send_message(text_message(chat, bob, "hi", None)).await;
    assert!(matches!(refused, Err(StoreError::Forbidden(_))), "{:?}", refused.map(|o| o.message));
    // Nothing was stored: the next message takes the next seq.
    let before = store.conversation(alice, chat).await.unwrap().unwrap().snapshot.last_seq;
    assert_eq!(send(&store, chat, alice, "the blocker still may").await.seq, before + 1);
    // Groups are not closed by a block.
    send(&store, group, bob, "in the group").await;
    store.set_blocked(alice, bob, false, Timestamp::now()).await.unwrap();
    send(&store, chat, bob, "unblocked").await;
}
