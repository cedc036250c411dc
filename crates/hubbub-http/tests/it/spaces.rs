//! Spaces: creating them with their `general` channel, members and roles, the channels of
//! a space (browsing, joining, creating), and that strangers see nothing of a space.

use crate::helpers::{TestApp, TestUser, spawn_app};
use hubbub_app::ports::Bus;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// A new space by `owner` with `members`.
async fn space(app: &TestApp, owner: &TestUser, members: &[&TestUser]) -> Value {
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let reply = app
        .post("/api/spaces", owner, json!({"name": "Chess club", "description": "we play", "member_ids": ids}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "space: {}", reply.body);
    reply.body
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

async fn channels(app: &TestApp, user: &TestUser, space: &str) -> Vec<Value> {
    let reply = app.get(&format!("/api/spaces/{space}/channels"), user).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["channels"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_space_starts_with_general_and_its_members_in_it() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut bob_ws = app.ws(&bob).await;
    let created = space(&app, &alice, &[&bob]).await;
    assert_eq!((created["name"].as_str(), created["description"].as_str()), (Some("Chess club"), Some("we play")));
    assert_eq!((created["my_role"].as_str(), created["member_count"].as_i64()), (Some("owner"), Some(2)));
    assert!(created["photo_url"].is_null() && created["created_at"].is_string());
    let sid = id(&created);
    let event = bob_ws.next_of("space.created").await;
    assert_eq!(event["data"]["id"], sid.as_str());
    assert!(event.get("seq").is_none(), "space events carry no seq");

    let listed = app.get("/api/spaces", &bob).await;
    assert_eq!(listed.body["spaces"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["spaces"][0]["my_role"], "member");
    assert_eq!(app.get(&format!("/api/spaces/{sid}"), &bob).await.body["member_count"], 2);
    let members = app.get(&format!("/api/spaces/{sid}/members"), &bob).await.body;
    let roles: Vec<(&str, &str)> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user"]["username"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("alice", "owner"), ("bob", "member")]);

    let listed = channels(&app, &bob, &sid).await;
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0]["name"].as_str(), listed[0]["visibility"].as_str()), (Some("general"), Some("public")));
    assert_eq!((listed[0]["joined"].as_bool(), listed[0]["space_id"].as_str()), (Some(true), Some(sid.as_str())));
    let general = app.conversation(&bob, &id(&listed[0])).await;
    assert_eq!(general["space_id"], sid.as_str());
    // A space's channels are not in the server-wide room directory.
    assert!(app.get("/api/rooms", &bob).await.body["rooms"].as_array().unwrap().is_empty());

    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "s", "description": "d".repeat(251)}), "description"),
        (json!({"name": "s", "member_ids": [uuid::Uuid::now_v7()]}), "member_ids"),
    ] {
        let reply = app.post("/api/spaces", &alice, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.body);
        assert_eq!(reply.body["error"]["field"], field, "{body}");
    }
}

#[tokio::test]
async fn strangers_get_404_for_everything_of_a_space() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let carol = app.register("carol").await;
    let sid = id(&space(&app, &alice, &[]).await);
    let general = id(&channels(&app, &alice, &sid).await[0]);
    for path in
        [format!("/api/spaces/{sid}"), format!("/api/spaces/{sid}/members"), format!("/api/spaces/{sid}/channels")]
    {
        assert_eq!(app.get(&path, &carol).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let reply = app.post(&format!("/api/spaces/{sid}/members"), &carol, json!({"user_ids": [carol.id]})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply =
        app.post(&format!("/api/spaces/{sid}/channels"), &carol, json!({"name": "x", "visibility": "public"})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // Its public channels are open to its members only.
    assert_eq!(app.get(&format!("/api/conversations/{general}"), &carol).await.status, StatusCode::NOT_FOUND);
    let joined = app.post(&format!("/api/conversations/{general}/join"), &carol, json!({})).await;
    assert_eq!(joined.status, StatusCode::NOT_FOUND);
    assert!(app.get("/api/spaces", &carol).await.body["spaces"].as_array().unwrap().is_empty());
    assert_eq!(app.get("/api/spaces/not-a-uuid", &carol).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn admins_add_members_who_land_in_general_and_members_may_not() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let sid = id(&space(&app, &alice, &[&bob]).await);
    let path = format!("/api/spaces/{sid}/members");
    let refused = app.post(&path, &bob, json!({"user_ids": [carol.id]})).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let bad = app.post(&path, &alice, json!({"user_ids": [uuid::Uuid::now_v7()]})).await;
    assert_eq!((bad.status, bad.body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("user_ids")));
    assert_eq!(app.post(&path, &alice, json!({"user_ids": []})).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let mut bob_ws = app.ws(&bob).await;
    let mut carol_ws = app.ws(&carol).await;
    assert_eq!(app.post(&path, &alice, json!({"user_ids": [carol.id]})).await.status, StatusCode::NO_CONTENT);
    let added = bob_ws.next_of("space.member_added").await;
    assert_eq!(
        (added["data"]["space_id"].as_str(), added["data"]["member"]["user"]["id"].as_str()),
        (Some(sid.as_str()), Some(carol.id.as_str()))
    );
    carol_ws.next_of("conversation.created").await;
    assert_eq!(app.get(&format!("/api/spaces/{sid}"), &carol).await.body["my_role"], "member");
    let general = &channels(&app, &carol, &sid).await[0];
    assert_eq!(
        (general["name"].as_str(), general["joined"].as_bool(), general["member_count"].as_i64()),
        (Some("general"), Some(true), Some(3))
    );
    // Adding someone already in the space changes nothing.
    assert_eq!(app.post(&path, &alice, json!({"user_ids": [carol.id]})).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/spaces/{sid}"), &carol).await.body["member_count"], 3);
}

#[tokio::test]
async fn admins_create_channels_that_members_browse_and_join() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let dave = app.register("dave").await;
    let sid = id(&space(&app, &alice, &[&bob]).await);
    let path = format!("/api/spaces/{sid}/channels");
    let refused = app.post(&path, &bob, json!({"name": "news", "visibility": "public"})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    for (body, field) in [
        (json!({"name": "x"}), "visibility"),
        (json!({"name": "x", "visibility": "public", "member_ids": [dave.id]}), "member_ids"),
        (json!({"name": "x", "visibility": "public", "topic": "t".repeat(251)}), "topic"),
    ] {
        let reply = app.post(&path, &alice, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.body);
        assert_eq!(reply.body["error"]["field"], field, "{body}");
    }
    let unknown =
        app.post(&path, &alice, json!({"name": "x", "visibility": "public", "password": "long enough"})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "a space's channels take no password");

    let news = app.post(&path, &alice, json!({"name": "news", "visibility": "public", "topic": "what's new"})).await;
    assert_eq!(news.status, StatusCode::CREATED, "{}", news.body);
    assert_eq!((news.body["space_id"].as_str(), news.body["my_role"].as_str()), (Some(sid.as_str()), Some("owner")));
    let secret = app.post(&path, &alice, json!({"name": "staff", "visibility": "private"})).await.body;
    let with_bob =
        app.post(&path, &alice, json!({"name": "pairs", "visibility": "private", "member_ids": [bob.id]})).await.body;

    let seen: Vec<(String, bool)> = channels(&app, &bob, &sid)
        .await
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_owned(), c["joined"].as_bool().unwrap()))
        .collect();
    assert_eq!(seen, [("general".into(), true), ("news".into(), false), ("pairs".into(), true)]);
    assert_eq!(channels(&app, &alice, &sid).await.len(), 4);
    // A private channel of the space is 404 to a member who is not in it.
    let staff = id(&secret);
    assert_eq!(app.get(&format!("/api/conversations/{staff}"), &bob).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post(&format!("/api/conversations/{staff}/join"), &bob, json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    let joined = app.post(&format!("/api/conversations/{}/join", id(&news.body)), &bob, json!({})).await;
    assert_eq!((joined.status, joined.body["my_role"].as_str()), (StatusCode::OK, Some("member")));
    assert!(channels(&app, &bob, &sid).await[1]["joined"].as_bool().unwrap());
    assert_eq!(with_bob["member_count"], 2);
}

#[tokio::test]
async fn roles_change_as_the_table_says_and_ownership_is_handed_over() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let sid = id(&space(&app, &alice, &[&bob, &carol]).await);
    let role = |user: &TestUser| format!("/api/spaces/{sid}/members/{}/role", user.id);
    let my_role = |user: &TestUser| {
        let path = format!("/api/spaces/{sid}");
        let user = user.clone();
        let app = &app;
        async move { app.get(&path, &user).await.body["my_role"].as_str().unwrap().to_owned() }
    };
    assert_eq!(app.put(&role(&carol), &bob, json!({"role": "admin"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.put(&role(&bob), &alice, json!({"role": "admin"})).await.status, StatusCode::NO_CONTENT);
    assert_eq!(my_role(&bob).await, "admin");
    // An admin moves people between member and admin, never touching the owner.
    assert_eq!(app.put(&role(&carol), &bob, json!({"role": "admin"})).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.put(&role(&carol), &bob, json!({"role": "member"})).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.put(&role(&alice), &bob, json!({"role": "member"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.put(&role(&carol), &bob, json!({"role": "owner"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.put(&role(&alice), &alice, json!({"role": "member"})).await.status, StatusCode::CONFLICT);
    let stranger = app.register("dave").await;
    assert_eq!(app.put(&role(&stranger), &alice, json!({"role": "admin"})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.put(&role(&carol), &alice, json!({"role": "king"})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A handover: the old owner becomes an admin.
    assert_eq!(app.put(&role(&carol), &alice, json!({"role": "owner"})).await.status, StatusCode::NO_CONTENT);
    assert_eq!((my_role(&carol).await, my_role(&alice).await), ("owner".into(), "admin".into()));
    // Admins manage the space: rename it; members may not.
    let path = format!("/api/spaces/{sid}");
    let renamed = app.patch(&path, &alice, json!({"name": "Chess & Go", "description": ""})).await;
    assert_eq!((renamed.status, renamed.body["name"].as_str()), (StatusCode::OK, Some("Chess & Go")));
    assert_eq!(renamed.body["description"], "");
    let refused = app.put(&role(&bob), &carol, json!({"role": "member"})).await;
    assert_eq!(refused.status, StatusCode::NO_CONTENT);
    assert_eq!(app.patch(&path, &bob, json!({"name": "mine"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.patch(&path, &alice, json!({"name": ""})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.patch(&path, &stranger, json!({"name": "x"})).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn removal_from_a_space_removes_from_its_channels_and_leaving_is_me() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let sid = id(&space(&app, &alice, &[&bob, &carol]).await);
    let general = id(&channels(&app, &alice, &sid).await[0]);
    let news = app
        .post(
            &format!("/api/spaces/{sid}/channels"),
            &alice,
            json!({"name": "news", "visibility": "private", "member_ids": [bob.id]}),
        )
        .await
        .body;
    let member = |user: &TestUser| format!("/api/spaces/{sid}/members/{}", user.id);

    assert_eq!(app.delete(&member(&carol), &bob).await.status, StatusCode::FORBIDDEN, "a member removes nobody");
    let mut bob_ws = app.ws(&bob).await;
    assert_eq!(app.delete(&member(&bob), &alice).await.status, StatusCode::NO_CONTENT);
    let removed = bob_ws.next_of("space.member_removed").await;
    assert_eq!(removed["data"]["user_id"], bob.id.as_str());
    assert_eq!(app.get(&format!("/api/spaces/{sid}"), &bob).await.status, StatusCode::NOT_FOUND);
    for channel in [general.clone(), id(&news)] {
        let seen = app.get(&format!("/api/conversations/{channel}"), &alice).await.body;
        assert!(seen["members"].as_array().unwrap().iter().all(|m| m["user"]["id"] != bob.id.as_str()), "{channel}");
    }
    assert_eq!(app.delete(&member(&bob), &alice).await.status, StatusCode::NOT_FOUND, "not in it any more");

    // Leaving with `me`; the owner cannot leave without handing over.
    assert_eq!(app.delete(&format!("/api/spaces/{sid}/members/me"), &carol).await.status, StatusCode::NO_CONTENT);
    assert!(app.get("/api/spaces", &carol).await.body["spaces"].as_array().unwrap().is_empty());
    assert_eq!(app.delete(&format!("/api/spaces/{sid}/members/me"), &alice).await.status, StatusCode::CONFLICT);
    assert_eq!(app.delete(&format!("/api/spaces/{sid}/members/nobody"), &alice).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get(&format!("/api/spaces/{sid}"), &alice).await.body["member_count"], 1);
    // The channels' events say who: alice removed bob, carol left.
    let log = app.get(&format!("/api/conversations/{general}/events?after=0"), &alice).await.body;
    let removals: Vec<(&str, &str)> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "member.removed")
        .map(|e| (e["data"]["user_id"].as_str().unwrap(), e["actor_id"].as_str().unwrap()))
        .collect();
    assert_eq!(removals, [(&*bob.id, &*alice.id), (&*carol.id, &*carol.id)]);
}

#[tokio::test]
async fn deleting_a_space_deletes_its_channels_for_everyone() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let sid = id(&space(&app, &alice, &[&bob]).await);
    let general = id(&channels(&app, &alice, &sid).await[0]);
    let path = format!("/api/spaces/{sid}");
    assert_eq!(app.delete(&path, &bob).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.put(&format!("{path}/members/{}/role", bob.id), &alice, json!({"role": "admin"})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.delete(&path, &bob).await.status, StatusCode::FORBIDDEN, "only the owner deletes a space");

    let mut bob_ws = app.ws(&bob).await;
    assert_eq!(app.delete(&path, &alice).await.status, StatusCode::NO_CONTENT);
    let deleted = bob_ws.next_of("conversation.deleted").await;
    assert_eq!(deleted["conversation_id"], general.as_str());
    let gone = bob_ws.next_of("space.deleted").await;
    assert_eq!(
        (gone["data"]["space_id"].as_str(), gone["data"]["deleted_by"].as_str()),
        (Some(sid.as_str()), Some(alice.id.as_str()))
    );
    for user in [&alice, &bob] {
        assert_eq!(app.get(&path, user).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&format!("/api/conversations/{general}"), user).await.status, StatusCode::NOT_FOUND);
        assert!(app.get("/api/spaces", user).await.body["spaces"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_space_admin_manages_every_channel_of_the_space() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let sid = id(&space(&app, &alice, &[&bob, &carol]).await);
    let news = id(&app
        .post(&format!("/api/spaces/{sid}/channels"), &alice, json!({"name": "news", "visibility": "public"}))
        .await
        .body);
    for user in [&bob, &carol] {
        assert_eq!(app.post(&format!("/api/conversations/{news}/join"), user, json!({})).await.status, StatusCode::OK);
    }
    let topic = format!("/api/conversations/{news}/topic");
    assert_eq!(app.put(&topic, &bob, json!({"topic": "mine"})).await.status, StatusCode::FORBIDDEN, "a plain member");
    let role = format!("/api/spaces/{sid}/members/{}/role", bob.id);
    assert_eq!(app.put(&role, &alice, json!({"role": "admin"})).await.status, StatusCode::NO_CONTENT);
    // Bob is only a member of the channel, but administers the space.
    assert_eq!(app.conversation(&bob, &news).await["my_role"], "member");
    assert_eq!(app.put(&topic, &bob, json!({"topic": "mine"})).await.status, StatusCode::OK);
    let kick = format!("/api/conversations/{news}/members/{}", carol.id);
    assert_eq!(app.delete(&kick, &bob).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("/api/conversations/{news}"), &carol).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&format!("/api/conversations/{news}"), &bob).await.status, StatusCode::NO_CONTENT);

    // A private channel Bob was never invited to: as a space admin he finds it in the list
    // and joins it without an invitation, then manages it; Carol, a plain member, neither
    // sees it nor may join it.
    let staff = id(&app
        .post(&format!("/api/spaces/{sid}/channels"), &alice, json!({"name": "staff", "visibility": "private"}))
        .await
        .body);
    let listed = |list: Vec<Value>| list.iter().find(|c| c["id"] == staff.as_str()).map(|c| c["joined"].clone());
    assert_eq!(listed(channels(&app, &bob, &sid).await), Some(json!(false)));
    assert_eq!(listed(channels(&app, &carol, &sid).await), None);
    let join = format!("/api/conversations/{staff}/join");
    assert_eq!(app.post(&join, &carol, json!({})).await.status, StatusCode::NOT_FOUND);
    let joined = app.post(&join, &bob, json!({})).await;
    assert_eq!((joined.status, joined.body["my_role"].as_str()), (StatusCode::OK, Some("member")), "{}", joined.body);
    let rename = app.put(&format!("/api/conversations/{staff}/name"), &bob, json!({"name": "staff room"})).await;
    assert_eq!(rename.status, StatusCode::OK, "{}", rename.body);
}

/// Space events reach members on the other node of a cluster: created on node A, Bob's
/// socket on node B hears `space.created`, then the deletion (`conversation.deleted` of
/// `general`, `space.deleted`).
async fn space_events_cross_nodes((a, b): (Arc<dyn Bus>, Arc<dyn Bus>)) {
    let (node_a, node_b) = crate::helpers::spawn_cluster(a, b).await;
    let alice = node_a.register("alice").await;
    let bob = node_a.register("bob").await;
    let mut bob_on_b = node_b.ws(&bob).await;
    let sid = id(&space(&node_a, &alice, &[&bob]).await);
    assert_eq!(bob_on_b.next_of("space.created").await["data"]["id"], sid.as_str());
    assert_eq!(node_a.delete(&format!("/api/spaces/{sid}"), &alice).await.status, StatusCode::NO_CONTENT);
    bob_on_b.next_of("conversation.deleted").await;
    assert_eq!(bob_on_b.next_of("space.deleted").await["data"]["space_id"], sid.as_str());
}

#[tokio::test]
async fn space_events_reach_members_on_every_node() {
    let a = hubbub_app::realtime::LocalBus::new();
    let b = a.join();
    space_events_cross_nodes((Arc::new(a), Arc::new(b))).await;
}

#[tokio::test]
async fn space_events_reach_members_on_every_node_over_nats() {
    let url = std::env::var("HUBBUB_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let cluster = format!("spaces-{}", uuid::Uuid::now_v7().simple());
    let a = hubbub_bus_nats::NatsBus::connect(&url, &cluster).await.expect("a nats-server");
    let b = hubbub_bus_nats::NatsBus::connect(&url, &cluster).await.expect("a nats-server");
    space_events_cross_nodes((Arc::new(a), Arc::new(b))).await;
}

#[tokio::test]
async fn only_members_of_the_space_are_added_to_its_channels() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let dave = app.register("dave").await;
    let sid = id(&space(&app, &alice, &[&bob]).await);
    let general = id(&channels(&app, &alice, &sid).await[0]);
    let path = format!("/api/conversations/{general}/members");
    let refused = app.post(&path, &alice, json!({"user_ids": [dave.id]})).await;
    assert_eq!(
        (refused.status, refused.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("user_ids"))
    );
    assert_eq!(app.get(&format!("/api/conversations/{general}"), &dave).await.status, StatusCode::NOT_FOUND);
}
