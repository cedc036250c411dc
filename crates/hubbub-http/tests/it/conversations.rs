use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn member_ids(conversation: &Value) -> Vec<String> {
    let ids = conversation["members"].as_array().unwrap().iter().map(|m| m["user"]["id"].as_str().unwrap());
    sorted(ids.collect())
}

fn sorted(ids: Vec<&str>) -> Vec<String> {
    let mut ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn direct_conversations_are_one_per_pair() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let first = app.post(&format!("/api/users/{}/conversation", bob.id), &alice, json!({})).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.body["kind"], "direct");
    assert_eq!(first.body["name"], "bob", "a direct conversation is named after the other person");
    let again = app.post(&format!("/api/users/{}/conversation", alice.id), &bob, json!({})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.body["name"], "alice");

    let myself = app.post(&format!("/api/users/{}/conversation", alice.id), &alice, json!({})).await;
    assert_eq!(myself.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nobody = app.post("/api/users/01a23345-0000-7000-8000-000000000000/conversation", &alice, json!({})).await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);

    let id = first.body["id"].as_str().unwrap();
    let rename = app.put(&format!("/api/conversations/{id}/name"), &alice, json!({"name": "x"})).await;
    assert_eq!(rename.status, StatusCode::UNPROCESSABLE_ENTITY);
    let add = app.post(&format!("/api/conversations/{id}/members"), &alice, json!({"user_ids": [bob.id]})).await;
    assert_eq!(add.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn concurrent_direct_opens_make_one_conversation() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let (to_bob, to_alice) =
        (format!("/api/users/{}/conversation", bob.id), format!("/api/users/{}/conversation", alice.id));
    let (a, b) = tokio::join!(app.post(&to_bob, &alice, json!({})), app.post(&to_alice, &bob, json!({})));
    assert_eq!(a.body["id"], b.body["id"]);
    let statuses = [a.status, b.status];
    assert!(statuses.contains(&StatusCode::CREATED) && statuses.contains(&StatusCode::OK));
}

#[tokio::test]
async fn groups_admins_members_and_leaving() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let group = app.group(&alice, "Climbing club", &[&bob, &bob, &carol]).await;
    let view = app.conversation(&alice, &group).await;
    assert_eq!(view["kind"], "group");
    assert_eq!(view["name"], "Climbing club");
    assert_eq!(view["my_role"], "admin");
    assert_eq!(view["members"].as_array().unwrap().len(), 3, "duplicates are ignored");
    assert_eq!(app.conversation(&bob, &group).await["my_role"], "member");

    // Strangers get 404, not 403: no existence oracle.
    assert_eq!(app.get(&format!("/api/conversations/{group}"), &dave).await.status, StatusCode::NOT_FOUND);
    let bad_member = app
        .post(
            "/api/conversations",
            &alice,
            json!({"name": "x", "member_ids": ["01a23345-0000-7000-8000-000000000000"]}),
        )
        .await;
    assert_eq!(
        (bad_member.status, bad_member.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("member_ids"))
    );
    let bad_name = app.post("/api/conversations", &alice, json!({"name": " ", "member_ids": []})).await;
    assert_eq!(bad_name.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Only admins rename and add.
    let by_member = app.put(&format!("/api/conversations/{group}/name"), &bob, json!({"name": "Mine now"})).await;
    assert_eq!((by_member.status, by_member.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let renamed = app.put(&format!("/api/conversations/{group}/name"), &alice, json!({"name": "Bouldering"})).await;
    assert_eq!((renamed.status, renamed.body["name"].as_str()), (StatusCode::OK, Some("Bouldering")));
    assert_eq!(
        app.post(&format!("/api/conversations/{group}/members"), &bob, json!({"user_ids": [dave.id]})).await.status,
        StatusCode::FORBIDDEN
    );
    let added = app.post(&format!("/api/conversations/{group}/members"), &alice, json!({"user_ids": [dave.id]})).await;
    assert_eq!(added.status, StatusCode::OK);
    let seq_after_add = added.body["last_seq"].as_i64().unwrap();
    let twice = app.post(&format!("/api/conversations/{group}/members"), &alice, json!({"user_ids": [dave.id]})).await;
    assert_eq!(
        (twice.status, twice.body["last_seq"].as_i64()),
        (StatusCode::OK, Some(seq_after_add)),
        "adding twice changes nothing"
    );
    assert_eq!(twice.body["members"].as_array().unwrap().len(), 4);
    let unknown = app
        .post(
            &format!("/api/conversations/{group}/members"),
            &alice,
            json!({"user_ids": ["01a23345-0000-7000-8000-000000000000"]}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Members cannot remove others; admins can; anyone can leave.
    assert_eq!(
        app.delete(&format!("/api/conversations/{group}/members/{}", carol.id), &bob).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete(&format!("/api/conversations/{group}/members/{}", carol.id), &alice).await.status,
        StatusCode::NO_CONTENT
    );
    // Carol keeps the conversation as it was when she was removed, with its members then.
    let former = app.get(&format!("/api/conversations/{group}"), &carol).await;
    assert_eq!(former.status, StatusCode::OK);
    assert_eq!(member_ids(&former.body), sorted(vec![&alice.id, &bob.id, &dave.id]));
    let removed_at = former.body["last_seq"].as_i64().unwrap();
    app.send(&alice, &group, "after carol").await;
    let later = app.get(&format!("/api/conversations/{group}"), &carol).await;
    assert_eq!(later.body["last_seq"].as_i64(), Some(removed_at), "nothing after the removal");
    assert!(later.body["last_message"].is_null());
    let listed = app.get("/api/conversations", &carol).await;
    assert!(listed.body["conversations"].as_array().unwrap().iter().any(|c| c["id"] == group.as_str()));
    let post = app.post(&format!("/api/conversations/{group}/messages"), &carol, json!({"text": "hi"})).await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.delete(&format!("/api/conversations/{group}/members/{}", bob.id), &bob).await.status,
        StatusCode::NO_CONTENT
    );

    // The last admin leaving promotes the longest-standing member (dave is the only one left).
    assert_eq!(
        app.delete(&format!("/api/conversations/{group}/members/{}", alice.id), &alice).await.status,
        StatusCode::NO_CONTENT
    );
    let left = app.conversation(&dave, &group).await;
    assert_eq!(left["my_role"], "admin");
    assert_eq!(left["members"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_last_admin_leaving_promotes_the_longest_standing_member() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let group = app.group(&alice, "g", &[&bob]).await;
    app.post(&format!("/api/conversations/{group}/members"), &alice, json!({"user_ids": [carol.id]})).await;
    app.delete(&format!("/api/conversations/{group}/members/{}", alice.id), &alice).await;
    assert_eq!(app.conversation(&bob, &group).await["my_role"], "admin");
    assert_eq!(app.conversation(&carol, &group).await["my_role"], "member");
}

#[tokio::test]
async fn conversation_list_is_sorted_by_activity_with_unread_counts() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let with_bob = app.direct(&alice, &bob).await;
    let with_carol = app.direct(&alice, &carol).await;
    app.send(&bob, &with_bob, "one").await;
    app.send(&bob, &with_bob, "two").await;
    app.send(&carol, &with_carol, "three").await;
    let list = app.get("/api/conversations", &alice).await;
    let conversations = list.body["conversations"].as_array().unwrap();
    assert_eq!(conversations[0]["id"], with_carol.as_str(), "most recent activity first");
    assert_eq!(conversations[1]["unread_count"], 2);
    assert_eq!(conversations[0]["last_message"]["text"], "three");
    app.send(&bob, &with_bob, "four").await;
    let list = app.get("/api/conversations", &alice).await;
    assert_eq!(list.body["conversations"][0]["id"], with_bob.as_str());
    assert_eq!(list.body["conversations"][0]["unread_count"], 3);
}

#[tokio::test]
async fn marks_only_move_forward_and_are_clamped() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    for i in 0..3 {
        app.send(&bob, &chat, &format!("m{i}")).await;
    }
    let last_seq = app.conversation(&alice, &chat).await["last_seq"].as_i64().unwrap();
    assert_eq!(
        app.put(&format!("/api/conversations/{chat}/read"), &alice, json!({"seq": 3})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.conversation(&alice, &chat).await["unread_count"], 1);
    // Backwards is ignored, not an error.
    assert_eq!(
        app.put(&format!("/api/conversations/{chat}/read"), &alice, json!({"seq": 1})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.conversation(&alice, &chat).await["unread_count"], 1);
    // Beyond the end is clamped.
    app.put(&format!("/api/conversations/{chat}/read"), &alice, json!({"seq": 9999})).await;
    let view = app.conversation(&alice, &chat).await;
    assert_eq!(view["unread_count"], 0);
    let me = view["members"].as_array().unwrap().iter().find(|m| m["user"]["id"] == alice.id.as_str()).unwrap().clone();
    assert_eq!(me["read_seq"].as_i64(), Some(last_seq));
    assert_eq!(me["delivered_seq"].as_i64(), Some(last_seq), "read implies delivered");
    assert_eq!(
        app.put(&format!("/api/conversations/{chat}/read"), &alice, json!({"seq": -1})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.put(&format!("/api/conversations/{chat}/read"), &alice, json!({"seq": "x"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let stranger = app.register("eve").await;
    assert_eq!(
        app.put(&format!("/api/conversations/{chat}/delivered"), &stranger, json!({"seq": 1})).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_former_member_sees_the_group_as_it_was_when_they_left() {
    let app = spawn_app().await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let erin = app.register("erin").await;
    let group = app.group(&bob, "Climbing club", &[&carol, &dave]).await;
    let old_photo = app.set_group_photo(&bob, &group, "photo-medium.jpg").await;
    let removed = app.delete(&format!("/api/conversations/{group}/members/{}", dave.id), &bob).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let at_removal = app.conversation(&bob, &group).await;

    // Everything that changes afterwards: the name, the photo, the members (one added, one
    // leaving), and new messages.
    let renamed = app.put(&format!("/api/conversations/{group}/name"), &bob, json!({"name": "Bouldering"})).await;
    assert_eq!(renamed.status, StatusCode::OK);
    let new_photo = app.set_group_photo(&bob, &group, "screenshot.png").await;
    let added = app.post(&format!("/api/conversations/{group}/members"), &bob, json!({"user_ids": [erin.id]})).await;
    assert_eq!(added.status, StatusCode::OK);
    app.delete(&format!("/api/conversations/{group}/members/{}", carol.id), &carol).await;
    app.send(&bob, &group, "after dave").await;
    let now = app.conversation(&bob, &group).await;
    assert_eq!((now["name"].as_str(), now["photo_url"].as_str()), (Some("Bouldering"), Some(new_photo.as_str())));
    assert_eq!(member_ids(&now), sorted(vec![&bob.id, &erin.id]));

    let single = app.conversation(&dave, &group).await;
    let listed = app.get("/api/conversations", &dave).await;
    let in_list = listed.body["conversations"].as_array().unwrap().iter().find(|c| c["id"] == group.as_str()).cloned();
    for (how, view) in [("GET conversation", single), ("conversation list", in_list.expect("listed"))] {
        assert_eq!(view["name"], "Climbing club", "{how}");
        assert_eq!(view["photo_url"].as_str(), Some(old_photo.as_str()), "{how}");
        assert_eq!(member_ids(&view), sorted(vec![&bob.id, &carol.id]), "{how}: the members when dave left");
        assert_eq!(view["last_seq"], at_removal["last_seq"], "{how}");
        assert_eq!(view["updated_at"], at_removal["updated_at"], "{how}");
        assert!(view["last_message"].is_null(), "{how}");
        assert_eq!(view["unread_count"], 0, "{how}");
    }
}

#[tokio::test]
async fn group_events_say_who_made_the_change_live_and_in_the_event_log() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let group = app.group(&alice, "Club", &[&bob, &carol]).await;
    let mut bob_ws = app.ws(&bob).await;

    app.put(&format!("/api/conversations/{group}/name"), &alice, json!({"name": "Bouldering"})).await;
    let renamed = bob_ws.next_of("conversation.updated").await;
    assert_eq!(
        (renamed["actor_id"].as_str(), renamed["data"]["name"].as_str()),
        (Some(&*alice.id), Some("Bouldering"))
    );
    app.post(&format!("/api/conversations/{group}/members"), &alice, json!({"user_ids": [dave.id]})).await;
    let added = bob_ws.next_of("member.added").await;
    assert_eq!(added["actor_id"].as_str(), Some(&*alice.id), "alice added dave");
    app.delete(&format!("/api/conversations/{group}/members/{}", carol.id), &carol).await;
    let left = bob_ws.next_of("member.removed").await;
    assert_eq!((left["actor_id"].as_str(), left["data"]["user_id"].as_str()), (Some(&*carol.id), Some(&*carol.id)));
    app.delete(&format!("/api/conversations/{group}/members/{}", dave.id), &alice).await;
    let removed = bob_ws.next_of("member.removed").await;
    assert_eq!(
        (removed["actor_id"].as_str(), removed["data"]["user_id"].as_str()),
        (Some(&*alice.id), Some(&*dave.id))
    );

    // A device that was away reads the same from the event log.
    let log = app.get(&format!("/api/conversations/{group}/events?after=0"), &bob).await;
    let said: Vec<(String, Option<String>)> = log.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["actor_id"].as_str().map(str::to_owned)))
        .collect();
    let by = |user: &crate::helpers::TestUser| Some(user.id.clone());
    assert_eq!(
        said,
        vec![
            ("conversation.created".to_owned(), None),
            ("conversation.updated".to_owned(), by(&alice)),
            ("member.added".to_owned(), by(&alice)),
            ("member.removed".to_owned(), by(&carol)),
            ("member.removed".to_owned(), by(&alice)),
        ]
    );
}
