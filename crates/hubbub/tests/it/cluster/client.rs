//! What a client of the cluster does, always through haproxy: REST calls, and WebSockets
//! whose every frame a background task records, so a test can look at what each socket got
//! while it keeps sending. Which node haproxy chose for a socket is read from haproxy's own
//! counters (the one node whose total went up), never from the API.

use super::harness::Cluster;
use futures::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub token: String,
    pub username: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Cluster {
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request through haproxy");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body }
    }

    pub async fn get(&self, path: &str, user: &User) -> Reply {
        self.call(Method::GET, path, Some(&user.token), None).await
    }

    pub async fn post(&self, path: &str, user: &User, body: Value) -> Reply {
        self.call(Method::POST, path, Some(&user.token), Some(body)).await
    }

    pub async fn register(&self, username: &str) -> User {
        let body = json!({"username": username, "password": "correct horse"});
        let reply = self.call(Method::POST, "/api/users", None, Some(body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "register {username}: {}", reply.body);
        User {
            id: reply.body["user"]["id"].as_str().unwrap().to_owned(),
            token: reply.body["token"].as_str().unwrap().to_owned(),
            username: username.to_owned(),
        }
    }

    /// Another session (device) of the same user.
    pub async fn login(&self, user: &User, password: &str) -> User {
        let body = json!({"username": user.username, "password": password});
        let reply = self.call(Method::POST, "/api/session", None, Some(body)).await;
        assert_eq!(reply.status, StatusCode::OK, "login: {}", reply.body);
        User { token: reply.body["token"].as_str().unwrap().to_owned(), ..user.clone() }
    }

    pub async fn group(&self, admin: &User, members: &[&User]) -> String {
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let reply = self.post("/api/conversations", admin, json!({"name": "cluster", "member_ids": ids})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "group: {}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    /// Sends a message; `Some(seq)` when the cluster acknowledged it (201).
    pub async fn try_send(&self, user: &User, conversation: &str, text: &str) -> Option<u64> {
        send_via(&self.http, &self.base, &user.token, conversation, text).await
    }

    /// A task that keeps sending as `user` (one request at a time, `pause` apart) until
    /// `stop` is set, and returns the seqs the cluster acknowledged.
    pub fn sender(
        &self,
        user: &User,
        conversation: &str,
        pause: Duration,
        stop: Arc<std::sync::atomic::AtomicBool>,
    ) -> tokio::task::JoinHandle<Vec<u64>> {
        let (http, base, token, conversation) =
            (self.http.clone(), self.base.clone(), user.token.clone(), conversation.to_owned());
        tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                if let Some(seq) = send_via(&http, &base, &token, &conversation, &format!("s{i}")).await {
                    acked.push(seq);
                }
                i += 1;
                tokio::time::sleep(pause).await;
            }
            acked
        })
    }

    pub async fn send(&self, user: &User, conversation: &str, text: &str) -> u64 {
        self.try_send(user, conversation, text).await.expect("send acknowledged")
    }

    /// Every stored event of a conversation after `after`, following `has_more`.
    pub async fn events(&self, user: &User, conversation: &str, mut after: u64) -> Vec<Value> {
        let mut all = Vec::new();
        loop {
            let reply = self.get(&format!("/api/conversations/{conversation}/events?after={after}"), user).await;
            assert_eq!(reply.status, StatusCode::OK, "events: {}", reply.body);
            let events = reply.body["events"].as_array().cloned().unwrap_or_default();
            if let Some(last) = events.last() {
                after = last["seq"].as_u64().unwrap();
            }
            all.extend(events);
            if reply.body["has_more"] != true {
                return all;
            }
        }
    }

    /// A WebSocket through haproxy, registered on its node before this returns, and the
    /// index of the node haproxy gave it to. Nothing else may go through haproxy meanwhile.
    pub async fn ws(&self, user: &User) -> (Ws, usize) {
        let before = self.totals().await;
        let ws = Ws::connect(&self.ws_base, &user.token).await;
        let after = self.totals().await;
        let moved: Vec<usize> = (0..after.len()).filter(|i| after[*i] > before[*i]).collect();
        assert_eq!(moved.len(), 1, "one node got the socket: {before:?} -> {after:?}");
        (ws, moved[0])
    }
}

async fn send_via(http: &reqwest::Client, base: &str, token: &str, conversation: &str, text: &str) -> Option<u64> {
    let request = http
        .post(format!("{base}/api/conversations/{conversation}/messages"))
        .bearer_auth(token)
        .json(&json!({"text": text}))
        .timeout(Duration::from_secs(10));
    let response = request.send().await.ok()?;
    if response.status() != StatusCode::CREATED {
        return None;
    }
    response.json::<Value>().await.ok()?["seq"].as_u64()
}

/// What a socket has received so far, and how it ended.
#[derive(Default)]
struct Received {
    events: Vec<Value>,
    closed: Option<Option<(u16, String)>>,
}

pub struct Ws {
    sink: futures::stream::SplitSink<
        tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
        Message,
    >,
    received: Arc<Mutex<Received>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Ws {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Ws {
    pub async fn connect(ws_base: &str, token: &str) -> Ws {
        let mut request = format!("{ws_base}/api/ws").into_client_request().unwrap();
        request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (stream, _) = tokio_tungstenite::connect_async(request).await.expect("ws connect through haproxy");
        let (sink, mut stream) = stream.split();
        let received = Arc::new(Mutex::new(Received::default()));
        let log = received.clone();
        let reader = tokio::spawn(async move {
            while let Some(frame) = stream.next().await {
                match frame {
                    Ok(Message::Text(text)) => {
                        let value: Value = serde_json::from_str(&text).expect("events are JSON");
                        log.lock().unwrap().events.push(value);
                    }
                    Ok(Message::Close(frame)) => {
                        log.lock().unwrap().closed = Some(frame.map(|f| (f.code.into(), f.reason.to_string())));
                        return;
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            log.lock().unwrap().closed.get_or_insert(None);
        });
        let mut ws = Ws { sink, received, reader };
        // A frame the server answers with an error: once the answer is back, the hub has
        // registered this socket.
        ws.send_json(json!({"type": "nonsense"})).await;
        ws.wait_for("the settle answer", Duration::from_secs(10), |e| e["type"] == "error").await;
        ws
    }

    pub async fn send_json(&mut self, value: Value) {
        self.sink.send(Message::Text(value.to_string().into())).await.expect("ws send");
    }

    pub async fn close(mut self) {
        let _ = self.sink.send(Message::Close(None)).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while self.received.lock().unwrap().closed.is_none() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    }

    pub fn events(&self) -> Vec<Value> {
        self.received.lock().unwrap().events.clone()
    }

    /// The seqs of the `message.created` events this socket got for a conversation, in
    /// arrival order (duplicates kept).
    pub fn message_seqs(&self, conversation: &str) -> Vec<u64> {
        let received = self.received.lock().unwrap();
        received
            .events
            .iter()
            .filter(|e| e["type"] == "message.created" && e["conversation_id"] == conversation)
            .filter_map(|e| e["seq"].as_u64())
            .collect()
    }

    /// The first event matching `what` (among all received so far, or arriving in time).
    pub async fn wait_for(&self, label: &str, within: Duration, what: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            if let Some(event) = self.received.lock().unwrap().events.iter().find(|e| what(e)) {
                return event.clone();
            }
            assert!(Instant::now() < deadline, "no {label} within {within:?}; got {:?}", self.events());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until this socket holds every seq in `seqs` of the conversation.
    pub async fn has_all(&self, conversation: &str, seqs: &[u64], within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let got = self.message_seqs(conversation);
            if seqs.iter().all(|s| got.contains(s)) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The close frame, once the socket is closed within `within`; `None` if still open,
    /// `Some(None)` if it ended without a close frame.
    pub async fn closed_within(&self, within: Duration) -> Option<Option<(u16, String)>> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(closed) = self.received.lock().unwrap().closed.clone() {
                return Some(closed);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// No seq twice, and ascending: what every socket must show for one conversation.
pub fn assert_once_in_order(seqs: &[u64], label: &str) {
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{label}: not once each in seq order: {seqs:?}");
}

/// No seq twice (in any order).
pub fn assert_none_twice(seqs: &[u64], label: &str) {
    let mut sorted = seqs.to_vec();
    sorted.sort_unstable();
    assert!(sorted.windows(2).all(|w| w[0] != w[1]), "{label}: an event came twice: {seqs:?}");
}
