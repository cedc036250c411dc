//! Rooms (standalone channels), the directory, joining with and without a password, topics,
//! roles and deleting a conversation, as the contract's role table says.

use crate::helpers::{TestApp, TestUser, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A new room by `owner`; `extra` adds fields (topic, password, member_ids).
async fn room(app: &TestApp, owner: &TestUser, visibility: &str, extra: Value) -> Value {
    let mut body = json!({"kind": "channel", "name": "Chess club", "visibility": visibility});
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    let reply = app.post("/api/conversations", owner, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "room: {}", reply.body);
    reply.body
}

fn id(conversation: &Value) -> String {
    conversation["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_room_is_created_with_its_creator_as_owner() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let created = room(&app, &alice, "public", json!({"topic": "  openings ", "member_ids": [bob.id]})).await;
    assert_eq!((created["kind"].as_str(), created["my_role"].as_str()), (Some("channel"), Some("owner")));
    assert_eq!((created["visibility"].as_str(), created["topic"].as_str()), (Some("public"), Some("openings")));
    assert_eq!((created["has_password"].as_bool(), created["member_count"].as_i64()), (Some(false), Some(2)));
    assert!(created["space_id"].is_null() && created.get("space_id").is_some());
    assert_eq!(app.conversation(&bob, &id(&created)).await["my_role"], "member");

    // Groups carry the new fields too.
    let group = app.group(&alice, "g", &[&bob]).await;
    let group = app.conversation(&alice, &group).await;
    assert_eq!((group["visibility"].as_str(), group["topic"].as_str()), (Some("private"), Some("")));
    assert_eq!((group["has_password"].as_bool(), group["member_count"].as_i64()), (Some(false), Some(2)));
    assert_eq!(group["my_role"], "admin");

    for (body, field) in [
        (json!({"kind": "channel", "name": "r"}), "visibility"),
        (json!({"kind": "channel", "name": "r", "visibility": "private", "password": "long enough"}), "password"),
        (json!({"kind": "channel", "name": "r", "visibility": "public", "password": "short"}), "password"),
        (json!({"kind": "channel", "name": "r", "visibility": "public", "topic": "t".repeat(251)}), "topic"),
        (json!({"name": "g", "member_ids": [], "topic": "t"}), "topic"),
        (json!({"name": "g"}), "member_ids"),
    ] {
        let reply = app.post("/api/conversations", &alice, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.body);
        assert_eq!(reply.body["error"]["field"], field, "{body}");
    }
    let reply = app.post("/api/conversations", &alice, json!({"kind": "direct", "name": "x", "member_ids": []})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_directory_shows_public_rooms_to_everyone_and_private_ones_to_nobody() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let carol = app.register("carol").await;
    let public = id(&room(&app, &alice, "public", json!({})).await);
    let private = id(&room(&app, &alice, "private", json!({})).await);
    app.group(&alice, "Chess group", &[]).await;

    let listed = app.get("/api/rooms", &carol).await;
    assert_eq!(listed.status, StatusCode::OK);
    let rooms = listed.body["rooms"].as_array().unwrap();
    assert_eq!(rooms.iter().map(|r| r["id"].as_str().unwrap()).collect::<Vec<_>>(), [public.as_str()]);
    assert!(rooms[0]["my_role"].is_null() && rooms[0]["members"].as_array().unwrap().is_empty());
    assert_eq!(rooms[0]["member_count"], 1);
    assert_eq!(app.get("/api/rooms?q=CHESS", &carol).await.body["rooms"].as_array().unwrap().len(), 1);
    assert!(app.get("/api/rooms?q=draughts", &carol).await.body["rooms"].as_array().unwrap().is_empty());
    assert_eq!(app.get("/api/rooms?q=chess", &alice).await.body["rooms"][0]["my_role"], "owner");
    assert_eq!(app.get("/api/rooms?limit=0", &carol).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // May see is not is a member: the entry, but no history.
    let seen = app.get(&format!("/api/conversations/{public}"), &carol).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body["my_role"].is_null());
    for path in [format!("/api/conversations/{public}/messages"), format!("/api/conversations/{public}/events?after=0")]
    {
        assert_eq!(app.get(&path, &carol).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let reply = app.post(&format!("/api/conversations/{public}/messages"), &carol, json!({"text": "hi"})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/api/conversations/{private}"), &carol).await.status, StatusCode::NOT_FOUND);
    assert!(app.get("/api/conversations", &carol).await.body["conversations"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn anyone_joins_a_public_room_and_nobody_a_private_one() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let public = id(&room(&app, &alice, "public", json!({})).await);
    let private = id(&room(&app, &alice, "private", json!({})).await);
    let group = app.group(&alice, "g", &[]).await;
    let mut alice_ws = app.ws(&alice).await;
    let mut bob_ws = app.ws(&bob).await;

    let joined = app.post(&format!("/api/conversations/{public}/join"), &bob, json!({})).await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
    assert_eq!((joined.body["my_role"].as_str(), joined.body["member_count"].as_i64()), (Some("member"), Some(2)));
    let added = alice_ws.next_of("member.added").await;
    assert_eq!((added["data"]["user"]["id"].as_str(), added["seq"].as_i64()), (Some(bob.id.as_str()), Some(2)));
    assert_eq!(bob_ws.next_of("conversation.created").await["conversation_id"], public.as_str());
    let again = app.post(&format!("/api/conversations/{public}/join"), &bob, json!({})).await;
    assert_eq!((again.status, again.body["last_seq"].as_i64()), (StatusCode::OK, Some(2)), "nothing changes");
    app.send(&bob, &public, "hello").await;

    for closed in [&private, &group] {
        let reply = app.post(&format!("/api/conversations/{closed}/join"), &bob, json!({})).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "not_found"));
    }
    // A member removed from a public room may come back; from a private one, not.
    app.delete(&format!("/api/conversations/{public}/members/{}", bob.id), &alice).await;
    let back = app.post(&format!("/api/conversations/{public}/join"), &bob, json!({})).await;
    assert_eq!(back.status, StatusCode::OK);
}

#[tokio::test]
async fn password_rooms_ask_for_it_and_throttle_wrong_ones() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let created = room(&app, &alice, "public", json!({"password": "open sesame"})).await;
    assert_eq!(created["has_password"], true);
    let join = format!("/api/conversations/{}/join", id(&created));

    let missing = app.post(&join, &bob, json!({})).await;
    assert_eq!((missing.status, missing.code()), (StatusCode::FORBIDDEN, "forbidden"));
    for _ in 0..5 {
        let wrong = app.post(&join, &bob, json!({"password": "open barley"})).await;
        assert_eq!((wrong.status, wrong.code()), (StatusCode::FORBIDDEN, "forbidden"));
    }
    let throttled = app.post(&join, &bob, json!({"password": "open sesame"})).await;
    assert_eq!((throttled.status, throttled.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert!(throttled.headers.get("retry-after").is_some());
    // Per user and room: carol is not slowed by bob's guesses.
    let right = app.post(&join, &carol, json!({"password": "open sesame"})).await;
    assert_eq!((right.status, right.body["my_role"].as_str()), (StatusCode::OK, Some("member")));

    // Only the owner changes it, only on a public room.
    let password = format!("/api/conversations/{}/password", id(&created));
    assert_eq!(app.put(&password, &carol, json!({"password": null})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.put(&password, &bob, json!({"password": null})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.put(&password, &alice, json!({"password": "x"})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let cleared = app.put(&password, &alice, json!({"password": null})).await;
    assert_eq!((cleared.status, cleared.body["has_password"].as_bool()), (StatusCode::OK, Some(false)));
    let dave = app.register("dave").await;
    assert_eq!(app.post(&join, &dave, json!({})).await.status, StatusCode::OK);
    let private = id(&room(&app, &alice, "private", json!({})).await);
    let reply =
        app.put(&format!("/api/conversations/{private}/password"), &alice, json!({"password": "long enough"})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn roles_follow_the_contract_table() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let stranger = app.register("erin").await;
    let room = id(&room(&app, &alice, "private", json!({"member_ids": [bob.id, carol.id, dave.id]})).await);
    let role = |user: &TestUser| format!("/api/conversations/{room}/members/{}/role", user.id);
    let mut carol_ws = app.ws(&carol).await;

    // Members change nobody's role; strangers see nothing.
    assert_eq!(app.put(&role(&dave), &carol, json!({"role": "admin"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.put(&role(&dave), &stranger, json!({"role": "admin"})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.put(&role(&stranger), &alice, json!({"role": "admin"})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.put(&role(&dave), &alice, json!({"role": "boss"})).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The owner makes bob an admin: every member hears member.updated.
    assert_eq!(app.put(&role(&bob), &alice, json!({"role": "admin"})).await.status, StatusCode::NO_CONTENT);
    let updated = carol_ws.next_of("member.updated").await;
    assert_eq!(updated["data"], json!({"user_id": bob.id, "role": "admin"}));
    assert!(updated["seq"].as_i64().is_some());
    // Admins move people between member and admin, and no further.
    assert_eq!(app.put(&role(&carol), &bob, json!({"role": "admin"})).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.put(&role(&carol), &bob, json!({"role": "member"})).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.put(&role(&carol), &bob, json!({"role": "owner"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.put(&role(&alice), &bob, json!({"role": "member"})).await.status, StatusCode::FORBIDDEN);
    // Managing: admins rename, set the topic, remove members (not the owner), delete others' messages.
    let name = format!("/api/conversations/{room}/name");
    assert_eq!(app.put(&name, &carol, json!({"name": "x"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.put(&name, &bob, json!({"name": "Chess"})).await.status, StatusCode::OK);
    let topic = format!("/api/conversations/{room}/topic");
    assert_eq!(app.put(&topic, &carol, json!({"topic": "x"})).await.status, StatusCode::FORBIDDEN);
    let set = app.put(&topic, &bob, json!({"topic": "Sundays"})).await;
    assert_eq!((set.status, set.body["topic"].as_str()), (StatusCode::OK, Some("Sundays")));
    assert_eq!(app.put(&topic, &bob, json!({"topic": "t".repeat(251)})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = app.send(&carol, &room, "spam").await;
    let delete = format!("/api/conversations/{room}/messages/{}", message["id"].as_str().unwrap());
    assert_eq!(app.delete(&delete, &dave).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.delete(&delete, &bob).await.status, StatusCode::NO_CONTENT);
    let remove = |user: &TestUser| format!("/api/conversations/{room}/members/{}", user.id);
    assert_eq!(app.delete(&remove(&alice), &bob).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.delete(&remove(&bob), &carol).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.delete(&remove(&dave), &bob).await.status, StatusCode::NO_CONTENT);

    // The owner cannot leave the room without one (409), but hands it over.
    assert_eq!(app.put(&role(&alice), &alice, json!({"role": "admin"})).await.status, StatusCode::CONFLICT);
    assert_eq!(app.put(&role(&carol), &alice, json!({"role": "owner"})).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.conversation(&carol, &room).await["my_role"], "owner");
    assert_eq!(app.conversation(&alice, &room).await["my_role"], "admin");

    // Groups have no owner; direct chats no roles.
    let group = app.group(&alice, "g", &[&bob]).await;
    let group_role = format!("/api/conversations/{group}/members/{}/role", bob.id);
    assert_eq!(app.put(&group_role, &alice, json!({"role": "owner"})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.put(&group_role, &bob, json!({"role": "admin"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.put(&group_role, &alice, json!({"role": "admin"})).await.status, StatusCode::NO_CONTENT);
    let direct = app.direct(&alice, &bob).await;
    let direct_role = format!("/api/conversations/{direct}/members/{}/role", bob.id);
    assert_eq!(app.put(&direct_role, &alice, json!({"role": "admin"})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let direct_topic = format!("/api/conversations/{direct}/topic");
    assert_eq!(app.put(&direct_topic, &alice, json!({"topic": "x"})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_owner_leaving_hands_the_room_to_the_longest_standing_admin() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = id(&room(&app, &alice, "public", json!({"member_ids": [bob.id, carol.id]})).await);
    let role = format!("/api/conversations/{room}/members/{}/role", carol.id);
    assert_eq!(app.put(&role, &alice, json!({"role": "admin"})).await.status, StatusCode::NO_CONTENT);
    let leave = app.delete(&format!("/api/conversations/{room}/members/{}", alice.id), &alice).await;
    assert_eq!(leave.status, StatusCode::NO_CONTENT);
    assert_eq!(app.conversation(&carol, &room).await["my_role"], "owner");
    assert_eq!(app.conversation(&bob, &room).await["my_role"], "member");
}

#[tokio::test]
async fn deleting_a_conversation_tells_its_members_and_hides_it_from_everyone() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = id(&room(&app, &alice, "public", json!({"member_ids": [bob.id]})).await);
    app.send(&bob, &room, "hello").await;
    let mut bob_ws = app.ws(&bob).await;
    let mut bob_phone = app.ws(&app.login(&bob).await).await;

    let path = format!("/api/conversations/{room}");
    assert_eq!(app.delete(&path, &bob).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.delete(&path, &app.register("carol").await).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&path, &alice).await.status, StatusCode::NO_CONTENT);
    for ws in [&mut bob_ws, &mut bob_phone] {
        let deleted = ws.next_of("conversation.deleted").await;
        assert_eq!((deleted["conversation_id"].as_str(), deleted["seq"].as_i64()), (Some(room.as_str()), Some(3)));
        assert_eq!(deleted["data"]["deleted_by"], alice.id.as_str());
    }
    for who in [&alice, &bob] {
        assert_eq!(app.get(&path, who).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&format!("{path}/messages"), who).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&format!("{path}/events?after=0"), who).await.status, StatusCode::NOT_FOUND);
        assert!(app.get("/api/conversations", who).await.body["conversations"].as_array().unwrap().is_empty());
    }
    assert!(app.get("/api/rooms", &bob).await.body["rooms"].as_array().unwrap().is_empty());
    assert_eq!(app.delete(&path, &alice).await.status, StatusCode::NOT_FOUND);

    // Groups: their admins delete them; direct chats cannot be deleted for everyone.
    let group = app.group(&alice, "g", &[&bob]).await;
    assert_eq!(app.delete(&format!("/api/conversations/{group}"), &bob).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.delete(&format!("/api/conversations/{group}"), &alice).await.status, StatusCode::NO_CONTENT);
    let direct = app.direct(&alice, &bob).await;
    let reply = app.delete(&format!("/api/conversations/{direct}"), &alice).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Two nodes on one database and one bus: a join, a role change and the deletion made
/// through node A reach Bob's socket on node B, in seq order.
#[tokio::test]
async fn room_events_reach_sockets_on_the_other_node() {
    let bus = hubbub_app::realtime::LocalBus::new();
    let other = bus.join();
    let (node_a, node_b) = crate::helpers::spawn_cluster(std::sync::Arc::new(bus), std::sync::Arc::new(other)).await;
    let alice = node_a.register("alice").await;
    let bob = node_a.register("bob").await;
    let carol = node_a.register("carol").await;
    let room = id(&room(&node_a, &alice, "public", json!({"member_ids": [bob.id]})).await);
    let mut bob_on_b = node_b.ws(&bob).await;
    assert_eq!(node_a.post(&format!("/api/conversations/{room}/join"), &carol, json!({})).await.status, StatusCode::OK);
    let role = format!("/api/conversations/{room}/members/{}/role", carol.id);
    assert_eq!(node_a.put(&role, &alice, json!({"role": "admin"})).await.status, StatusCode::NO_CONTENT);
    assert_eq!(node_a.delete(&format!("/api/conversations/{room}"), &alice).await.status, StatusCode::NO_CONTENT);
    for (seq, kind) in [(2, "member.added"), (3, "member.updated"), (4, "conversation.deleted")] {
        let event = bob_on_b.next().await;
        assert_eq!((event["type"].as_str(), event["seq"].as_i64()), (Some(kind), Some(seq)), "{event}");
    }
}

/// Wrong room passwords count on every node: three through node A and two through node B
/// use up the user's five, wherever the sixth try lands.
#[tokio::test]
async fn wrong_room_passwords_count_across_nodes() {
    let bus = hubbub_app::realtime::LocalBus::new();
    let other = bus.join();
    let (node_a, node_b) = crate::helpers::spawn_cluster(std::sync::Arc::new(bus), std::sync::Arc::new(other)).await;
    let alice = node_a.register("alice").await;
    let bob = node_a.register("bob").await;
    let join = format!(
        "/api/conversations/{}/join",
        id(&room(&node_a, &alice, "public", json!({"password": "open sesame"})).await)
    );
    for node in [&node_a, &node_a, &node_a, &node_b, &node_b] {
        assert_eq!(node.post(&join, &bob, json!({"password": "open barley"})).await.status, StatusCode::FORBIDDEN);
    }
    for node in [&node_a, &node_b] {
        let reply = node.post(&join, &bob, json!({"password": "open sesame"})).await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    }
}
