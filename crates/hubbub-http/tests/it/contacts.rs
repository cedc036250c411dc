//! Contacts with aliases, and blocking: success and refusal paths over HTTP and the socket.

use crate::helpers::{TestApp, Ws, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn contacts_keep_aliases_that_only_their_owner_sees() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let group = app.group(&alice, "club", &[&bob]).await;

    let reply = app.put(&format!("/api/contacts/{}", bob.id), &alice, json!({"alias": "  Bobby  "})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["alias"], "Bobby");
    assert_eq!(reply.body["user"]["id"], bob.id.as_str());
    let listed = app.get("/api/contacts", &alice).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["contacts"][0]["alias"], "Bobby");
    assert_eq!(app.get("/api/contacts", &bob).await.body, json!({"contacts": []}));
    // Listed by the name Alice sees: her alias, else the display name.
    let carol = app.register("carol").await;
    app.put(&format!("/api/contacts/{}", carol.id), &alice, json!({"alias": "Aunt C"})).await;
    let names = |body: Value| -> Vec<String> {
        body["contacts"].as_array().unwrap().iter().map(|c| c["alias"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(app.get("/api/contacts", &alice).await.body), ["Aunt C", "Bobby"]);
    app.delete(&format!("/api/contacts/{}", carol.id), &alice).await;

    // The owner sees the alias as the direct conversation's name; nobody else does.
    assert_eq!(app.conversation(&alice, &chat).await["name"], "Bobby");
    let list = app.get("/api/conversations", &alice).await.body;
    let names: Vec<&str> =
        list["conversations"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Bobby") && names.contains(&"club"), "{names:?}");
    assert_eq!(app.conversation(&bob, &chat).await["name"], "alice");
    assert_eq!(app.conversation(&alice, &group).await["name"], "club");

    // PUT replaces the contact: without an alias, the display name is back.
    let reply = app.put(&format!("/api/contacts/{}", bob.id), &alice, json!({})).await;
    assert_eq!((reply.status, reply.body["alias"].clone()), (StatusCode::OK, Value::Null));
    assert_eq!(app.conversation(&alice, &chat).await["name"], "bob");
    assert_eq!(app.delete(&format!("/api/contacts/{}", bob.id), &alice).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("/api/contacts/{}", bob.id), &alice).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/contacts", &alice).await.body, json!({"contacts": []}));
}

#[tokio::test]
async fn contact_requests_are_refused_with_the_right_codes() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let ghost = uuid::Uuid::now_v7();
    for reply in [
        app.put(&format!("/api/contacts/{ghost}"), &alice, json!({})).await,
        app.delete(&format!("/api/contacts/{ghost}"), &alice).await,
        app.put(&format!("/api/users/{ghost}/block"), &alice, json!({})).await,
        app.delete(&format!("/api/users/{ghost}/block"), &alice).await,
    ] {
        assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "not_found"), "{}", reply.body);
    }
    let me = app.put(&format!("/api/contacts/{}", alice.id), &alice, json!({})).await;
    assert_eq!((me.status, me.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    let me = app.put(&format!("/api/users/{}/block", alice.id), &alice, json!({})).await;
    assert_eq!(me.status, StatusCode::UNPROCESSABLE_ENTITY);
    let long = app.put(&format!("/api/contacts/{}", bob.id), &alice, json!({"alias": "x".repeat(65)})).await;
    assert_eq!((long.status, long.body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("alias")));
    let unknown = app.put(&format!("/api/contacts/{}", bob.id), &alice, json!({"nick": "b"})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let not_a_uuid = app.put("/api/contacts/bob", &alice, json!({})).await;
    assert_eq!((not_a_uuid.status, not_a_uuid.code()), (StatusCode::BAD_REQUEST, "bad_request"));
    let anonymous = app.call(reqwest::Method::GET, "/api/contacts", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_blocked_user_cannot_open_or_post_in_a_direct_chat_with_the_blocker() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let chat = app.direct(&alice, &bob).await;
    let group = app.group(&alice, "g", &[&bob]).await;
    app.direct(&carol, &bob).await;

    let reply = app.put(&format!("/api/users/{}/block", bob.id), &alice, json!({})).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(
        app.put(&format!("/api/users/{}/block", bob.id), &alice, json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    let blocks = app.get("/api/blocks", &alice).await;
    let users = blocks.body["users"].as_array().unwrap();
    assert_eq!((users.len(), users[0]["id"].as_str()), (1, Some(bob.id.as_str())));
    assert_eq!(app.get("/api/blocks", &bob).await.body, json!({"users": []}));

    let open = app.post(&format!("/api/users/{}/conversation", alice.id), &bob, json!({})).await;
    assert_eq!((open.status, open.code()), (StatusCode::FORBIDDEN, "forbidden"), "{}", open.body);
    let post = app.post(&format!("/api/conversations/{chat}/messages"), &bob, json!({"text": "hi"})).await;
    assert_eq!((post.status, post.code()), (StatusCode::FORBIDDEN, "forbidden"), "{}", post.body);
    // Nor can he forward into it: nothing is sent, not even to the other targets.
    let note = app.send(&bob, &group, "note").await;
    let forward = app
        .post(
            &format!("/api/conversations/{group}/messages/{}/forward", note["id"].as_str().unwrap()),
            &bob,
            json!({"conversation_ids": [group, chat]}),
        )
        .await;
    assert_eq!((forward.status, forward.code()), (StatusCode::FORBIDDEN, "forbidden"), "{}", forward.body);
    let history = app.get(&format!("/api/conversations/{group}/messages"), &bob).await.body;
    assert_eq!(history["messages"].as_array().unwrap().len(), 1, "no copy went to the group");
    // Bob still reads the chat; Alice may still write; a group stays open to both.
    assert_eq!(app.get(&format!("/api/conversations/{chat}/messages"), &bob).await.status, StatusCode::OK);
    app.send(&alice, &chat, "from the blocker").await;
    app.send(&bob, &group, "in the group").await;
    // Someone else may still open a chat with Bob.
    assert!(app.post(&format!("/api/users/{}/conversation", bob.id), &carol, json!({})).await.status.is_success());

    assert_eq!(app.delete(&format!("/api/users/{}/block", bob.id), &alice).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/blocks", &alice).await.body, json!({"users": []}));
    app.send(&bob, &chat, "unblocked").await;
    assert_eq!(
        app.post(&format!("/api/users/{}/conversation", alice.id), &bob, json!({})).await.status,
        StatusCode::OK
    );
}

/// The next event of `kind` on `ws` within `wait`, presence included (the helpers skip it).
async fn event_within(ws: &mut Ws, kind: &str, wait: Duration) -> Option<Value> {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.stream.next()).await.ok()??;
        if let Ok(Message::Text(text)) = frame {
            let value: Value = serde_json::from_str(&text).expect("events are JSON");
            if value["type"] == kind {
                return Some(value);
            }
        }
    }
}

async fn blocked_hears_no_presence_or_typing(blocker_node: &TestApp, blocked_node: &TestApp) {
    let alice = blocker_node.register("alice").await;
    let bob = blocker_node.register("bob").await;
    let carol = blocker_node.register("carol").await;
    let group = blocker_node.group(&alice, "g", &[&bob, &carol]).await;
    blocker_node.direct(&alice, &bob).await;
    blocker_node.put(&format!("/api/users/{}/block", bob.id), &alice, json!({})).await;
    let mut bob_ws = blocked_node.ws(&bob).await;
    let mut carol_ws = blocked_node.ws(&carol).await;
    // Carol's own arrival reaches Bob: he hears presence in general.
    let carols = presence_of(&mut bob_ws, &carol.id).await;
    assert_eq!(carols["data"]["online"], true);

    let mut alice_ws = blocker_node.ws(&alice).await;
    assert_eq!(presence_of(&mut carol_ws, &alice.id).await["data"]["online"], true);
    alice_ws.send_json(json!({"type": "typing", "conversation_id": group})).await;
    assert_eq!(carol_ws.next_of("typing").await["data"]["user_id"], alice.id.as_str());
    // Bob typing still reaches Alice: the block is hers, not his.
    bob_ws.send_json(json!({"type": "typing", "conversation_id": group})).await;
    assert_eq!(alice_ws.next_of("typing").await["data"]["user_id"], bob.id.as_str());
    // Nor does any answer show Bob her presence; Carol sees her online.
    let profile = format!("/api/users/{}", alice.id);
    assert_eq!(blocked_node.get(&profile, &carol).await.body["online"], true);
    let seen_by_bob = blocked_node.get(&profile, &bob).await.body;
    assert_eq!((seen_by_bob["online"].clone(), seen_by_bob["last_seen_at"].clone()), (json!(false), Value::Null));
    let members = blocked_node.conversation(&bob, &group).await["members"].clone();
    let her = members.as_array().unwrap().iter().find(|m| m["user"]["id"] == alice.id.as_str()).unwrap().clone();
    assert_eq!(her["user"]["online"], false);
    drop(alice_ws);
    assert_eq!(presence_of(&mut carol_ws, &alice.id).await["data"]["online"], false);
    hears_nothing_of(&mut bob_ws, &alice.id).await;

    // Blocked while Bob's devices believe she is online: they are told she is not.
    let mut alice_ws = blocker_node.ws(&alice).await;
    assert_eq!(presence_of(&mut carol_ws, &alice.id).await["data"]["online"], true);
    blocker_node.delete(&format!("/api/users/{}/block", bob.id), &alice).await;
    let back = presence_of(&mut bob_ws, &alice.id).await;
    assert_eq!(back["data"]["online"], true, "unblocked: her real presence");
    blocker_node.put(&format!("/api/users/{}/block", bob.id), &alice, json!({})).await;
    let hidden = presence_of(&mut bob_ws, &alice.id).await;
    assert_eq!((hidden["data"]["online"].clone(), hidden["data"]["last_seen_at"].clone()), (json!(false), Value::Null));
    alice_ws.send_json(json!({"type": "typing", "conversation_id": group})).await;
    assert_eq!(carol_ws.next_of("typing").await["data"]["user_id"], alice.id.as_str());
    // Everything Bob's socket got since: nothing of Alice's presence or typing.
    hears_nothing_of(&mut bob_ws, &alice.id).await;
}

/// The next `presence` event about `user` (others' presence may arrive late: the worker
/// announces in its own time).
async fn presence_of(ws: &mut Ws, user: &str) -> Value {
    loop {
        let event = event_within(ws, "presence", Duration::from_secs(5)).await.expect("a presence event");
        if event["data"]["user_id"] == user {
            return event;
        }
    }
}

/// Nothing of `user`'s presence or typing on `ws`, among all it got so far and for 500 ms.
async fn hears_nothing_of(ws: &mut Ws, user: &str) {
    let heard = frames_within(ws, Duration::from_millis(500)).await;
    let of_user: Vec<&Value> = heard
        .iter()
        .filter(|e| (e["type"] == "presence" || e["type"] == "typing") && e["data"]["user_id"] == user)
        .collect();
    assert!(of_user.is_empty(), "heard {of_user:?}");
}

/// Every event `ws` gets within `wait`.
async fn frames_within(ws: &mut Ws, wait: Duration) -> Vec<Value> {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + wait;
    let mut out = Vec::new();
    while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, ws.stream.next()).await {
        if let Ok(Message::Text(text)) = frame {
            out.push(serde_json::from_str(&text).expect("events are JSON"));
        }
    }
    out
}

#[tokio::test]
async fn a_blocked_user_hears_none_of_the_blockers_presence_or_typing() {
    let app = spawn_app().await;
    blocked_hears_no_presence_or_typing(&app, &app).await;
}

#[tokio::test]
async fn the_block_holds_across_nodes_on_nats() {
    let ((a, b), _bucket) = crate::cluster_presence::nats_nodes().await;
    let (a, b) = crate::helpers::spawn_cluster_with_presence(a, b).await;
    blocked_hears_no_presence_or_typing(&a, &b).await;
}

#[tokio::test]
async fn the_block_holds_across_nodes() {
    use hubbub_app::realtime::LocalBus;
    let bus = LocalBus::new();
    let other = bus.join();
    let (a, b) = crate::helpers::spawn_cluster(std::sync::Arc::new(bus), std::sync::Arc::new(other)).await;
    blocked_hears_no_presence_or_typing(&a, &b).await;
}
