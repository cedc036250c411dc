//! Mentions, pins and edit history over HTTP: `Message.mentions` and `pinned`,
//! `unread_mentions`, `/api/mentions`, pins and `/history`, with who may do what.

use crate::helpers::{TestApp, TestUser, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn ids(users: &[&TestUser]) -> Vec<Value> {
    users.iter().map(|u| json!(u.id)).collect()
}

fn sorted(values: &Value) -> Vec<String> {
    let mut list: Vec<String> = values.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    list.sort();
    list
}

async fn unread_mentions(app: &TestApp, user: &TestUser, chat: &str) -> i64 {
    let one = app.conversation(user, chat).await["unread_mentions"].as_i64().unwrap();
    let list = app.get("/api/conversations", user).await.body;
    let listed = list["conversations"].as_array().unwrap().iter().find(|c| c["id"] == chat).unwrap().clone();
    assert_eq!(listed["unread_mentions"].as_i64(), Some(one), "the list says the same");
    one
}

#[tokio::test]
async fn mentions_are_members_named_in_the_text_and_everyone_where_the_kind_allows() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let group = app.group(&alice, "team", &[&bob, &carol]).await;
    let mut bob_ws = app.ws(&bob).await;

    let sent = app.send(&alice, &group, "hi @Bob, @dave and `@carol`; mail bob@example.com").await;
    assert_eq!(sent["mentions"], json!([bob.id]), "dave is no member; code and addresses mention nobody");
    assert_eq!(sent["pinned"], false);
    let created = bob_ws.next_of("message.created").await;
    assert_eq!(created["data"]["mentions"], json!([bob.id]), "the event carries them");
    assert!(created["data"].get("unread_mentions").is_none());
    assert_eq!(unread_mentions(&app, &bob, &group).await, 1);
    assert_eq!(unread_mentions(&app, &carol, &group).await, 0);
    assert_eq!(unread_mentions(&app, &alice, &group).await, 0);

    let everyone = app.send(&carol, &group, "@channel please look").await;
    assert_eq!(sorted(&everyone["mentions"]), sorted(&Value::Array(ids(&[&alice, &bob, &carol]))));
    assert_eq!(unread_mentions(&app, &bob, &group).await, 2);
    assert_eq!(unread_mentions(&app, &alice, &group).await, 1);

    // Reading resets it; an edit resolves the mentions again.
    let seq = everyone["seq"].as_i64().unwrap();
    let read = app.put(&format!("/api/conversations/{group}/read"), &bob, json!({"seq": seq})).await;
    assert_eq!(read.status, StatusCode::NO_CONTENT);
    assert_eq!(unread_mentions(&app, &bob, &group).await, 0);
    let path = format!("/api/conversations/{group}/messages/{}", sent["id"].as_str().unwrap());
    let edited = app.patch(&path, &alice, json!({"text": "now @carol"})).await;
    assert_eq!((edited.status, edited.body["mentions"].clone()), (StatusCode::OK, json!([carol.id])));
    assert_eq!(unread_mentions(&app, &carol, &group).await, 1);

    // A direct chat has nobody to call at once: `@all` is a name there like any other.
    let chat = app.direct(&alice, &dave).await;
    assert_eq!(app.send(&alice, &chat, "@all hello").await["mentions"], json!([]));
    assert_eq!(app.send(&alice, &chat, "@all hello @DAVE.").await["mentions"], json!([dave.id]));
    assert_eq!(unread_mentions(&app, &dave, &chat).await, 1);
}

#[tokio::test]
async fn the_mentions_list_pages_back_and_shows_only_what_the_caller_may_see() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let group = app.group(&alice, "team", &[&bob]).await;
    let chat = app.direct(&alice, &bob).await;
    let first = app.send(&alice, &group, "@bob one").await;
    app.send(&bob, &group, "@bob myself").await;
    let second = app.send(&alice, &chat, "@bob two").await;
    let third = app.send(&alice, &group, "@all three").await;
    app.send(&alice, &group, "nothing for bob").await;

    let list = app.get("/api/mentions", &bob).await;
    assert_eq!(list.status, StatusCode::OK);
    let got = |body: &Value| body["messages"].as_array().unwrap().iter().map(|m| m["id"].clone()).collect::<Vec<_>>();
    assert_eq!(got(&list.body), vec![third["id"].clone(), second["id"].clone(), first["id"].clone()]);
    assert_eq!(list.body["has_more"], false);
    let page = app.get("/api/mentions?limit=2", &bob).await.body;
    assert_eq!((got(&page).len(), page["has_more"].clone()), (2, json!(true)));
    let before = second["id"].as_str().unwrap();
    let older = app.get(&format!("/api/mentions?before={before}"), &bob).await.body;
    assert_eq!(got(&older), vec![first["id"].clone()]);

    // A deleted message leaves the list; so does what a clear hides.
    let doomed = format!("/api/conversations/{chat}/messages/{}", second["id"].as_str().unwrap());
    assert_eq!(app.delete(&doomed, &alice).await.status, StatusCode::NO_CONTENT);
    assert_eq!(got(&app.get("/api/mentions", &bob).await.body).len(), 2);
    let cleared = app.post(&format!("/api/conversations/{group}/clear"), &bob, json!({})).await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    assert!(got(&app.get("/api/mentions", &bob).await.body).is_empty());

    // Bad input is a clear 4xx.
    let unknown = app.get(&format!("/api/mentions?before={}", uuid::Uuid::now_v7()), &bob).await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    assert_eq!(app.get("/api/mentions?before=12", &bob).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/api/mentions?limit=0", &bob).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.call(reqwest::Method::GET, "/api/mentions", None, None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pins_are_for_the_managers_and_both_people_of_a_direct_chat() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let group = app.group(&alice, "team", &[&bob]).await;
    let message = app.send(&bob, &group, "pin me").await;
    let msg = message["id"].as_str().unwrap();
    let pin = format!("/api/conversations/{group}/messages/{msg}/pin");
    let mut bob_ws = app.ws(&bob).await;

    let refused = app.put(&pin, &bob, json!(null)).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "forbidden"), "a group's members may not");
    assert_eq!(app.put(&pin, &eve, json!(null)).await.status, StatusCode::NOT_FOUND, "a stranger sees nothing");
    let before = app.conversation(&alice, &group).await["last_seq"].as_i64().unwrap();
    assert_eq!(app.put(&pin, &alice, json!(null)).await.status, StatusCode::NO_CONTENT);
    let updated = bob_ws.next_of("message.updated").await;
    assert_eq!((updated["seq"].as_i64(), updated["data"]["pinned"].clone()), (Some(before + 1), json!(true)));
    assert_eq!(app.put(&pin, &alice, json!(null)).await.status, StatusCode::NO_CONTENT, "again: nothing changes");
    bob_ws.assert_quiet().await;
    let pins = app.get(&format!("/api/conversations/{group}/pins"), &bob).await;
    assert_eq!((pins.status, pins.body["messages"][0]["id"].clone()), (StatusCode::OK, json!(msg)));
    assert_eq!(pins.body["messages"][0]["status"], "sent", "the caller's own message has its status");
    assert_eq!(app.get(&format!("/api/conversations/{group}/pins"), &eve).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&pin, &alice).await.status, StatusCode::NO_CONTENT);
    assert_eq!(bob_ws.next_of("message.updated").await["data"]["pinned"], false);
    assert!(
        app.get(&format!("/api/conversations/{group}/pins"), &bob).await.body["messages"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // In a direct chat either person may pin.
    let chat = app.direct(&alice, &bob).await;
    let hello = app.send(&alice, &chat, "hello").await;
    let direct_pin = format!("/api/conversations/{chat}/messages/{}/pin", hello["id"].as_str().unwrap());
    assert_eq!(app.put(&direct_pin, &bob, json!(null)).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/conversations/{chat}/pins"), &alice).await.body["messages"][0]["pinned"], true);

    // Unknown, malformed and deleted messages.
    let unknown = format!("/api/conversations/{chat}/messages/{}/pin", uuid::Uuid::now_v7());
    assert_eq!(app.put(&unknown, &bob, json!(null)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.put(&format!("/api/conversations/{chat}/messages/nope/pin"), &bob, json!(null)).await.status,
        StatusCode::BAD_REQUEST
    );
    let doomed = format!("/api/conversations/{chat}/messages/{}", hello["id"].as_str().unwrap());
    assert_eq!(app.delete(&doomed, &alice).await.status, StatusCode::NO_CONTENT);
    let gone = app.put(&direct_pin, &bob, json!(null)).await;
    assert_eq!((gone.status, gone.code()), (StatusCode::CONFLICT, "conflict"));
    assert!(
        app.get(&format!("/api/conversations/{chat}/pins"), &alice).await.body["messages"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn edits_keep_the_earlier_versions_for_whoever_may_see_the_message() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let chat = app.direct(&alice, &bob).await;
    let message = app.send(&alice, &chat, "helo").await;
    let path = format!("/api/conversations/{chat}/messages/{}", message["id"].as_str().unwrap());
    let history = format!("{path}/history");
    assert_eq!(app.get(&history, &bob).await.body, json!({"versions": []}));
    let first = app.patch(&path, &alice, json!({"text": "hello"})).await.body;
    app.patch(&path, &alice, json!({"text": "hello!"})).await;
    let versions = app.get(&history, &bob).await;
    assert_eq!(versions.status, StatusCode::OK);
    assert_eq!(
        versions.body["versions"],
        json!([{"text": "helo", "edited_at": null}, {"text": "hello", "edited_at": first["edited_at"]}])
    );
    assert_eq!(app.get(&history, &eve).await.status, StatusCode::NOT_FOUND);
    let unknown = format!("/api/conversations/{chat}/messages/{}/history", uuid::Uuid::now_v7());
    assert_eq!(app.get(&unknown, &bob).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/api/conversations/{chat}/messages/x/history"), &bob).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.delete(&path, &alice).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&history, &bob).await.body, json!({"versions": []}), "a delete takes the history too");
}
