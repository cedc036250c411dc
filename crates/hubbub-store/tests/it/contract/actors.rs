//! Who made a change: the `actor_id` of a conversation's own events, as returned, fed and
//! stored (the event log keeps the serialised event, so `/events` replays it too).

use super::*;

/// The `actor_id` of a committed event (`None`: it has none).
fn actor(committed: &Committed) -> Option<String> {
    json(committed).get("actor_id").map(|a| a.as_str().unwrap().to_owned())
}

pub async fn changes_name_who_made_them_in_the_event_log(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let dave = user(&store, "dave").await;
    let now = Timestamp::now;
    let (group, created) = group_of(&store, alice, vec![bob, carol]).await;
    assert_eq!(actor(&created), None, "a creation is not a change of a conversation");
    let mut returned = Vec::new();

    let renamed = store.rename_group(group, GroupName::parse("new").unwrap(), alice, now()).await.unwrap();
    assert_eq!(actor(&renamed), Some(alice.to_string()));
    returned.push(renamed);
    let (photo_set, _) = store.set_group_photo(group, Some(photo("a.jpg")), bob, now()).await.unwrap();
    assert_eq!(actor(&photo_set), Some(bob.to_string()));
    returned.push(photo_set);
    let topic = store.set_topic(group, Topic::parse("plans").unwrap(), carol, now()).await.unwrap();
    assert_eq!(actor(&topic), Some(carol.to_string()));
    returned.push(topic);
    let added = store.add_members(group, vec![dave], bob, now()).await.unwrap().committed;
    let member_added = added.iter().find(|c| kind(c) == "member.added").unwrap();
    assert_eq!(actor(member_added), Some(bob.to_string()), "bob added dave");
    returned.push(member_added.clone());
    let role = RoleChange { by: alice, user: bob, role: Role::Admin };
    let made = store.set_member_role(group, role, now()).await.unwrap();
    assert_eq!(made.iter().map(actor).collect::<Vec<_>>(), vec![Some(alice.to_string())]);
    returned.extend(made);
    let RemoveOutcome::Removed { committed: removed, .. } =
        store.remove_member(group, carol, alice, now()).await.unwrap()
    else {
        panic!("carol was a member")
    };
    assert_eq!(
        (json(&removed)["data"]["user_id"].clone(), actor(&removed)),
        (carol.to_string().into(), Some(alice.to_string()))
    );
    returned.push(removed);
    let RemoveOutcome::Removed { committed: left, .. } = store.remove_member(group, dave, dave, now()).await.unwrap()
    else {
        panic!("dave was a member")
    };
    assert_eq!(actor(&left), Some(dave.to_string()), "dave left: he is his own actor");
    returned.push(left);
    // A group's last admin leaves: the heir is promoted by the succession rule, not by anyone.
    let (pair, _) = group_of(&store, alice, vec![bob]).await;
    let RemoveOutcome::Removed { promoted, .. } = store.remove_member(pair, alice, alice, now()).await.unwrap() else {
        panic!("alice was a member")
    };
    assert_eq!(actor(&promoted.expect("bob is promoted")), None, "succession has no actor");

    // What the log stores, and replays, is exactly what the writes returned.
    let stored = store.committed_after(group, 0, 100).await.unwrap();
    for change in &returned {
        let log = stored.iter().find(|c| c.seq == change.seq).expect("every change is in the log");
        assert_eq!(log.json, change.json);
        assert!(actor(log).is_some(), "the stored event keeps its actor");
    }

    let (room, _) = room_of(&store, alice, "r", Visibility::Private, vec![bob]).await;
    let deleted = store.delete_conversation(room, alice, now()).await.unwrap();
    assert_eq!(actor(&deleted), Some(alice.to_string()));
    assert_eq!(json(&deleted)["data"]["deleted_by"], alice.to_string());
}
