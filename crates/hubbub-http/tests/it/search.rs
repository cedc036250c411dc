//! `GET /api/search` over HTTP: results with snippets, newest first, paged by cursor;
//! only what the caller may see; filters; every bad parameter a 400 naming it.

use crate::helpers::{TestApp, TestUser, photo_form, sample, spawn_app, upload};
use reqwest::StatusCode;
use serde_json::Value;

async fn search(app: &TestApp, user: &TestUser, query: &str) -> Value {
    let reply = app.get(&format!("/api/search?{query}"), user).await;
    assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
    reply.body
}

fn texts(body: &Value) -> Vec<String> {
    body["results"].as_array().unwrap().iter().map(|r| r["message"]["text"].as_str().unwrap().to_owned()).collect()
}

/// Percent-encodes every byte but letters and digits.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn results_come_newest_first_with_marked_snippets_and_pages() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let first = app.send(&alice, &chat, "Hello <b>world</b> & friends").await;
    app.send(&bob, &chat, "unrelated").await;
    let second = app.send(&bob, &chat, "hello again, Café time").await;

    let body = search(&app, &alice, "q=hel").await;
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["message"]["id"], second["id"], "newest first");
    assert_eq!(results[0]["conversation_id"], chat.as_str());
    assert_eq!(results[1]["snippet"], "<mark>Hello</mark> &lt;b&gt;world&lt;/b&gt; &amp; friends");
    assert_eq!(results[1]["message"]["id"], first["id"]);
    assert_eq!(results[1]["message"]["status"], "sent", "my own message carries its status");
    assert!(results[0]["message"]["status"].is_null(), "others' messages do not");
    assert!(body["next_cursor"].is_null());
    let body = search(&app, &bob, &format!("q={}", enc("CAFE hello"))).await;
    assert_eq!(body["results"][0]["snippet"], "<mark>hello</mark> again, <mark>Café</mark> time");

    // Pages of one, by cursor, to the end.
    let page = search(&app, &alice, "q=hello&limit=1").await;
    assert_eq!(texts(&page), vec!["hello again, Café time"]);
    let cursor = page["next_cursor"].as_str().expect("a next page").to_owned();
    let page = search(&app, &alice, &format!("q=hello&limit=1&cursor={cursor}")).await;
    assert_eq!(texts(&page), vec!["Hello <b>world</b> & friends"]);
    assert!(page["next_cursor"].is_null(), "the last page says so");

    // Punctuation only finds nothing (and is no error).
    assert!(texts(&search(&app, &alice, &format!("q={}", enc("?!"))).await).is_empty());
}

#[tokio::test]
async fn only_what_the_caller_may_see_is_found() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let group = app.group(&alice, "team", &[&bob]).await;
    app.send(&alice, &group, "secret plan before carol").await;
    let added = app
        .post(&format!("/api/conversations/{group}/members"), &alice, serde_json::json!({"user_ids": [carol.id]}))
        .await;
    assert!(added.status.is_success(), "{}", added.body);
    let visible = app.send(&alice, &group, "secret plan with carol").await;
    assert_eq!(texts(&search(&app, &carol, "q=secret").await), vec!["secret plan with carol"]);
    assert!(texts(&search(&app, &app.register("dave").await, "q=secret").await).is_empty());

    // A deleted message leaves the results at once; an edit is found by its new words.
    let path = format!("/api/conversations/{group}/messages/{}", visible["id"].as_str().unwrap());
    let edited = app.patch(&path, &alice, serde_json::json!({"text": "public notice"})).await;
    assert_eq!(edited.status, StatusCode::OK);
    assert!(texts(&search(&app, &carol, "q=secret").await).is_empty());
    assert_eq!(texts(&search(&app, &carol, "q=notice").await), vec!["public notice"]);
    assert_eq!(app.delete(&path, &alice).await.status, StatusCode::NO_CONTENT);
    assert!(texts(&search(&app, &carol, "q=notice").await).is_empty());
}

#[tokio::test]
async fn filters_narrow_the_results() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let group = app.group(&alice, "team", &[&bob]).await;
    app.send(&alice, &chat, "sunset in the chat").await;
    app.send(&bob, &group, "sunset in the group").await;
    let form = photo_form(sample("orient-1.jpg"), "s.jpg").text("text", "sunset photo");
    let (status, photo) =
        upload(&app, reqwest::Method::POST, &format!("/api/conversations/{group}/messages"), &alice, form).await;
    assert_eq!(status, StatusCode::CREATED, "{photo}");

    assert_eq!(texts(&search(&app, &alice, "q=sunset").await).len(), 3);
    assert_eq!(
        texts(&search(&app, &alice, &format!("q=sunset&conversation_id={group}")).await),
        vec!["sunset photo", "sunset in the group"]
    );
    assert_eq!(
        texts(&search(&app, &alice, &format!("q=sunset&sender_id={}", bob.id)).await),
        vec!["sunset in the group"]
    );
    assert_eq!(texts(&search(&app, &alice, "q=sunset&has=photo").await), vec!["sunset photo"]);
    let at = photo["created_at"].as_str().unwrap();
    assert_eq!(texts(&search(&app, &alice, &format!("q=sunset&after={}", enc(at))).await), vec!["sunset photo"]);
    assert_eq!(texts(&search(&app, &alice, &format!("q=sunset&before={}", enc(at))).await).len(), 2);
    assert!(texts(&search(&app, &alice, "q=sunset&after=2999-01-01T00:00:00%2B02:00").await).is_empty());
}

#[tokio::test]
async fn bad_parameters_are_400_naming_them() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    app.send(&alice, &chat, "hello").await;
    let long = "x".repeat(201);
    let unknown_cursor = hubbub_app::search::encode_cursor(hubbub_app::ports::SearchCursor {
        created_at: hubbub_domain::Timestamp::now(),
        message: hubbub_domain::MessageId::generate(),
    });
    for (query, field) in [
        ("", Some("q")),
        ("q=%20%20", Some("q")),
        (&format!("q={long}") as &str, Some("q")),
        ("q=hello&limit=0", Some("limit")),
        ("q=hello&has=video", Some("has")),
        ("q=hello&after=yesterday", Some("after")),
        ("q=hello&before=2026-02-30T00:00:00Z", Some("before")),
        ("q=hello&cursor=garbage!", Some("cursor")),
        (&format!("q=hello&cursor={unknown_cursor}"), Some("cursor")),
        ("q=hello&limit=many", None),
        ("q=hello&conversation_id=not-a-uuid", None),
        ("q=hello&sender_id=42", None),
    ] {
        let reply = app.get(&format!("/api/search?{query}"), &alice).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}: {}", reply.body);
        assert_eq!(reply.code(), "bad_request", "{query}");
        if let Some(field) = field {
            assert_eq!(reply.body["error"]["field"], field, "{query}");
        }
    }
    let exactly = "x".repeat(200);
    search(&app, &alice, &format!("q={exactly}&limit=500")).await;
    let reply = app.call(reqwest::Method::GET, "/api/search?q=hello", None, None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}
