use crate::helpers::spawn_app;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::test]
async fn two_users_with_two_devices_each_get_every_event_once_in_order() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let alice_phone = app.login(&alice).await;
    let bob_phone = app.login(&bob).await;
    let mut sockets = [app.ws(&alice).await, app.ws(&alice_phone).await, app.ws(&bob).await, app.ws(&bob_phone).await];

    let chat = app.direct(&alice, &bob).await;
    for socket in sockets.iter_mut() {
        let created = socket.next_of("conversation.created").await;
        assert_eq!(created["conversation_id"], chat.as_str());
        assert_eq!(created["seq"], 1);
    }
    let mut sent = Vec::new();
    for i in 0..10 {
        sent.push(app.send(if i % 2 == 0 { &alice } else { &bob_phone }, &chat, &format!("m{i}")).await);
    }
    let first = sent[0]["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/api/conversations/{chat}/messages/{first}"), &alice, json!({"text": "m0 edited"})).await;
    app.put(&format!("/api/conversations/{chat}/messages/{first}/reactions"), &bob, json!({"emoji": "🎉"})).await;
    app.delete(&format!("/api/conversations/{chat}/messages/{first}"), &alice).await;

    for socket in sockets.iter_mut() {
        let mut seqs = Vec::new();
        for _ in 0..13 {
            let event = socket.next().await;
            assert_eq!(event["conversation_id"], chat.as_str());
            seqs.push(event["seq"].as_i64().unwrap());
            if seqs.len() <= 10 {
                assert_eq!(event["type"], "message.created");
                assert!(event["data"]["status"].is_null(), "events carry no per-viewer status");
            } else {
                assert_eq!(event["type"], "message.updated");
            }
            if seqs.len() == 13 {
                assert_eq!(event["data"]["deleted"], true);
            }
        }
        assert_eq!(seqs, (2..=14).collect::<Vec<_>>(), "each event once, in seq order");
        socket.assert_quiet().await;
    }
}

#[tokio::test]
async fn receipts_typing_and_profile_updates_arrive_live() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let group = app.group(&alice, "g", &[&bob, &carol]).await;
    let mut alice_ws = app.ws(&alice).await;
    let mut bob_ws = app.ws(&bob).await;
    let mut carol_ws = app.ws(&carol).await;
    let message = app.send(&alice, &group, "hi").await;
    let seq = message["seq"].as_i64().unwrap();
    for socket in [&mut alice_ws, &mut bob_ws, &mut carol_ws] {
        assert_eq!(socket.next_of("message.created").await["seq"], seq);
    }

    // Bob's client marks delivered over the socket; everyone hears the receipt.
    bob_ws.send_json(json!({"type": "delivered", "conversation_id": group, "seq": seq})).await;
    let receipt = alice_ws.next_of("receipt.updated").await;
    assert_eq!(receipt["data"], json!({"user_id": bob.id, "delivered_seq": seq, "read_seq": 0}));
    assert!(receipt.get("seq").is_none(), "receipts are ephemeral");
    bob_ws.send_json(json!({"type": "read", "conversation_id": group, "seq": seq})).await;
    assert_eq!(carol_ws.next_of("receipt.updated").await["data"]["user_id"], bob.id.as_str());
    assert_eq!(alice_ws.next_of("receipt.updated").await["data"]["read_seq"], seq);

    // Typing reaches the others but not the typist.
    carol_ws.send_json(json!({"type": "typing", "conversation_id": group})).await;
    assert_eq!(alice_ws.next_of("typing").await["data"]["user_id"], carol.id.as_str());
    assert_eq!(bob_ws.next_of("typing").await["data"]["user_id"], carol.id.as_str());
    let mut carol_events = Vec::new();
    while let Some(event) = carol_ws.next_within(Duration::from_millis(300)).await {
        carol_events.push(event);
    }
    assert!(carol_events.iter().all(|e| e["type"] != "typing"), "typist hears no typing: {carol_events:?}");

    // A bad frame gets an error frame, not a closed socket.
    carol_ws.send_json(json!({"type": "read", "conversation_id": "nope"})).await;
    assert_eq!(carol_ws.next().await["type"], "error");

    app.patch("/api/users/me", &carol, json!({"display_name": "Carol C"})).await;
    let updated = alice_ws.next_of("user.updated").await;
    assert_eq!(updated["data"]["display_name"], "Carol C");
}

#[tokio::test]
async fn membership_events_reach_the_right_people() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let group = app.group(&alice, "g", &[&bob]).await;
    let mut bob_ws = app.ws(&bob).await;
    let mut carol_ws = app.ws(&carol).await;
    app.post(&format!("/api/conversations/{group}/members"), &alice, json!({"user_ids": [carol.id]})).await;
    let added = bob_ws.next_of("member.added").await;
    assert_eq!(added["data"]["user"]["id"], carol.id.as_str());
    let welcome = carol_ws.next_of("conversation.created").await;
    assert_eq!(welcome["seq"], added["seq"], "the newcomer's view starts at its addition");
    assert_eq!(welcome["data"]["members"].as_array().unwrap().len(), 3);

    app.put(&format!("/api/conversations/{group}/name"), &alice, json!({"name": "renamed"})).await;
    assert_eq!(carol_ws.next_of("conversation.updated").await["data"]["name"], "renamed");
    assert_eq!(bob_ws.next_of("conversation.updated").await["data"]["name"], "renamed");

    app.delete(&format!("/api/conversations/{group}/members/{}", carol.id), &alice).await;
    assert_eq!(carol_ws.next_of("member.removed").await["data"]["user_id"], carol.id.as_str());
    assert_eq!(bob_ws.next_of("member.removed").await["data"]["user_id"], carol.id.as_str());
    app.send(&alice, &group, "carol is gone").await;
    assert_eq!(bob_ws.next_of("message.created").await["data"]["text"], "carol is gone");
    carol_ws.assert_quiet().await;
}

#[tokio::test]
async fn missed_events_are_recovered_through_the_log_exactly_once() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let mut bob_ws = app.ws(&bob).await;
    app.send(&alice, &chat, "before").await;
    let last_seen = bob_ws.next_of("message.created").await["seq"].as_i64().unwrap();
    drop(bob_ws);

    for i in 0..7 {
        app.send(&alice, &chat, &format!("while away {i}")).await;
    }
    let first = app.send(&alice, &chat, "edited later").await;
    app.patch(
        &format!("/api/conversations/{chat}/messages/{}", first["id"].as_str().unwrap()),
        &alice,
        json!({"text": "edited"}),
    )
    .await;

    let mut bob_ws = app.ws(&bob).await;
    let replay = app.get(&format!("/api/conversations/{chat}/events?after={last_seen}"), &bob).await;
    let events = replay.body["events"].as_array().unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (last_seen + 1..=last_seen + 9).collect::<Vec<_>>());
    assert_eq!(replay.body["has_more"], false);
    assert_eq!(events.iter().filter(|e| e["type"] == "message.created").count(), 8);
    assert_eq!(events.last().unwrap()["data"]["text"], "edited");

    // New events continue after the replayed ones, without overlap.
    let next = app.send(&alice, &chat, "back online").await;
    let live = bob_ws.next_of("message.created").await;
    assert_eq!(live["seq"], next["seq"]);
    assert_eq!(live["seq"].as_i64().unwrap(), last_seen + 10);
    let nothing_new = app.get(&format!("/api/conversations/{chat}/events?after={}", last_seen + 10), &bob).await;
    assert_eq!(nothing_new.body["events"], json!([]));
    assert_eq!(app.get(&format!("/api/conversations/{chat}/events?after=-1"), &bob).await.status.as_u16(), 422);
    assert_eq!(app.get(&format!("/api/conversations/{chat}/events"), &bob).await.status.as_u16(), 400);
}

#[tokio::test]
async fn the_event_log_pages_at_500() {
    let app = std::sync::Arc::new(spawn_app().await);
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let (app, alice, chat) = (app.clone(), alice.clone(), chat.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..65 {
                app.send(&alice, &chat, &format!("{worker}-{i}")).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let first = app.get(&format!("/api/conversations/{chat}/events?after=0"), &bob).await;
    assert_eq!(first.body["events"].as_array().unwrap().len(), 500);
    assert_eq!(first.body["has_more"], true);
    let second = app.get(&format!("/api/conversations/{chat}/events?after=500"), &bob).await;
    assert_eq!(second.body["events"].as_array().unwrap().len(), 21);
    assert_eq!(second.body["has_more"], false);
}

#[tokio::test]
async fn logout_closes_that_sessions_sockets_only_with_4001() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let phone = app.login(&alice).await;
    let bob = app.register("bob").await;
    let mut laptop_ws = [app.ws(&alice).await, app.ws(&alice).await];
    let mut phone_ws = app.ws(&phone).await;
    assert_eq!(app.delete("/api/session", &alice).await.status.as_u16(), 204);
    for ws in laptop_ws.iter_mut() {
        assert_eq!(close_frame(ws).await, Some((4001, "session ended".to_owned())));
    }
    let chat = app.direct(&bob, &phone).await;
    assert_eq!(phone_ws.next_of("conversation.created").await["conversation_id"], chat.as_str());
}

#[tokio::test]
async fn a_password_change_closes_the_other_sessions_sockets_with_4001() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let phone = app.login(&alice).await;
    let tablet = app.login(&alice).await;
    let bob = app.register("bob").await;
    let mut laptop_ws = app.ws(&alice).await;
    let mut others = [app.ws(&phone).await, app.ws(&tablet).await];
    let mut bob_ws = app.ws(&bob).await;
    let reply = app
        .put(
            "/api/users/me/password",
            &alice,
            json!({"current_password": "correct horse", "new_password": "new horse!"}),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 204, "{}", reply.body);
    for ws in others.iter_mut() {
        assert_eq!(close_frame(ws).await, Some((4001, "session ended".to_owned())));
    }
    // The session that changed the password, and other users, keep their sockets.
    let chat = app.direct(&bob, &alice).await;
    assert_eq!(laptop_ws.next_of("conversation.created").await["conversation_id"], chat.as_str());
    assert_eq!(bob_ws.next_of("conversation.created").await["conversation_id"], chat.as_str());
}

#[tokio::test]
async fn the_socket_over_the_per_user_cap_is_refused_with_4008_and_the_others_keep_working() {
    let cap = hubbub_domain::Limits::default().websockets_per_user_max;
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let phone = app.login(&alice).await;
    let bob = app.register("bob").await;
    // The cap counts every session of the user: one socket on the phone, the rest here.
    let mut sockets = vec![app.ws(&phone).await];
    for _ in 1..cap {
        sockets.push(app.ws(&alice).await);
    }
    let mut bob_ws = app.ws(&bob).await;

    let mut request = format!("ws://{}/api/ws", app.addr).into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {}", alice.token).parse().unwrap());
    let (stream, _) = tokio_tungstenite::connect_async(request).await.expect("the upgrade itself succeeds");
    let mut refused = crate::helpers::Ws { stream };
    assert_eq!(close_frame(&mut refused).await, Some((4008, "too many connections".to_owned())));

    // Every socket opened before the refused one still gets events, and other users are
    // not affected by alice's cap.
    let chat = app.direct(&bob, &alice).await;
    for ws in sockets.iter_mut() {
        assert_eq!(ws.next_of("conversation.created").await["conversation_id"], chat.as_str());
    }
    assert_eq!(bob_ws.next_of("conversation.created").await["conversation_id"], chat.as_str());
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("hubbub_ws_too_many_connections_refused_total 1"), "{metrics}");
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_1001() {
    let mut app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut sockets = [app.ws(&alice).await, app.ws(&alice).await, app.ws(&bob).await];
    // The server's shutdown, as SIGTERM starts it in the binary: the serve loop closes the
    // sockets (the frames are written before it goes on) and returns.
    app.stop().await.expect("shutdown ends");
    for ws in sockets.iter_mut() {
        assert_eq!(close_frame(ws).await, Some((1001, "server shutting down".to_owned())));
    }
}

/// The code and reason of the server's close frame; `None` if the socket ended without one.
pub(crate) async fn close_frame(ws: &mut crate::helpers::Ws) -> Option<(u16, String)> {
    use futures::StreamExt;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.stream.next()).await.ok()? {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| (f.code.into(), f.reason.to_string())),
            Some(Ok(_)) => continue,
            _ => return None,
        }
    }
}

#[tokio::test]
async fn presence_goes_to_contacts() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.direct(&alice, &bob).await;
    let mut alice_ws = app.ws(&alice).await;
    let bob_ws = app.ws(&bob).await;
    let online = next_presence(&mut alice_ws).await;
    assert_eq!(
        (online["data"]["user_id"].as_str(), online["data"]["online"].as_bool()),
        (Some(bob.id.as_str()), Some(true))
    );
    assert_eq!(app.get(&format!("/api/users/{}", bob.id), &alice).await.body["online"], true);
    drop(bob_ws);
    let offline = next_presence(&mut alice_ws).await;
    assert_eq!(offline["data"]["online"], false);
    assert!(offline["data"]["last_seen_at"].is_string());
    let profile = app.get(&format!("/api/users/{}", bob.id), &alice).await;
    assert_eq!(profile.body["online"], false);
    assert!(profile.body["last_seen_at"].is_string());
}

/// Presence depends on the moment and on who looks; an event is serialised once for all, so
/// its member snapshots carry none (a fake `online: false` wiped everyone's dot on a rename).
#[tokio::test]
async fn group_change_events_carry_no_presence_in_their_member_snapshots() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let group = app.group(&alice, "g", &[&bob]).await;
    let mut bob_ws = app.ws(&bob).await;
    let _alice_ws = app.ws(&alice).await;
    app.put(&format!("/api/conversations/{group}/name"), &alice, json!({"name": "renamed"})).await;
    let updated = bob_ws.next_of("conversation.updated").await;
    let members = updated["data"]["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    for m in members {
        assert!(m["user"]["username"].is_string());
        assert!(m["user"].get("online").is_none(), "no presence in {m}");
        assert!(m["user"].get("last_seen_at").is_none(), "no presence in {m}");
    }
    app.post(&format!("/api/conversations/{group}/members"), &alice, json!({"user_ids": [carol.id]})).await;
    let added = bob_ws.next_of("member.added").await;
    assert_eq!(added["data"]["user"]["id"], carol.id.as_str());
    assert!(added["data"]["user"].get("online").is_none());
    assert!(added["data"]["user"].get("last_seen_at").is_none());
    // The log replays the same JSON; the REST view still has presence.
    let log = app.get(&format!("/api/conversations/{group}/events?after=0"), &bob).await;
    for ev in log.body["events"].as_array().unwrap() {
        assert!(!ev.to_string().contains("\"online\""), "no presence in {ev}");
    }
    let view = app.conversation(&bob, &group).await;
    let alice_there =
        view["members"].as_array().unwrap().iter().find(|m| m["user"]["id"] == alice.id.as_str()).unwrap();
    assert_eq!(alice_there["user"]["online"], true);
}

async fn next_presence(ws: &mut crate::helpers::Ws) -> Value {
    use futures::StreamExt;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.stream.next()).await.unwrap().unwrap().unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] == "presence" {
                return value;
            }
        }
    }
}

#[tokio::test]
async fn a_slow_consumer_is_closed_while_a_fast_one_gets_everything() {
    use tokio::net::TcpSocket;
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let bob_slow = app.login(&bob).await;
    let chat = app.direct(&alice, &bob).await;
    let mut fast = app.ws(&bob).await;

    // The slow device: a tiny receive buffer, and it never reads after the handshake.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(app.addr).await.unwrap();
    let mut request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://{}/api/ws",
        app.addr
    ))
    .unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {}", bob_slow.token).parse().unwrap());
    let (slow, _) = tokio_tungstenite::client_async(request, stream).await.unwrap();

    let big = "x".repeat(4000);
    let mut sent = 0;
    let mut slow_closed = false;
    let mut received = Vec::new();
    while sent < 2000 && !slow_closed {
        for _ in 0..20 {
            app.send(&alice, &chat, &big).await;
            sent += 1;
        }
        // The fast device keeps up.
        while received.len() < sent {
            let event = fast.next().await;
            if event["type"] == "message.created" {
                received.push(event["seq"].as_i64().unwrap());
            }
        }
        let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        slow_closed = metrics.contains("hubbub_ws_slow_consumers_closed_total 1");
    }
    assert!(slow_closed, "the slow socket should have been closed after {sent} messages");
    assert!(received.windows(2).all(|w| w[1] == w[0] + 1), "the fast socket got every message in order");
    drop(slow);
}

async fn close_code(ws: &mut crate::helpers::Ws) -> Option<u16> {
    close_frame(ws).await.map(|(code, _)| code)
}

#[tokio::test]
async fn oversized_frames_close_with_1009_and_abuse_with_1008() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let mut ws = app.ws(&alice).await;
    ws.send_json(json!({"type": "typing", "conversation_id": "x".repeat(70 * 1024)})).await;
    assert_eq!(close_code(&mut ws).await, Some(1009));

    let mut ws = app.ws(&alice).await;
    for _ in 0..12 {
        ws.send_json(json!({"type": "bogus"})).await;
    }
    assert_eq!(close_code(&mut ws).await, Some(1008));
}

#[tokio::test]
async fn concurrent_sends_reach_every_socket_in_seq_order() {
    let app = std::sync::Arc::new(spawn_app().await);
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let mut bob_ws = app.ws(&bob).await;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (app, sender, chat) = (app.clone(), if i % 2 == 0 { alice.clone() } else { bob.clone() }, chat.clone());
        tasks.push(tokio::spawn(async move { app.send(&sender, &chat, &format!("m{i}")).await }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut seqs = Vec::new();
    while seqs.len() < 60 {
        let event = bob_ws.next().await;
        if event["type"] == "message.created" {
            seqs.push(event["seq"].as_i64().unwrap());
        }
    }
    assert_eq!(seqs, (2..62).collect::<Vec<_>>(), "delivered in commit (seq) order, each once");
}

/// The first frame of a socket is `sync`: every conversation of the list with the seq its
/// view shows, so a client that fetched the list before the socket opened knows what it
/// missed without fetching the list again. A chat cleared with `hide` is not in it.
#[tokio::test]
async fn a_sockets_first_frame_says_where_each_listed_conversation_stands() {
    use futures::StreamExt;
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let chat = app.direct(&alice, &bob).await;
    let group = app.group(&alice, "team", &[&bob, &carol]).await;
    let hidden = app.direct(&bob, &carol).await;
    for text in ["one", "two"] {
        app.send(&alice, &group, text).await;
    }
    app.send(&alice, &chat, "hi").await;
    app.send(&carol, &hidden, "psst").await;
    assert_eq!(app.post(&format!("/api/conversations/{hidden}/clear"), &bob, json!({"hide": true})).await.status, 204);

    let mut request = format!("ws://{}/api/ws", app.addr).into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {}", bob.token).parse().unwrap());
    let (mut stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.next()).await.unwrap().unwrap().unwrap();
    let Message::Text(text) = first else { panic!("a text frame first, got {first:?}") };
    let frame: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(frame["type"], "sync", "{frame}");
    let mut got: Vec<(String, u64)> = frame["data"]["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_owned(), c["last_seq"].as_u64().unwrap()))
        .collect();
    got.sort();
    let mut expected = Vec::new();
    for id in [&chat, &group] {
        expected.push((id.clone(), app.conversation(&bob, id).await["last_seq"].as_u64().unwrap()));
    }
    expected.sort();
    assert_eq!(got, expected);
}
