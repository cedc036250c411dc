//! Web Push end to end: a push-service stand-in on 127.0.0.1 (allowed by the test setting)
//! that plays the browser too: it decrypts each push with the subscription's private key
//! and checks the VAPID signature, as a push service and a browser would.

use crate::helpers::{TestApp, TestUser, spawn_app, spawn_cluster_with_presence};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus, Uri};
use hubbub_app::usecases::push::PushConfig;
use hubbub_push::p256::SecretKey;
use hubbub_push::p256::elliptic_curve::rand_core::{OsRng, RngCore};
use hubbub_push::p256::elliptic_curve::sec1::ToEncodedPoint;
use hubbub_push::{SenderConfig, VapidKey, WebPushSender, b64_encode};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the stand-in received.
#[derive(Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// A push service: records each POST and answers with the next scripted status (201 when
/// the script is empty).
#[derive(Clone)]
struct StandIn {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

async fn stand_in() -> StandIn {
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let script: Arc<Mutex<VecDeque<u16>>> = Arc::default();
    let (log, answers) = (received.clone(), script.clone());
    let router = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let (log, answers) = (log.clone(), answers.clone());
        async move {
            log.lock().unwrap().push(Received { path: uri.path().to_owned(), headers, body });
            let status = answers.lock().unwrap().pop_front().unwrap_or(201);
            AxumStatus::from_u16(status).unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    StandIn { addr, received, script }
}

impl StandIn {
    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// Waits until `n` pushes have arrived (and fails after 10 s).
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            if self.count() >= n {
                return self.received.lock().unwrap().clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} pushes arrived, not {n}", self.count());
    }

    /// Nothing more arrives for a while (longer than a few polls of the queue).
    async fn assert_quiet(&self, had: usize) {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(self.count(), had, "an unexpected push arrived");
    }
}

/// A browser: its key pair and auth secret, subscribed at the stand-in.
struct Browser {
    secret: SecretKey,
    auth: [u8; 16],
    endpoint: String,
}

impl Browser {
    fn new(service: &StandIn, name: &str) -> Browser {
        let secret = SecretKey::random(&mut OsRng);
        let mut auth = [0u8; 16];
        OsRng.fill_bytes(&mut auth);
        Browser { secret, auth, endpoint: format!("http://{}/push/{name}", service.addr) }
    }

    fn subscription(&self) -> Value {
        let p256dh = b64_encode(self.secret.public_key().to_encoded_point(false).as_bytes());
        json!({"endpoint": self.endpoint, "keys": {"p256dh": p256dh, "auth": b64_encode(&self.auth)},
            "expirationTime": null})
    }

    async fn subscribe(&self, app: &TestApp, user: &TestUser) {
        let reply = app.post("/api/push/subscriptions", user, self.subscription()).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }

    /// Checks a push as its service and this browser would, and returns its JSON.
    fn open(&self, push: &Received, server_key: &str) -> Value {
        assert!(self.endpoint.ends_with(&push.path), "{} is not {}", push.path, self.endpoint);
        let header = |name: &str| push.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header("content-encoding").as_deref(), Some("aes128gcm"));
        assert_eq!(header("urgency").as_deref(), Some("high"));
        assert!(header("ttl").unwrap().parse::<u32>().unwrap() > 0);
        let (claims, k) = hubbub_push::vapid::verify(&header("authorization").unwrap()).expect("a valid VAPID JWT");
        assert_eq!(k, server_key, "signed with the key browsers were given");
        let origin = self.endpoint.split("/push/").next().unwrap();
        assert_eq!(claims.aud, origin);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert!(claims.exp > now && claims.exp <= now + 24 * 3600);
        let plain = hubbub_push::decrypt(&push.body, &self.secret, &self.auth).expect("decrypts");
        serde_json::from_slice(&plain).unwrap()
    }
}

/// Turns Web Push on for a node, with http and loopback allowed and a quick queue.
fn enable_push(app: &TestApp, key: &VapidKey) {
    let config = SenderConfig { allow_insecure: true, ..Default::default() };
    let sender = WebPushSender::new(key.clone(), config).unwrap();
    let queue = PushConfig {
        poll: Duration::from_millis(100),
        attempts_max: 3,
        backoff: Duration::from_millis(200),
        ttl_seconds: 3600,
    };
    app.app().set_push_sender(Arc::new(sender), queue);
}

fn settings(chat: &str) -> String {
    format!("/api/conversations/{chat}/settings")
}

#[tokio::test]
async fn a_push_is_encrypted_for_the_subscription_and_says_who_wrote_what() {
    let app = spawn_app().await;
    let key = VapidKey::generate();
    enable_push(&app, &key);
    let service = stand_in().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let reply = app.get("/api/push/key", &bob).await;
    assert_eq!(reply.body, json!({"public_key": key.public_key()}));
    let phone = Browser::new(&service, "bob-phone");
    phone.subscribe(&app, &bob).await;
    // Again: idempotent per endpoint.
    phone.subscribe(&app, &bob).await;

    let chat = app.direct(&alice, &bob).await;
    let sent = app.send(&alice, &chat, "hello bob").await;
    let pushes = service.wait_for(1).await;
    let alice_name = app.get("/api/users/me", &alice).await.body["display_name"].clone();
    assert_eq!(
        phone.open(&pushes[0], &key.public_key()),
        json!({"title": alice_name, "body": "hello bob", "conversation_id": chat,
            "message_id": sent["id"], "url": format!("/c/{chat}")})
    );
    // A group says where; the sender gets no push of their own message.
    let carols = Browser::new(&service, "carol-laptop");
    carols.subscribe(&app, &carol).await;
    let group = app.group(&alice, "Team", &[&bob, &carol]).await;
    let from_bob = app.send(&bob, &group, "hi all").await;
    let from_alice = app.send(&alice, &group, "and you carol").await;
    let pushes = service.wait_for(4).await;
    let mut seen: Vec<(String, String, Value)> = pushes[1..]
        .iter()
        .map(|push| {
            let browser = if push.path.ends_with("bob-phone") { &phone } else { &carols };
            let opened = browser.open(push, &key.public_key());
            assert_eq!(opened["url"], format!("/c/{group}"));
            (push.path.clone(), opened["title"].as_str().unwrap().to_owned(), opened["message_id"].clone())
        })
        .collect();
    seen.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let alice_name = app.get("/api/users/me", &alice).await.body["display_name"].as_str().unwrap().to_owned();
    let bob_name = app.get("/api/users/me", &bob).await.body["display_name"].as_str().unwrap().to_owned();
    let mut expected = vec![
        ("/push/bob-phone".to_owned(), format!("{alice_name} in Team"), from_alice["id"].clone()),
        ("/push/carol-laptop".to_owned(), format!("{alice_name} in Team"), from_alice["id"].clone()),
        ("/push/carol-laptop".to_owned(), format!("{bob_name} in Team"), from_bob["id"].clone()),
    ];
    expected.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(seen, expected);
    service.assert_quiet(4).await;

    // A forwarded copy is a new message of its conversation: it notifies too.
    let path = format!("/api/conversations/{group}/messages/{}/forward", from_bob["id"].as_str().unwrap());
    let forwarded = app.post(&path, &alice, json!({"conversation_ids": [chat]})).await;
    assert_eq!(forwarded.status, StatusCode::CREATED, "{}", forwarded.body);
    let pushes = service.wait_for(5).await;
    let opened = phone.open(&pushes[4], &key.public_key());
    assert_eq!(
        (opened["body"].clone(), opened["message_id"].clone()),
        (json!("hi all"), forwarded.body["messages"][0]["id"].clone())
    );
}

#[tokio::test]
async fn a_5xx_is_retried_and_a_410_drops_the_subscription() {
    let app = spawn_app().await;
    let key = VapidKey::generate();
    enable_push(&app, &key);
    let service = stand_in().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let phone = Browser::new(&service, "bob-phone");
    phone.subscribe(&app, &bob).await;
    let chat = app.direct(&alice, &bob).await;

    service.script.lock().unwrap().extend([500, 503]);
    let sent = app.send(&alice, &chat, "try again").await;
    let pushes = service.wait_for(3).await;
    for push in &pushes {
        assert_eq!(phone.open(push, &key.public_key())["message_id"], sent["id"]);
    }
    service.assert_quiet(3).await;

    // Gone: the subscription is dropped, and the next message is not sent to it.
    service.script.lock().unwrap().push_back(410);
    app.send(&alice, &chat, "are you there").await;
    service.wait_for(4).await;
    let user = hubbub_domain::UserId::parse(&bob.id).unwrap();
    for _ in 0..50 {
        if app.app().store.push_subscriptions(user).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(app.app().store.push_subscriptions(user).await.unwrap().is_empty());
    app.send(&alice, &chat, "hello?").await;
    service.assert_quiet(4).await;

    // A service that keeps failing is given up after `attempts_max` (3) tries.
    phone.subscribe(&app, &bob).await;
    service.script.lock().unwrap().extend([500, 500, 500, 500]);
    app.send(&alice, &chat, "never").await;
    service.wait_for(7).await;
    service.assert_quiet(7).await;
}

#[tokio::test]
async fn mute_notify_and_a_live_socket_hold_pushes_back() {
    let app = spawn_app().await;
    let key = VapidKey::generate();
    enable_push(&app, &key);
    let service = stand_in().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let phone = Browser::new(&service, "bob-phone");
    phone.subscribe(&app, &bob).await;
    let chat = app.direct(&alice, &bob).await;

    app.patch(&settings(&chat), &bob, json!({"muted_until": "9999-12-31T23:59:59.999Z"})).await;
    app.send(&alice, &chat, "muted").await;
    service.assert_quiet(0).await;
    app.patch(&settings(&chat), &bob, json!({"muted_until": null, "notify": "none"})).await;
    app.send(&alice, &chat, "none").await;
    service.assert_quiet(0).await;
    app.patch(&settings(&chat), &bob, json!({"notify": "mentions"})).await;
    app.send(&alice, &chat, "no mention").await;
    service.assert_quiet(0).await;
    let mention = app.send(&alice, &chat, "hey @bob").await;
    let pushes = service.wait_for(1).await;
    assert_eq!(phone.open(&pushes[0], &key.public_key())["message_id"], mention["id"]);

    // A channel notifies mentions only until followed.
    let room = app
        .post("/api/conversations", &alice, json!({"kind": "channel", "name": "lobby", "visibility": "public"}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/api/conversations/{room}/join"), &bob, json!({})).await;
    app.send(&alice, &room, "to the room").await;
    service.assert_quiet(1).await;
    app.patch(&settings(&room), &bob, json!({"notify": "all"})).await;
    let followed = app.send(&alice, &room, "followed").await;
    let pushes = service.wait_for(2).await;
    assert_eq!(phone.open(&pushes[1], &key.public_key())["message_id"], followed["id"]);

    // A live socket: no push; once it is closed, pushes again.
    app.patch(&settings(&chat), &bob, json!({"notify": "all"})).await;
    let socket = app.ws(&bob).await;
    app.send(&alice, &chat, "you are here").await;
    service.assert_quiet(2).await;
    drop(socket);
    for _ in 0..100 {
        if !app.app().is_online(hubbub_domain::UserId::parse(&bob.id).unwrap()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let away = app.send(&alice, &chat, "you left").await;
    let pushes = service.wait_for(3).await;
    assert_eq!(phone.open(&pushes[2], &key.public_key())["message_id"], away["id"]);

    // Unsubscribed: nothing more.
    let body = json!({"endpoint": phone.endpoint});
    let reply = app.call(reqwest::Method::DELETE, "/api/push/subscriptions", Some(&bob.token), Some(body)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    app.send(&alice, &chat, "gone").await;
    service.assert_quiet(3).await;
}

#[tokio::test]
async fn bad_subscriptions_are_refused_with_400() {
    let app = spawn_app().await;
    // The production guard: https on public addresses only.
    let sender = WebPushSender::new(VapidKey::generate(), SenderConfig::default()).unwrap();
    app.app().set_push_sender(Arc::new(sender), PushConfig::default());
    let service = stand_in().await;
    let bob = app.register("bob").await;
    let good = Browser::new(&service, "x").subscription();
    let with = |endpoint: &str, p256dh: &Value, auth: &Value| json!({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}});
    let (p256dh, auth) = (&good["keys"]["p256dh"], &good["keys"]["auth"]);
    for body in [
        with(good["endpoint"].as_str().unwrap(), p256dh, auth),
        with("https://127.0.0.1/push", p256dh, auth),
        with("https://10.0.0.8/push", p256dh, auth),
        with("not a url", p256dh, auth),
        with("https://push.example.net/x", &json!("AAAA"), auth),
        with("https://push.example.net/x", p256dh, &json!("AAAA")),
        with("https://push.example.net/x", &json!("%%%"), auth),
    ] {
        let reply = app.post("/api/push/subscriptions", &bob, body.clone()).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::BAD_REQUEST, "bad_request"), "{body}: {}", reply.body);
        assert!(reply.body["error"]["message"].is_string(), "{}", reply.body);
    }
    let reply = app.post("/api/push/subscriptions", &bob, with("https://push.example.net/x", p256dh, auth)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let reply = app.post("/api/push/subscriptions", &bob, json!({"endpoint": "https://push.example.net/x"})).await;
    assert!(reply.status.is_client_error(), "{}", reply.body);

    // Without Web Push on, the key is not found.
    let off = spawn_app().await;
    let carol = off.register("carol").await;
    assert_eq!(off.get("/api/push/key", &carol).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_message_is_pushed_once_by_a_cluster_and_not_while_a_socket_is_live_on_another_node() {
    let (nodes, _bucket) = crate::cluster_presence::nats_nodes().await;
    let (a, b) = spawn_cluster_with_presence(nodes.0, nodes.1).await;
    let key = VapidKey::generate();
    enable_push(&a, &key);
    enable_push(&b, &key);
    let service = stand_in().await;
    let alice = a.register("alice").await;
    let bob = a.register("bob").await;
    let phone = Browser::new(&service, "bob-phone");
    phone.subscribe(&a, &bob).await;
    let chat = a.direct(&alice, &bob).await;
    let mut sent = Vec::new();
    for i in 0..6 {
        let node = if i % 2 == 0 { &a } else { &b };
        let alice_there = if i % 2 == 0 { alice.clone() } else { b.login(&alice).await };
        sent.push(node.send(&alice_there, &chat, &format!("message {i}")).await["id"].clone());
    }
    let pushes = service.wait_for(6).await;
    service.assert_quiet(6).await;
    let mut ids: Vec<String> =
        pushes.iter().map(|p| phone.open(p, &key.public_key())["message_id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    let mut expected: Vec<String> = sent.iter().map(|id| id.as_str().unwrap().to_owned()).collect();
    expected.sort();
    assert_eq!(ids, expected, "each message exactly once");

    // Bob's socket on node B holds back what node A would push.
    let bob_on_b = b.login(&bob).await;
    let _socket = b.ws(&bob_on_b).await;
    let user = hubbub_domain::UserId::parse(&bob.id).unwrap();
    for _ in 0..100 {
        if a.app().is_online(user) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(a.app().is_online(user), "node A sees bob's socket on node B");
    a.send(&alice, &chat, "you are on b").await;
    service.assert_quiet(6).await;
}
