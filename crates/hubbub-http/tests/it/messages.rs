use crate::helpers::{TestApp, TestUser, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn status_of(page: &Value, id: &Value) -> String {
    page["messages"].as_array().unwrap().iter().find(|m| &m["id"] == id).unwrap()["status"]
        .as_str()
        .unwrap_or("null")
        .to_owned()
}

async fn status(app: &TestApp, user: &TestUser, chat: &str, id: &Value) -> String {
    status_of(&app.get(&format!("/api/conversations/{chat}/messages"), user).await.body, id)
}

#[tokio::test]
async fn send_history_and_paging() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let mut seqs = Vec::new();
    for i in 0..25 {
        seqs.push(
            app.send(if i % 2 == 0 { &alice } else { &bob }, &chat, &format!("message {i}")).await["seq"]
                .as_i64()
                .unwrap(),
        );
    }
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "message seqs follow each other: {seqs:?}");

    let newest = app.get(&format!("/api/conversations/{chat}/messages?limit=10"), &alice).await;
    let page = newest.body["messages"].as_array().unwrap();
    assert_eq!(page.len(), 10);
    assert_eq!(page[9]["text"], "message 24");
    assert!(page.windows(2).all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64()), "ascending");
    assert_eq!(newest.body["has_more"], true);

    // Page back to the start.
    let mut before = page[0]["seq"].as_i64().unwrap();
    let mut seen = 10;
    loop {
        let older = app.get(&format!("/api/conversations/{chat}/messages?before={before}&limit=10"), &alice).await;
        let messages = older.body["messages"].as_array().unwrap();
        seen += messages.len();
        if older.body["has_more"] == false {
            break;
        }
        before = messages[0]["seq"].as_i64().unwrap();
    }
    assert_eq!(seen, 25);

    let newer = app.get(&format!("/api/conversations/{chat}/messages?after={}&limit=200", seqs[20]), &bob).await;
    assert_eq!(newer.body["messages"].as_array().unwrap().len(), 4);
    assert_eq!(newer.body["has_more"], false);
    let clamped = app.get(&format!("/api/conversations/{chat}/messages?limit=5000"), &bob).await;
    assert_eq!(clamped.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/api/conversations/{chat}/messages?limit=0"), &bob).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.get(&format!("/api/conversations/{chat}/messages?limit=-1"), &bob).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get(&format!("/api/conversations/{chat}/messages?before=1&after=2"), &bob).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn bad_messages_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let chat = app.direct(&alice, &bob).await;
    let path = format!("/api/conversations/{chat}/messages");
    let before = app.conversation(&alice, &chat).await["last_seq"].clone();
    for (body, status) in [
        (json!({"text": ""}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"text": "x".repeat(4097)}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"text": 42}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"text": "hi", "bogus": true}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"text": "hi", "reply_to": "01a23345-0000-7000-8000-000000000000"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"text": "hi", "reply_to": "nope"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"text": "hi", "client_id": "x".repeat(65)}), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let reply = app.post(&path, &alice, body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
    }
    assert_eq!(app.send(&alice, &chat, &"é".repeat(4096)).await["text"].as_str().unwrap().chars().count(), 4096);
    let stranger = app.post(&path, &eve, json!({"text": "hi"})).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    assert_eq!(app.conversation(&alice, &chat).await["last_seq"].as_i64(), before.as_i64().map(|s| s + 1));
}

#[tokio::test]
async fn a_retried_send_with_the_same_client_id_is_stored_once() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let path = format!("/api/conversations/{chat}/messages");
    let first = app.post(&path, &alice, json!({"text": "hello", "client_id": "c-1"})).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let retry = app.post(&path, &alice, json!({"text": "hello", "client_id": "c-1"})).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.body["id"], first.body["id"]);
    assert_eq!(retry.body["seq"], first.body["seq"]);
    // The same client id from another sender is another message.
    let other = app.post(&path, &bob, json!({"text": "hello", "client_id": "c-1"})).await;
    assert_eq!(other.status, StatusCode::CREATED);
    let history = app.get(&path, &alice).await;
    assert_eq!(history.body["messages"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn edit_delete_reply_react_forward() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let chat = app.direct(&alice, &bob).await;
    let group = app.group(&alice, "g", &[&bob, &carol]).await;
    let original = app.send(&alice, &chat, "hello").await;
    let id = original["id"].as_str().unwrap();
    let base = format!("/api/conversations/{chat}/messages/{id}");

    let reply =
        app.post(&format!("/api/conversations/{chat}/messages"), &bob, json!({"text": "hi!", "reply_to": id})).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["reply_to"], json!({"id": id, "sender_id": alice.id, "text": "hello"}));

    let edited = app.patch(&base, &alice, json!({"text": "hello there"})).await;
    assert_eq!((edited.status, edited.body["text"].as_str()), (StatusCode::OK, Some("hello there")));
    assert!(edited.body["edited_at"].is_string());
    assert_eq!(app.patch(&base, &bob, json!({"text": "mine"})).await.status, StatusCode::FORBIDDEN);

    assert_eq!(
        app.put(&format!("{base}/reactions"), &bob, json!({"emoji": "👍"})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.put(&format!("{base}/reactions"), &alice, json!({"emoji": "👍"})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.put(&format!("{base}/reactions"), &bob, json!({"emoji": "❤️"})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.put(&format!("{base}/reactions"), &bob, json!({"emoji": "ok"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.put(&format!("{base}/reactions"), &bob, json!({"emoji": "👍👍"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let reactions = app.get(&format!("{base}/reactions"), &alice).await;
    assert_eq!(reactions.body["reactions"].as_array().unwrap().len(), 2, "one reaction per user: {}", reactions.body);
    let history = app.get(&format!("/api/conversations/{chat}/messages"), &alice).await;
    let message = history.body["messages"].as_array().unwrap().iter().find(|m| m["id"] == id).unwrap().clone();
    assert_eq!(
        message["reactions"],
        json!([{"emoji": "👍", "count": 1, "user_ids": [alice.id]}, {"emoji": "❤️", "count": 1, "user_ids": [bob.id]}])
    );
    assert_eq!(app.delete(&format!("{base}/reactions"), &bob).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("{base}/reactions"), &alice).await.body["reactions"].as_array().unwrap().len(), 1);

    let forwarded = app.post(&format!("{base}/forward"), &alice, json!({"conversation_ids": [group]})).await;
    assert_eq!(forwarded.status, StatusCode::CREATED);
    assert_eq!(forwarded.body["messages"][0]["forwarded"], true);
    assert_eq!(forwarded.body["messages"][0]["text"], "hello there");
    let outsider = app.register("dave").await;
    let dave_chat = app.direct(&outsider, &bob).await;
    assert_eq!(
        app.post(&format!("{base}/forward"), &alice, json!({"conversation_ids": [dave_chat]})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&format!("{base}/forward"), &alice, json!({"conversation_ids": []})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    assert_eq!(app.delete(&base, &bob).await.status, StatusCode::FORBIDDEN, "only the sender in a direct chat");
    assert_eq!(app.delete(&base, &alice).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&base, &alice).await.status, StatusCode::NO_CONTENT, "deleting twice is fine");
    let history = app.get(&format!("/api/conversations/{chat}/messages"), &bob).await;
    let tombstone = history.body["messages"].as_array().unwrap().iter().find(|m| m["id"] == id).unwrap().clone();
    assert_eq!((tombstone["deleted"].as_bool(), tombstone["text"].as_str()), (Some(true), Some("")));
    assert_eq!(tombstone["reactions"], json!([]));
    let reply_now =
        history.body["messages"].as_array().unwrap().iter().find(|m| m["id"] == reply.body["id"]).unwrap().clone();
    assert_eq!(reply_now["reply_to"]["text"], "", "a reply to a deleted message quotes nothing");
    assert_eq!(app.patch(&base, &alice, json!({"text": "undead"})).await.status, StatusCode::CONFLICT);
    assert_eq!(app.put(&format!("{base}/reactions"), &bob, json!({"emoji": "👍"})).await.status, StatusCode::CONFLICT);
    assert_eq!(
        app.patch(&format!("/api/conversations/{chat}/messages/not-a-uuid"), &alice, json!({"text": "x"})).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.patch(
            &format!("/api/conversations/{chat}/messages/01a23345-0000-7000-8000-000000000000"),
            &alice,
            json!({"text": "x"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // A group admin may delete anyone's message.
    let bobs = app.send(&bob, &group, "from bob").await;
    assert_eq!(
        app.delete(&format!("/api/conversations/{group}/messages/{}", bobs["id"].as_str().unwrap()), &carol)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete(&format!("/api/conversations/{group}/messages/{}", bobs["id"].as_str().unwrap()), &alice)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn unread_and_status_in_a_direct_chat() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let message = app.send(&alice, &chat, "hi").await;
    assert_eq!(message["status"], "sent");
    let seq = message["seq"].as_i64().unwrap();
    assert_eq!(app.conversation(&bob, &chat).await["unread_count"], 1);
    assert_eq!(app.conversation(&alice, &chat).await["unread_count"], 0, "own messages are never unread");
    assert_eq!(status(&app, &alice, &chat, &message["id"]).await, "sent");

    app.put(&format!("/api/conversations/{chat}/delivered"), &bob, json!({"seq": seq})).await;
    assert_eq!(status(&app, &alice, &chat, &message["id"]).await, "delivered");
    assert_eq!(status(&app, &bob, &chat, &message["id"]).await, "null", "status is only on one's own messages");

    app.put(&format!("/api/conversations/{chat}/read"), &bob, json!({"seq": seq})).await;
    assert_eq!(status(&app, &alice, &chat, &message["id"]).await, "read");
    assert_eq!(app.conversation(&bob, &chat).await["unread_count"], 0);
    assert_eq!(app.conversation(&alice, &chat).await["last_message"]["status"], "read");

    let receipts = app
        .get(&format!("/api/conversations/{chat}/messages/{}/receipts", message["id"].as_str().unwrap()), &alice)
        .await;
    assert_eq!(receipts.status, StatusCode::OK);
    let receipt = &receipts.body["receipts"][0];
    assert_eq!(receipt["user_id"], bob.id.as_str());
    assert!(receipt["delivered_at"].is_string() && receipt["read_at"].is_string());
    assert_eq!(
        app.get(&format!("/api/conversations/{chat}/messages/{}/receipts", message["id"].as_str().unwrap()), &bob)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn status_in_a_group_of_three_waits_for_everyone() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let group = app.group(&alice, "trio", &[&bob, &carol]).await;
    let message = app.send(&alice, &group, "hi all").await;
    let seq = message["seq"].as_i64().unwrap();
    app.put(&format!("/api/conversations/{group}/delivered"), &bob, json!({"seq": seq})).await;
    assert_eq!(status(&app, &alice, &group, &message["id"]).await, "sent", "carol has not received it yet");
    app.put(&format!("/api/conversations/{group}/delivered"), &carol, json!({"seq": seq})).await;
    assert_eq!(status(&app, &alice, &group, &message["id"]).await, "delivered");
    app.put(&format!("/api/conversations/{group}/read"), &bob, json!({"seq": seq})).await;
    assert_eq!(status(&app, &alice, &group, &message["id"]).await, "delivered", "carol has not read it yet");
    assert_eq!(app.conversation(&carol, &group).await["unread_count"], 1);
    app.put(&format!("/api/conversations/{group}/read"), &carol, json!({"seq": seq})).await;
    assert_eq!(status(&app, &alice, &group, &message["id"]).await, "read");
    let receipts = app
        .get(&format!("/api/conversations/{group}/messages/{}/receipts", message["id"].as_str().unwrap()), &alice)
        .await;
    assert_eq!(receipts.body["receipts"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn twenty_concurrent_senders_get_gapless_unique_seqs() {
    let app = std::sync::Arc::new(spawn_app().await);
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let first_seq = app.conversation(&alice, &chat).await["last_seq"].as_i64().unwrap() + 1;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let app = app.clone();
        let sender = if i % 2 == 0 { alice.clone() } else { bob.clone() };
        let chat = chat.clone();
        tasks.push(tokio::spawn(
            async move { app.send(&sender, &chat, &format!("c{i}")).await["seq"].as_i64().unwrap() },
        ));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (first_seq..first_seq + 20).collect::<Vec<_>>());
}

#[tokio::test]
async fn former_members_see_history_up_to_leaving_and_new_members_from_joining() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let group = app.group(&alice, "g", &[&bob]).await;
    let before = app.send(&alice, &group, "before carol").await;
    app.post(&format!("/api/conversations/{group}/members"), &alice, json!({"user_ids": [carol.id]})).await;
    let during = app.send(&alice, &group, "with carol").await;
    let carol_view = app.get(&format!("/api/conversations/{group}/messages"), &carol).await;
    let texts: Vec<&str> =
        carol_view.body["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["with carol"], "a new member sees messages from joining on");
    let early = format!("/api/conversations/{group}/messages/{}/reactions", before["id"].as_str().unwrap());
    assert_eq!(app.get(&early, &carol).await.status, StatusCode::NOT_FOUND);

    app.delete(&format!("/api/conversations/{group}/members/{}", bob.id), &bob).await;
    app.send(&alice, &group, "after bob left").await;
    let bob_view = app.get(&format!("/api/conversations/{group}/messages"), &bob).await;
    assert_eq!(bob_view.status, StatusCode::OK);
    let texts: Vec<&str> =
        bob_view.body["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["before carol", "with carol"]);
    assert_eq!(
        app.post(&format!("/api/conversations/{group}/messages"), &bob, json!({"text": "still here?"})).await.status,
        StatusCode::NOT_FOUND
    );
    let bob_events = app.get(&format!("/api/conversations/{group}/events?after=0"), &bob).await;
    let last = bob_events.body["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "member.removed", "a leaver's log ends at their removal");
    assert!(during["seq"].as_i64() < last["seq"].as_i64());
}
