//! The floor: the least a chat server can do and still satisfy scenarios 1–3.
//!
//! No storage, no framework, one hand-rolled HTTP/1.1 loop and tokio-tungstenite for the
//! sockets. It speaks the slice of the contract the generator uses (register, login,
//! ticket, group and direct conversations, POST message, `/api/ws` by bearer or ticket) and
//! broadcasts each message to the members' sockets, serialised once. Whatever Hubbub does
//! beyond this (persistence, validation, receipts, presence) is what the ratios price.

use anyhow::Result;
use bytes::{Buf, BytesMut};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use uuid::Uuid;

/// Per-socket queue depth; the contract closes a socket whose 64-event queue is full.
const QUEUE: usize = 64;

struct User {
    id: Uuid,
    username: String,
    password: String,
}

struct Conv {
    id: Uuid,
    kind: &'static str,
    name: String,
    members: Vec<Uuid>,
    /// Held while a message is numbered and enqueued, so sockets see seqs in order.
    seq: Mutex<u64>,
}

type SocketTx = mpsc::Sender<Utf8Bytes>;

#[derive(Default)]
struct State {
    users: Mutex<Users>,
    tokens: Mutex<HashMap<String, Uuid>>,
    tickets: Mutex<HashMap<String, Uuid>>,
    convs: Mutex<HashMap<Uuid, Arc<Conv>>>,
    directs: Mutex<HashMap<(Uuid, Uuid), Uuid>>,
    sockets: Mutex<HashMap<Uuid, Vec<(u64, SocketTx)>>>,
    next_socket: AtomicU64,
}

#[derive(Default)]
struct Users {
    by_name: HashMap<String, Arc<User>>,
    by_id: HashMap<Uuid, Arc<User>>,
}

fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn user_json(u: &User) -> Value {
    json!({"id": u.id, "username": u.username, "display_name": u.username, "photo_url": null,
           "about": "", "last_seen_at": null, "online": false})
}

fn error(status: u16, code: &str, message: &str) -> (u16, String) {
    (status, json!({"error": {"code": code, "message": message}}).to_string())
}

/// Runs the floor on `addr` until the process ends.
pub async fn serve(addr: &str) -> Result<()> {
    let listener = TcpListener::bind(addr).await?;
    serve_on(listener).await
}

pub async fn serve_on(listener: TcpListener) -> Result<()> {
    let state = Arc::new(State::default());
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let _ = connection(state, stream).await;
        });
    }
}

struct Request {
    method: String,
    path: String,
    query: String,
    bearer: Option<String>,
    ws_key: Option<String>,
    body: Vec<u8>,
}

/// Reads one request from `buf`/`stream`; `None` at a clean end of the connection.
async fn read_request(stream: &mut TcpStream, buf: &mut BytesMut) -> Result<Option<Request>> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(head_len) = req.parse(buf)? {
            let mut content_length = 0usize;
            let (mut bearer, mut ws_key) = (None, None);
            for h in req.headers.iter() {
                let v = String::from_utf8_lossy(h.value);
                if h.name.eq_ignore_ascii_case("content-length") {
                    content_length = v.trim().parse()?;
                } else if h.name.eq_ignore_ascii_case("authorization") {
                    bearer = v.strip_prefix("Bearer ").map(|t| t.trim().to_string());
                } else if h.name.eq_ignore_ascii_case("sec-websocket-key") {
                    ws_key = Some(v.trim().to_string());
                }
            }
            anyhow::ensure!(content_length <= 1 << 20, "body too large");
            let target = req.path.unwrap_or("/").to_string();
            let method = req.method.unwrap_or("GET").to_string();
            let (path, query) = match target.split_once('?') {
                Some((p, q)) => (p.to_string(), q.to_string()),
                None => (target, String::new()),
            };
            while buf.len() < head_len + content_length {
                if stream.read_buf(buf).await? == 0 {
                    anyhow::bail!("eof in body");
                }
            }
            buf.advance(head_len);
            let body = buf.split_to(content_length).to_vec();
            return Ok(Some(Request { method, path, query, bearer, ws_key, body }));
        }
        anyhow::ensure!(buf.len() < 64 * 1024, "header too large");
        if stream.read_buf(buf).await? == 0 {
            return Ok(None);
        }
    }
}

async fn connection(state: Arc<State>, mut stream: TcpStream) -> Result<()> {
    let mut buf = BytesMut::with_capacity(2048);
    while let Some(req) = read_request(&mut stream, &mut buf).await? {
        if req.method == "GET" && req.path == "/api/ws" {
            return upgrade(state, stream, buf, req).await;
        }
        let (status, body) = route(&state, &req);
        let reason = match status {
            200 => "OK",
            201 => "Created",
            204 => "No Content",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            409 => "Conflict",
            _ => "Unprocessable Entity",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(&[head.as_bytes(), body.as_bytes()].concat()).await?;
    }
    Ok(())
}

fn authed(state: &State, req: &Request) -> Option<Uuid> {
    state.tokens.lock().unwrap().get(req.bearer.as_deref()?).copied()
}

fn route(state: &State, req: &Request) -> (u16, String) {
    let segs: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["api", "health"]) => (200, r#"{"status":"ok","storage":"none"}"#.into()),
        ("POST", ["api", "users"]) => auth(state, &req.body, true),
        ("POST", ["api", "session"]) => auth(state, &req.body, false),
        ("POST", ["api", "ws", "ticket"]) => {
            let Some(me) = authed(state, req) else {
                return error(401, "unauthorized", "no session");
            };
            let t = Uuid::new_v4().simple().to_string();
            state.tickets.lock().unwrap().insert(t.clone(), me);
            (201, json!({"ticket": t}).to_string())
        }
        ("POST", ["api", "conversations"]) => {
            let Some(me) = authed(state, req) else {
                return error(401, "unauthorized", "no session");
            };
            #[derive(Deserialize)]
            struct G {
                name: String,
                #[serde(default)]
                member_ids: Vec<Uuid>,
            }
            let Ok(g) = serde_json::from_slice::<G>(&req.body) else {
                return error(400, "bad_request", "bad json");
            };
            let mut members = vec![me];
            {
                let users = state.users.lock().unwrap();
                for m in g.member_ids {
                    if !users.by_id.contains_key(&m) {
                        return error(422, "validation_failed", "unknown user in member_ids");
                    }
                    if !members.contains(&m) {
                        members.push(m);
                    }
                }
            }
            let conv = new_conv(state, "group", g.name, members);
            (201, conv_json(&conv))
        }
        ("POST", ["api", "users", other, "conversation"]) => {
            let Some(me) = authed(state, req) else {
                return error(401, "unauthorized", "no session");
            };
            let Ok(other) = other.parse::<Uuid>() else {
                return error(400, "bad_request", "bad id");
            };
            let Some(other_name) = state.users.lock().unwrap().by_id.get(&other).map(|u| u.username.clone()) else {
                return error(404, "not_found", "user not found");
            };
            let key = (me.min(other), me.max(other));
            let existing = state.directs.lock().unwrap().get(&key).copied();
            if let Some(id) = existing {
                let conv = state.convs.lock().unwrap().get(&id).cloned();
                if let Some(c) = conv {
                    return (200, conv_json(&c));
                }
            }
            let conv = new_conv(state, "direct", other_name, vec![me, other]);
            state.directs.lock().unwrap().insert(key, conv.id);
            (201, conv_json(&conv))
        }
        ("POST", ["api", "conversations", id, "messages"]) => {
            let Some(me) = authed(state, req) else {
                return error(401, "unauthorized", "no session");
            };
            let Ok(id) = id.parse::<Uuid>() else {
                return error(400, "bad_request", "bad id");
            };
            #[derive(Deserialize)]
            struct M {
                text: String,
            }
            let Ok(m) = serde_json::from_slice::<M>(&req.body) else {
                return error(400, "bad_request", "bad json");
            };
            let conv = state.convs.lock().unwrap().get(&id).cloned();
            let Some(conv) = conv.filter(|c| c.members.contains(&me)) else {
                return error(404, "not_found", "conversation not found");
            };
            (201, post(state, &conv, me, &m.text))
        }
        _ => error(404, "not_found", "no such route"),
    }
}

fn auth(state: &State, body: &[u8], register: bool) -> (u16, String) {
    #[derive(Deserialize)]
    struct A {
        username: String,
        password: String,
    }
    let Ok(a) = serde_json::from_slice::<A>(body) else {
        return error(400, "bad_request", "bad json");
    };
    let key = a.username.to_lowercase();
    let mut users = state.users.lock().unwrap();
    let user = if register {
        if users.by_name.contains_key(&key) {
            return error(409, "conflict", "username taken");
        }
        let u = Arc::new(User { id: Uuid::new_v4(), username: a.username, password: a.password });
        users.by_name.insert(key, u.clone());
        users.by_id.insert(u.id, u.clone());
        u
    } else {
        match users.by_name.get(&key) {
            Some(u) if u.password == a.password => u.clone(),
            _ => return error(401, "unauthorized", "bad credentials"),
        }
    };
    drop(users);
    let token = Uuid::new_v4().simple().to_string();
    state.tokens.lock().unwrap().insert(token.clone(), user.id);
    (if register { 201 } else { 200 }, json!({"user": user_json(&user), "token": token}).to_string())
}

fn new_conv(state: &State, kind: &'static str, name: String, members: Vec<Uuid>) -> Arc<Conv> {
    let conv = Arc::new(Conv { id: Uuid::new_v4(), kind, name, members, seq: Mutex::new(0) });
    state.convs.lock().unwrap().insert(conv.id, conv.clone());
    conv
}

fn conv_json(c: &Conv) -> String {
    let t = now();
    let members: Vec<Value> = c
        .members
        .iter()
        .map(|m| json!({"user": {"id": m}, "role": "member", "joined_at": t, "delivered_seq": 0, "read_seq": 0}))
        .collect();
    json!({"id": c.id, "kind": c.kind, "name": c.name, "photo_url": null, "members": members,
           "last_message": null, "last_seq": *c.seq.lock().unwrap(), "unread_count": 0,
           "my_role": "admin", "created_at": t, "updated_at": t})
    .to_string()
}

/// Numbers the message, serialises it once and enqueues the same bytes on every member
/// socket. A full queue drops that socket (the contract: never wait on a slow client).
fn post(state: &State, conv: &Conv, sender: Uuid, text: &str) -> String {
    let mut seq = conv.seq.lock().unwrap();
    *seq += 1;
    let msg = json!({"id": Uuid::new_v4(), "conversation_id": conv.id, "seq": *seq, "sender_id": sender,
        "text": text, "photo": null, "reply_to": null, "forwarded": false, "reactions": [],
        "status": "sent", "created_at": now(), "edited_at": null, "deleted": false})
    .to_string();
    let frame: Utf8Bytes =
        format!(r#"{{"type":"message.created","conversation_id":"{}","seq":{},"data":{msg}}}"#, conv.id, *seq).into();
    let mut sockets = state.sockets.lock().unwrap();
    for m in &conv.members {
        if let Some(list) = sockets.get_mut(m) {
            list.retain(|(_, tx)| tx.try_send(frame.clone()).is_ok());
        }
    }
    msg
}

async fn upgrade(state: Arc<State>, mut stream: TcpStream, rest: BytesMut, req: Request) -> Result<()> {
    let user = match req.query.split('&').find_map(|kv| kv.strip_prefix("ticket=")) {
        Some(t) => state.tickets.lock().unwrap().remove(t),
        None => authed(&state, &req),
    };
    let (Some(user), Some(key)) = (user, req.ws_key) else {
        let body = error(401, "unauthorized", "no session").1;
        let head = format!("HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\n\r\n", body.len());
        stream.write_all(&[head.as_bytes(), body.as_bytes()].concat()).await?;
        return Ok(());
    };
    let accept = derive_accept_key(key.as_bytes());
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {accept}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    // Small buffers: clients send almost nothing, and idle sockets should cost little.
    let cfg = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let ws = WebSocketStream::from_partially_read(stream, rest.to_vec(), Role::Server, Some(cfg)).await;
    let (tx, mut rx) = mpsc::channel::<Utf8Bytes>(QUEUE);
    let sid = state.next_socket.fetch_add(1, Ordering::Relaxed);
    state.sockets.lock().unwrap().entry(user).or_default().push((sid, tx));
    let (mut sink, mut incoming) = ws.split();
    loop {
        tokio::select! {
            frame = rx.recv() => {
                let Some(frame) = frame else { break }; // dropped as too slow
                if sink.feed(Message::Text(frame)).await.is_err() { break }
                // Batch whatever else is already queued into the same flush.
                while let Ok(more) = rx.try_recv() {
                    if sink.feed(Message::Text(more)).await.is_err() { break }
                }
                if sink.flush().await.is_err() { break }
            }
            msg = incoming.next() => match msg {
                // Client frames (typing, receipts) are ignored: the floor has no such features.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            }
        }
    }
    let mut sockets = state.sockets.lock().unwrap();
    if let Some(list) = sockets.get_mut(&user) {
        list.retain(|(id, _)| *id != sid);
        if list.is_empty() {
            sockets.remove(&user);
        }
    }
    Ok(())
}
