//! Per-user chat settings (archive, pin, mute), synced to every device of the user only,
//! and clearing or hiding a chat for oneself.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::{Value, json};

const FOREVER: &str = "9999-12-31T23:59:59.999Z";

#[tokio::test]
async fn a_settings_change_reaches_every_device_of_the_user_and_nobody_else() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let alice_phone = app.login(&alice).await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    assert_eq!(
        app.conversation(&alice, &chat).await["settings"],
        json!({"archived": false, "pinned": false, "muted_until": null, "notify": "all"})
    );
    let mut laptop = app.ws(&alice).await;
    let mut phone = app.ws(&alice_phone).await;
    let mut bobs = app.ws(&bob).await;

    let reply = app
        .patch(
            &format!("/api/conversations/{chat}/settings"),
            &alice,
            json!({"archived": true, "muted_until": FOREVER}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let settings = json!({"archived": true, "pinned": false, "muted_until": FOREVER, "notify": "all"});
    assert_eq!(reply.body, settings);
    for socket in [&mut laptop, &mut phone] {
        let event = socket.next_of("settings.updated").await;
        assert_eq!(event["data"], json!({"conversation_id": chat, "settings": settings}));
        assert_eq!(event["conversation_id"], chat.as_str());
        assert!(event.get("seq").is_none(), "settings.updated is ephemeral");
    }
    bobs.assert_quiet().await;
    assert_eq!(app.conversation(&alice, &chat).await["settings"], settings);
    assert_eq!(app.conversation(&bob, &chat).await["settings"]["archived"], false, "the settings are Alice's own");

    // Unmute with null; a field left out stays as it is.
    let reply =
        app.patch(&format!("/api/conversations/{chat}/settings"), &alice_phone, json!({"muted_until": null})).await;
    assert_eq!(reply.body, json!({"archived": true, "pinned": false, "muted_until": null, "notify": "all"}));
    assert_eq!(laptop.next_of("settings.updated").await["data"]["settings"]["muted_until"], Value::Null);

    // Events carry no settings: one serialisation serves everyone.
    app.send(&bob, &chat, "hi").await;
    let created = phone.next_of("message.created").await;
    assert!(created["data"].get("settings").is_none());
}

#[tokio::test]
async fn a_new_message_brings_an_archived_chat_back_unless_it_is_muted() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let settings = format!("/api/conversations/{chat}/settings");
    app.patch(&settings, &bob, json!({"archived": true})).await;
    let mut bobs = app.ws(&bob).await;
    app.send(&alice, &chat, "are you there?").await;
    let back = bobs.next_of("settings.updated").await;
    assert_eq!(back["data"]["settings"]["archived"], false);
    assert_eq!(app.conversation(&bob, &chat).await["settings"]["archived"], false);

    // Muted (forever): it stays archived, and nothing is said.
    app.patch(&settings, &bob, json!({"archived": true, "muted_until": FOREVER})).await;
    bobs.next_of("settings.updated").await;
    app.send(&alice, &chat, "hello?").await;
    bobs.next_of("message.created").await;
    bobs.assert_quiet().await;
    let view = app.conversation(&bob, &chat).await;
    assert_eq!((view["settings"]["archived"].clone(), view["unread_count"].clone()), (json!(true), json!(2)));
    // The sender's own archive stays when they write.
    app.patch(&settings, &alice, json!({"archived": true})).await;
    app.send(&alice, &chat, "me again").await;
    assert_eq!(app.conversation(&alice, &chat).await["settings"]["archived"], true);
}

#[tokio::test]
async fn at_most_five_pinned_conversations_listed_first_in_the_order_pinned() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let mut chats = Vec::new();
    for i in 0..6 {
        let other = app.register(&format!("friend{i}")).await;
        let chat = app.direct(&alice, &other).await;
        app.send(&other, &chat, "hi").await;
        chats.push(chat);
    }
    for chat in [&chats[2], &chats[0], &chats[4], &chats[1], &chats[3]] {
        let reply = app.patch(&format!("/api/conversations/{chat}/settings"), &alice, json!({"pinned": true})).await;
        assert_eq!((reply.status, reply.body["pinned"].clone()), (StatusCode::OK, json!(true)));
    }
    let sixth = app.patch(&format!("/api/conversations/{}/settings", chats[5]), &alice, json!({"pinned": true})).await;
    assert_eq!((sixth.status, sixth.code()), (StatusCode::CONFLICT, "conflict"), "{}", sixth.body);
    let ids = |body: Value| -> Vec<String> {
        body["conversations"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
    };
    let order = ids(app.get("/api/conversations", &alice).await.body);
    assert_eq!(order, [2, 0, 4, 1, 3, 5].map(|i| chats[i].clone()));
    app.patch(&format!("/api/conversations/{}/settings", chats[0]), &alice, json!({"pinned": false})).await;
    let reply = app.patch(&format!("/api/conversations/{}/settings", chats[5]), &alice, json!({"pinned": true})).await;
    assert_eq!(reply.status, StatusCode::OK);
    let order = ids(app.get("/api/conversations", &alice).await.body);
    assert_eq!(order, [2, 4, 1, 3, 5, 0].map(|i| chats[i].clone()));
}

#[tokio::test]
async fn clearing_a_chat_is_for_the_caller_only_and_hide_lasts_until_the_next_message() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    app.send(&alice, &chat, "one").await;
    app.send(&alice, &chat, "two").await;
    let clear = format!("/api/conversations/{chat}/clear");
    // The body may be left out: a plain clear.
    let bare = app.call(reqwest::Method::POST, &clear, Some(&bob.token), None).await;
    assert_eq!(bare.status, StatusCode::NO_CONTENT, "{}", bare.body);
    let history = app.get(&format!("/api/conversations/{chat}/messages"), &bob).await.body;
    assert_eq!(history, json!({"messages": [], "has_more": false}));
    let events = app.get(&format!("/api/conversations/{chat}/events?after=0"), &bob).await.body;
    assert_eq!(events["events"], json!([]));
    let view = app.conversation(&bob, &chat).await;
    assert_eq!((view["unread_count"].clone(), view["last_message"].clone()), (json!(0), Value::Null));
    assert_eq!(
        app.get(&format!("/api/conversations/{chat}/messages"), &alice).await.body["messages"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Hidden: out of Bob's list (still there when asked for), back with the next message.
    assert_eq!(app.post(&clear, &bob, json!({"hide": true})).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/conversations", &bob).await.body["conversations"], json!([]));
    assert_eq!(app.get(&format!("/api/conversations/{chat}"), &bob).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/conversations", &alice).await.body["conversations"].as_array().unwrap().len(), 1);
    let three = app.send(&alice, &chat, "three").await;
    let list = app.get("/api/conversations", &bob).await.body;
    assert_eq!(list["conversations"][0]["id"], chat.as_str());
    assert_eq!(list["conversations"][0]["unread_count"], 1);
    assert_eq!(list["conversations"][0]["last_message"]["id"], three["id"]);
    let history = app.get(&format!("/api/conversations/{chat}/messages"), &bob).await.body;
    assert_eq!(history["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn notify_defaults_by_kind_and_is_the_users_own_choice() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let group = app.group(&alice, "team", &[&bob]).await;
    let room = app
        .post("/api/conversations", &alice, json!({"kind": "channel", "name": "lobby", "visibility": "public"}))
        .await;
    assert_eq!(room.status, StatusCode::CREATED, "{}", room.body);
    let room = room.body["id"].as_str().unwrap().to_owned();
    for (id, level) in [(&chat, "all"), (&group, "all"), (&room, "mentions")] {
        assert_eq!(app.conversation(&alice, id).await["settings"]["notify"], level, "{id}");
    }
    let mut phone = app.ws(&alice).await;
    let reply = app.patch(&format!("/api/conversations/{room}/settings"), &alice, json!({"notify": "all"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, json!({"archived": false, "pinned": false, "muted_until": null, "notify": "all"}));
    let event = phone.next_of("settings.updated").await;
    assert_eq!(event["data"], json!({"conversation_id": room, "settings": reply.body}));
    let reply = app.patch(&format!("/api/conversations/{chat}/settings"), &alice, json!({"notify": "none"})).await;
    assert_eq!(reply.body["notify"], "none");
    // Other fields leave it as it is; it is Alice's alone.
    let reply = app.patch(&format!("/api/conversations/{chat}/settings"), &alice, json!({"pinned": true})).await;
    assert_eq!(reply.body["notify"], "none");
    let list = app.get("/api/conversations", &alice).await.body;
    let listed = |id: &str| {
        list["conversations"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap()["settings"]["notify"].clone()
    };
    assert_eq!((listed(&chat), listed(&room)), (json!("none"), json!("all")));
    assert_eq!(app.conversation(&bob, &chat).await["settings"]["notify"], "all");
}

#[tokio::test]
async fn settings_and_clear_refuse_strangers_and_bad_input() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let chat = app.direct(&alice, &bob).await;
    let settings = format!("/api/conversations/{chat}/settings");
    let clear = format!("/api/conversations/{chat}/clear");
    for reply in [
        app.patch(&settings, &eve, json!({"archived": true})).await,
        app.post(&clear, &eve, json!({})).await,
        app.patch(&format!("/api/conversations/{}/settings", uuid::Uuid::now_v7()), &alice, json!({})).await,
    ] {
        assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "not_found"), "{}", reply.body);
    }
    for body in [
        json!({"muted_until": "tomorrow"}),
        json!({"archived": "yes"}),
        json!({"colour": "red"}),
        json!({"notify": "loud"}),
    ] {
        let reply = app.patch(&settings, &alice, body).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    }
    assert_eq!(app.post(&clear, &alice, json!({"hide": 1})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.patch("/api/conversations/x/settings", &alice, json!({})).await.status, StatusCode::BAD_REQUEST);
    // A mute already over is no mute.
    let past = app.patch(&settings, &alice, json!({"muted_until": "2020-01-01T00:00:00Z"})).await;
    assert_eq!(past.body["muted_until"], Value::Null);
}

#[tokio::test]
async fn settings_reach_the_users_devices_on_every_node() {
    use hubbub_app::realtime::LocalBus;
    use std::sync::Arc;
    let bus = LocalBus::new();
    let other = bus.join();
    let (a, b) = crate::helpers::spawn_cluster(Arc::new(bus), Arc::new(other)).await;
    let alice = a.register("alice").await;
    let bob = a.register("bob").await;
    let chat = a.direct(&alice, &bob).await;
    let alice_on_b = b.login(&alice).await;
    let mut alice_ws_a = a.ws(&alice).await;
    let mut alice_ws_b = b.ws(&alice_on_b).await;
    let mut bob_ws_b = b.ws(&bob).await;

    a.patch(&format!("/api/conversations/{chat}/settings"), &alice, json!({"archived": true})).await;
    for socket in [&mut alice_ws_a, &mut alice_ws_b] {
        assert_eq!(socket.next_of("settings.updated").await["data"]["settings"]["archived"], true);
    }
    // Bob writes on node B: Alice's chat comes back, on both nodes' sockets.
    b.send(&bob, &chat, "hello").await;
    for socket in [&mut alice_ws_a, &mut alice_ws_b] {
        assert_eq!(socket.next_of("settings.updated").await["data"]["settings"]["archived"], false);
    }
    bob_ws_b.next_of("message.created").await;
    bob_ws_b.assert_quiet().await;
}
