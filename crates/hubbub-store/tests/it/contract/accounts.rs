//! Accounts, sessions, tickets, passwords and users.

use super::*;

pub async fn accounts_are_unique_case_insensitively(store: Arc<dyn Store>) {
    let created = store.create_account(account("Alice", "Alice Smith"), session()).await.unwrap();
    assert_eq!(created.username, "alice", "only the folded form is stored");
    assert_eq!(created.display_name, "Alice Smith");
    assert_eq!((created.photo_url.as_deref(), created.about.as_str(), created.last_seen_at), (None, "", None));
    assert!(!created.online, "online comes from the live registry, never from storage");
    assert_eq!(store.user(created.id).await.unwrap(), Some(created.clone()));
    assert_eq!(store.user(UserId::generate()).await.unwrap(), None);

    let again = account("ALICE", "x");
    assert!(matches!(store.create_account(again, session()).await, Err(StoreError::Conflict("username"))));
    let credentials = store.credentials(&Username::parse("Alice").unwrap()).await.unwrap().unwrap();
    assert_eq!(credentials.user_id, created.id);
    assert_eq!(credentials.password_hash, "$argon2id$fake");
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

    // Ending a session voids its token and the tickets it was given.
    let pending = hubbub_app::security::issue_token();
    store.create_ws_ticket(actor, pending.digest, Timestamp::now().plus_millis(60_000)).await.unwrap();
    store.delete_session(sid).await.unwrap();
    assert!(store.session_by_token(&token.digest, Timestamp::now()).await.unwrap().is_none());
    assert_eq!(store.redeem_ws_ticket(&pending.digest, Timestamp::now()).await.unwrap(), None);
}

pub async fn missing_sessions_are_those_that_ended(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let mut live = Vec::new();
    for _ in 0..3 {
        let id = SessionId(Uuid::now_v7());
        store.create_session(alice, NewSession { id, ..session() }).await.unwrap();
        live.push(id);
    }
    let never = SessionId(Uuid::now_v7());
    store.delete_session(live[1]).await.unwrap();
    let asked = [live[0], live[1], never, live[2]];
    assert_eq!(store.missing_sessions(&asked).await.unwrap(), vec![live[1], never], "in the order asked");
    assert!(store.missing_sessions(&[]).await.unwrap().is_empty());
    // More than one statement's worth of parameters on SQLite.
    let many: Vec<SessionId> = (0..1200).map(|_| SessionId(Uuid::now_v7())).chain([live[0]]).collect();
    assert_eq!(store.missing_sessions(&many).await.unwrap().len(), 1200);
}

pub async fn sessions_and_tickets_of_unknown_rows(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    assert!(matches!(store.create_session(UserId::generate(), session()).await, Err(StoreError::NotFound)));
    let unknown = hubbub_app::security::issue_token();
    assert_eq!(store.session_by_token(&unknown.digest, Timestamp::now()).await.unwrap(), None);
    assert_eq!(store.redeem_ws_ticket(&unknown.digest, Timestamp::now()).await.unwrap(), None);
    // A ticket needs a live session.
    let ghost = Actor { user_id: alice, session_id: SessionId(Uuid::now_v7()) };
    let ticket = hubbub_app::security::issue_token();
    let expires = Timestamp::now().plus_millis(60_000);
    assert!(matches!(store.create_ws_ticket(ghost, ticket.digest, expires).await, Err(StoreError::NotFound)));
    // Logging out twice (or a session already ended elsewhere) is not an error.
    store.delete_session(SessionId(Uuid::now_v7())).await.unwrap();
}

pub async fn a_password_change_ends_every_other_session(store: Arc<dyn Store>) {
    let first = session();
    let first_id = first.id;
    let alice = store.create_account(account("alice", "alice"), first).await.unwrap().id;
    let bob = user(&store, "bob").await;
    let (keep, keep_token) = (SessionId(Uuid::now_v7()), hubbub_app::security::issue_token());
    store
        .create_session(alice, NewSession { id: keep, token_digest: keep_token.digest, now: Timestamp::now() })
        .await
        .unwrap();
    let other = session();
    let (other_id, other_digest) = (other.id, other.token_digest);
    store.create_session(alice, other).await.unwrap();
    let bobs = session();
    let bobs_digest = bobs.token_digest;
    store.create_session(bob, bobs).await.unwrap();
    let ticket = hubbub_app::security::issue_token();
    let actor = Actor { user_id: alice, session_id: other_id };
    store.create_ws_ticket(actor, ticket.digest, Timestamp::now().plus_millis(60_000)).await.unwrap();

    assert_eq!(store.password_hash(alice).await.unwrap(), "$argon2id$fake");
    let mut ended = store.change_password(alice, "$argon2id$new".into(), keep).await.unwrap();
    ended.sort_by_key(|s| s.0);
    let mut expected = vec![other_id, first_id];
    expected.sort_by_key(|s| s.0);
    assert_eq!(ended, expected, "every session of the user but the kept one");
    assert_eq!(store.password_hash(alice).await.unwrap(), "$argon2id$new");
    assert_eq!(
        store.credentials(&Username::parse("alice").unwrap()).await.unwrap().unwrap().password_hash,
        "$argon2id$new"
    );
    assert!(store.session_by_token(&other_digest, Timestamp::now()).await.unwrap().is_none());
    assert_eq!(store.redeem_ws_ticket(&ticket.digest, Timestamp::now()).await.unwrap(), None);
    let kept = store.session_by_token(&keep_token.digest, Timestamp::now()).await.unwrap().unwrap();
    assert_eq!(kept.session_id, keep);
    assert!(store.session_by_token(&bobs_digest, Timestamp::now()).await.unwrap().is_some(), "others untouched");

    assert!(matches!(store.password_hash(UserId::generate()).await, Err(StoreError::NotFound)));
    assert!(matches!(store.change_password(UserId::generate(), "h".into(), keep).await, Err(StoreError::NotFound)));
}

pub async fn profiles_change_field_by_field(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    user(&store, "bob").await;
    let patch = ProfilePatch { display_name: Some("Alice A.".into()), ..Default::default() };
    let changed = store.update_profile(alice, patch).await.unwrap();
    assert_eq!(
        (changed.username.as_str(), changed.display_name.as_str(), changed.about.as_str()),
        ("alice", "Alice A.", "")
    );
    let changed =
        store.update_profile(alice, ProfilePatch { about: Some("hi".into()), ..Default::default() }).await.unwrap();
    assert_eq!((changed.display_name.as_str(), changed.about.as_str()), ("Alice A.", "hi"));
    let renamed = ProfilePatch { username: Some(Username::parse("alicia").unwrap()), ..Default::default() };
    assert_eq!(store.update_profile(alice, renamed).await.unwrap().username, "alicia");
    assert_eq!(store.credentials(&Username::parse("alicia").unwrap()).await.unwrap().unwrap().user_id, alice);
    assert!(store.credentials(&Username::parse("alice").unwrap()).await.unwrap().is_none());
    // Keeping one's own name is no conflict; taking another's (in any case) is.
    let same = ProfilePatch { username: Some(Username::parse("alicia").unwrap()), ..Default::default() };
    store.update_profile(alice, same).await.unwrap();
    let taken = ProfilePatch {
        username: Some(Username::parse("BOB").unwrap()),
        display_name: Some("Not Applied".into()),
        about: Some("not applied".into()),
    };
    assert!(matches!(store.update_profile(alice, taken).await, Err(StoreError::Conflict("username"))));
    let unchanged = store.update_profile(alice, ProfilePatch::default()).await.unwrap();
    assert_eq!(store.user(alice).await.unwrap(), Some(unchanged.clone()));
    assert_eq!(
        (unchanged.username.as_str(), unchanged.about.as_str()),
        ("alicia", "hi"),
        "a failed patch changes nothing"
    );
    assert!(matches!(
        store.update_profile(UserId::generate(), ProfilePatch::default()).await,
        Err(StoreError::NotFound)
    ));
    // Search follows the new display name and username.
    for prefix in ["alicia", "a."] {
        let found: Vec<UserId> = store.search_users(prefix, 10).await.unwrap().into_iter().map(|u| u.id).collect();
        assert_eq!(found, vec![alice], "{prefix}");
    }
}

pub async fn search_matches_prefixes_of_usernames_and_display_name_words(store: Arc<dyn Store>) {
    let mut ids = std::collections::HashMap::new();
    for (name, display) in [
        ("alice", "Alice Smith"),
        ("al_x", "Xavier"),
        ("bob", "Bob Jones"),
        ("carol", "Carol Smithers"),
        ("dan", "Dan"),
    ] {
        ids.insert(name, store.create_account(account(name, display), session()).await.unwrap().id);
    }
    let names = |users: Vec<User>| users.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(names(store.search_users("al", 10).await.unwrap()), ["al_x", "alice"], "ordered by username");
    assert_eq!(names(store.search_users("smi", 10).await.unwrap()), ["alice", "carol"], "a word of the display name");
    assert_eq!(names(store.search_users("xav", 10).await.unwrap()), ["al_x"]);
    assert_eq!(names(store.search_users("ice", 10).await.unwrap()), Vec::<String>::new(), "prefixes only");
    // Wildcards of the query language are plain characters.
    assert_eq!(names(store.search_users("al_", 10).await.unwrap()), ["al_x"]);
    assert_eq!(names(store.search_users("%", 10).await.unwrap()), Vec::<String>::new());
    assert_eq!(names(store.search_users("", 10).await.unwrap()), ["al_x", "alice", "bob", "carol", "dan"]);
    assert_eq!(names(store.search_users("", 2).await.unwrap()), ["al_x", "alice"], "limit");
    // Prefixes arrive lower-cased (the use case folds them); display names match whatever
    // their case, in any script.
    store.create_account(account("elodie", "Élodie Durand"), session()).await.unwrap();
    assert_eq!(names(store.search_users("él", 10).await.unwrap()), ["elodie"]);
    assert_eq!(names(store.search_users("dur", 10).await.unwrap()), ["elodie"]);
    let found = store.search_users("bob", 10).await.unwrap();
    assert_eq!(found, vec![store.user(ids["bob"]).await.unwrap().unwrap()]);
}

pub async fn a_user_photo_is_recorded_and_the_replaced_file_returned(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (user, replaced) = store.set_user_photo(alice, Some(photo("a.jpg"))).await.unwrap();
    assert_eq!((user.photo_url.as_deref(), replaced), (Some("/media/a.jpg"), None));
    assert_eq!(store.user(alice).await.unwrap().unwrap().photo_url.as_deref(), Some("/media/a.jpg"));
    let records = store.media_records().await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        (records[0].media_name.as_str(), records[0].content_type.as_str(), records[0].size_bytes),
        ("a.jpg", "image/jpeg", 10)
    );
    assert_eq!((records[0].width, records[0].height, records[0].purpose), (4, 3, MediaPurpose::Avatar));

    let (_, replaced) = store.set_user_photo(alice, Some(photo("a.jpg"))).await.unwrap();
    assert_eq!(replaced, None, "setting the same photo replaces nothing");
    let (_, replaced) = store.set_user_photo(alice, Some(photo("b.jpg"))).await.unwrap();
    assert_eq!(replaced.as_deref(), Some("a.jpg"));
    let names: Vec<String> = store.media_records().await.unwrap().into_iter().map(|r| r.media_name).collect();
    assert_eq!(names, ["b.jpg"], "the replaced file's record went with it");

    // A file still used elsewhere is not returned.
    store.set_user_photo(bob, Some(photo("b.jpg"))).await.unwrap();
    let (user, replaced) = store.set_user_photo(alice, None).await.unwrap();
    assert_eq!((user.photo_url, replaced), (None, None));
    let (_, replaced) = store.set_user_photo(bob, None).await.unwrap();
    assert_eq!(replaced.as_deref(), Some("b.jpg"));
    assert!(store.media_records().await.unwrap().is_empty());
    assert!(matches!(
        store.set_user_photo(UserId::generate(), Some(photo("lost.jpg"))).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.media_records().await.unwrap().is_empty(), "a refused change records no file");
}

pub async fn contacts_are_everyone_sharing_a_current_conversation(store: Arc<dyn Store>) {
    let [alice, bob, carol, dave, erin, frank] = {
        let mut ids = Vec::new();
        for name in ["alice", "bob", "carol", "dave", "erin", "frank"] {
            ids.push(user(&store, name).await);
        }
        <[UserId; 6]>::try_from(ids).unwrap()
    };
    direct(&store, alice, bob).await;
    let (group, _) = group_of(&store, alice, vec![carol, dave, erin]).await;
    let contacts = |me: UserId, max: Option<u32>| {
        let store = store.clone();
        async move { sorted(&store.contacts(me, max).await.unwrap()) }
    };
    assert_eq!(contacts(alice, None).await, sorted(&[alice, bob, carol, dave, erin]));
    assert_eq!(contacts(alice, Some(3)).await, sorted(&[alice, bob]), "a group of 4 is larger than 3");
    assert_eq!(contacts(alice, Some(4)).await, sorted(&[alice, bob, carol, dave, erin]));
    assert_eq!(contacts(bob, Some(0)).await, sorted(&[alice, bob]), "direct conversations always count");
    assert_eq!(contacts(frank, None).await, vec![frank], "the user is always among their contacts");
    store.remove_member(group, erin, erin, Timestamp::now()).await.unwrap();
    assert_eq!(contacts(alice, None).await, sorted(&[alice, bob, carol, dave]), "only current conversations");
    assert_eq!(contacts(erin, None).await, vec![erin]);
}

pub async fn last_seen_is_stored(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let at = Timestamp::from_millis(1_790_000_000_123);
    store.set_last_seen(alice, at).await.unwrap();
    assert_eq!(store.user(alice).await.unwrap().unwrap().last_seen_at, Some(at));
    let later = at.plus_millis(5_000);
    store.set_last_seen(alice, later).await.unwrap();
    assert_eq!(store.user(alice).await.unwrap().unwrap().last_seen_at, Some(later));
    // A user who is gone has nothing to update; that is not the presence task's error.
    store.set_last_seen(UserId::generate(), at).await.unwrap();
}

pub async fn health_accepts_writes(store: Arc<dyn Store>) {
    store.health().await.unwrap();
    store.health().await.unwrap();
}

pub async fn a_failing_write_does_not_spoil_its_batch(store: Arc<dyn Store>) {
    // Many registrations of the same name at once land in shared batches: exactly one wins,
    // the rest fail alone, and unrelated writes in the same batches commit.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let name = if i % 2 == 0 { "same_name".to_owned() } else { format!("user_{i}") };
            store.create_account(account(&name, &name), session()).await.map(|_| name)
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
