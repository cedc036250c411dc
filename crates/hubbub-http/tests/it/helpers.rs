//! `spawn_app()`: the real router on port 0 with its own temporary database, and small
//! clients (reqwest for HTTP, tokio-tungstenite for WebSockets) to drive it.

use futures::{SinkExt, StreamExt};
use hubbub_app::App;
use hubbub_app::ports::{Bus, PresenceDirectory, Store};
use hubbub_app::realtime::{LocalBus, LocalPresence};
use hubbub_domain::Limits;
use hubbub_http::proxy::TrustedProxies;
use hubbub_http::{AppState, HttpConfig};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[allow(dead_code)] // `data_dir` is read by the media tests only.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    /// Kept alive for the test: dropping it deletes the database and media.
    pub data_dir: tempfile::TempDir,
    /// Sending on it starts the server's graceful shutdown (see `TestApp::stop`).
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The task running `hubbub_http::serve`; it ends when the shutdown is complete.
    pub server: Option<tokio::task::JoinHandle<()>>,
    app: Arc<App>,
    /// With `HUBBUB_TEST_DATABASE=postgres`: the test's own PostgreSQL database, dropped
    /// with the app (declared last, so it goes after the server's handles).
    _database: Option<Arc<hubbub_store::testing::TestDatabase>>,
}

/// The database of one test (shared by the nodes of a cluster test): a SQLite file in the
/// data dir, or with `HUBBUB_TEST_DATABASE=postgres` a fresh PostgreSQL database, so the
/// whole suite runs on both backends.
async fn test_database(data_dir: &std::path::Path) -> (String, Option<Arc<hubbub_store::testing::TestDatabase>>) {
    if hubbub_store::testing::postgres_selected() {
        let database = hubbub_store::testing::TestDatabase::create("http").await;
        (database.url.clone(), Some(Arc::new(database)))
    } else {
        (data_dir.join("test.db").to_string_lossy().into_owned(), None)
    }
}

/// What a test may change about the server it spawns.
pub struct TestConfig {
    pub limits: Limits,
    pub trusted_proxies: TrustedProxies,
    pub serve: hubbub_http::ServeConfig,
    /// Where media are stored, instead of `<data_dir>/media` (a tiny file system, say).
    pub media_dir: Option<std::path::PathBuf>,
    /// Link previews on, with this fetcher configuration (off by default in tests).
    pub link_previews: Option<hubbub_links::LinkConfig>,
}

impl Default for TestConfig {
    /// Production limits, except that registration is unlimited: tests register many users
    /// from 127.0.0.1 (the registration limit has its own tests).
    fn default() -> Self {
        let mut limits = Limits::default();
        limits.rate.registrations_per_address = 0;
        Self {
            limits,
            trusted_proxies: TrustedProxies::default(),
            serve: hubbub_http::ServeConfig::default(),
            media_dir: None,
            link_previews: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestConfig::default()).await
}

/// `spawn_app` with other limits, proxies, connection timeouts or media directory. The
/// server is served by `hubbub_http::serve`, as the binary does.
pub async fn spawn_app_with(config: TestConfig) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (url, database) = test_database(data_dir.path()).await;
    let store = hubbub_store::open(&url, hubbub_store::Durability::Normal).await.expect("open store");
    spawn_node(config, store, Arc::new(LocalBus::new()), Arc::new(LocalPresence::new()), data_dir, database).await
}

/// A node on a database of the test's choosing (a PostgreSQL behind a proxy it can cut).
pub async fn spawn_app_on_database(url: &str) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let store = hubbub_store::open(url, hubbub_store::Durability::Normal).await.expect("open store");
    let (bus, presence) = (Arc::new(LocalBus::new()), Arc::new(LocalPresence::new()));
    spawn_node(TestConfig::default(), store, bus, presence, data_dir, None).await
}

/// Two nodes of one cluster: one database file, opened by each node as separate processes
/// would (so each node's store has its own writer and commit feed, and each node publishes
/// what it committed), and the given buses, two nodes of one bus network. Each node has its
/// own hub, session cache and media directory.
pub async fn spawn_cluster(a: Arc<dyn Bus>, b: Arc<dyn Bus>) -> (TestApp, TestApp) {
    let presence = LocalPresence::new();
    let other = presence.join();
    spawn_cluster_with_presence((a, Arc::new(presence)), (b, Arc::new(other))).await
}

/// `spawn_cluster`, with each node's presence directory too (NATS key-value, say).
pub async fn spawn_cluster_with_presence(
    a: (Arc<dyn Bus>, Arc<dyn PresenceDirectory>),
    b: (Arc<dyn Bus>, Arc<dyn PresenceDirectory>),
) -> (TestApp, TestApp) {
    spawn_cluster_with_limits(TestConfig::default().limits, a, b).await
}

/// Two nodes with other limits than production's (a shorter session sweep, say).
pub async fn spawn_cluster_with_limits(
    limits: Limits,
    (a, presence_a): (Arc<dyn Bus>, Arc<dyn PresenceDirectory>),
    (b, presence_b): (Arc<dyn Bus>, Arc<dyn PresenceDirectory>),
) -> (TestApp, TestApp) {
    let config = || TestConfig { limits: limits.clone(), ..TestConfig::default() };
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (url, database) = test_database(data_dir.path()).await;
    let open = || async { hubbub_store::open(&url, hubbub_store::Durability::Normal).await.expect("open store") };
    let (store_a, store_b) = (open().await, open().await);
    let first = spawn_node(config(), store_a, a, presence_a, data_dir, database.clone()).await;
    let second = spawn_node(config(), store_b, b, presence_b, tempfile::tempdir().expect("temp dir"), database).await;
    (first, second)
}

async fn spawn_node(
    config: TestConfig,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    presence: Arc<dyn PresenceDirectory>,
    data_dir: tempfile::TempDir,
    database: Option<Arc<hubbub_store::testing::TestDatabase>>,
) -> TestApp {
    let media_dir = config.media_dir.unwrap_or_else(|| data_dir.path().join("media"));
    let storage = Arc::new(hubbub_media::LocalDiskStorage::new(media_dir).await.expect("media dir"));
    let media_files = Arc::new(hubbub_media::DiskMediaFiles::new(storage.clone()));
    let app = App::start_with(store, bus, presence, media_files, config.limits);
    let http_config = HttpConfig { trusted_proxies: config.trusted_proxies, ..HttpConfig::default() };
    let mut state = AppState::new(app.clone(), http_config);
    let media = hubbub_http::media::MediaState::new(storage);
    if let Some(links) = config.link_previews {
        let fetcher = hubbub_links::HttpLinkFetcher::new(links, media.optimizer.clone()).expect("link fetcher");
        app.set_link_fetcher(Arc::new(fetcher));
    }
    state.media = Some(media);
    let router = hubbub_http::api_router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sockets = app.clone();
    let server = tokio::spawn(async move {
        // As the binary does: on the signal, every WebSocket gets its 1001 close frame.
        let shutdown = async move {
            let _ = stopped.await;
            sockets.shutdown().await;
        };
        hubbub_http::serve(listener, router, config.serve, shutdown).await.expect("serve");
    });
    TestApp {
        addr,
        http: reqwest::Client::new(),
        data_dir,
        stop: Some(stop),
        server: Some(server),
        app,
        _database: database,
    }
}

#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: String,
    pub token: String,
    pub username: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    /// The app behind the server, for what only the command line does (granting an
    /// administrator).
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        self.call_with(self.http.request(method, self.url(path)), token, body).await
    }

    /// An unauthenticated call that says, as a proxy would, it was forwarded for `client`.
    pub async fn call_forwarded(&self, client: &str, method: Method, path: &str, body: Value) -> Reply {
        let request = self.http.request(method, self.url(path)).header("x-forwarded-for", client);
        self.call_with(request, None, Some(body)).await
    }

    async fn call_with(&self, mut request: reqwest::RequestBuilder, token: Option<&str>, body: Option<Value>) -> Reply {
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Reply { status, body, headers }
    }

    pub async fn get(&self, path: &str, user: &TestUser) -> Reply {
        self.call(Method::GET, path, Some(&user.token), None).await
    }

    pub async fn post(&self, path: &str, user: &TestUser, body: Value) -> Reply {
        self.call(Method::POST, path, Some(&user.token), Some(body)).await
    }

    pub async fn put(&self, path: &str, user: &TestUser, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(&user.token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, user: &TestUser, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(&user.token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, user: &TestUser) -> Reply {
        self.call(Method::DELETE, path, Some(&user.token), None).await
    }

    pub async fn register(&self, username: &str) -> TestUser {
        let reply = self
            .call(Method::POST, "/api/users", None, Some(json!({"username": username, "password": "correct horse"})))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "register {username}: {}", reply.body);
        TestUser {
            id: reply.body["user"]["id"].as_str().unwrap().to_owned(),
            token: reply.body["token"].as_str().unwrap().to_owned(),
            username: username.to_owned(),
        }
    }

    /// A second device (session) of the same user.
    pub async fn login(&self, user: &TestUser) -> TestUser {
        let reply = self
            .call(
                Method::POST,
                "/api/session",
                None,
                Some(json!({"username": user.username, "password": "correct horse"})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "login: {}", reply.body);
        TestUser { token: reply.body["token"].as_str().unwrap().to_owned(), ..user.clone() }
    }

    pub async fn direct(&self, a: &TestUser, b: &TestUser) -> String {
        let reply = self.post(&format!("/api/users/{}/conversation", b.id), a, json!({})).await;
        assert!(reply.status.is_success(), "direct: {}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn group(&self, admin: &TestUser, name: &str, members: &[&TestUser]) -> String {
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let reply = self.post("/api/conversations", admin, json!({"name": name, "member_ids": ids})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "group: {}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn send(&self, user: &TestUser, conversation: &str, text: &str) -> Value {
        let reply =
            self.post(&format!("/api/conversations/{conversation}/messages"), user, json!({"text": text})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "send: {}", reply.body);
        reply.body
    }

    pub async fn conversation(&self, user: &TestUser, id: &str) -> Value {
        let reply = self.get(&format!("/api/conversations/{id}"), user).await;
        assert_eq!(reply.status, StatusCode::OK, "conversation: {}", reply.body);
        reply.body
    }

    pub async fn ws(&self, user: &TestUser) -> Ws {
        let mut request = format!("ws://{}/api/ws", self.addr).into_client_request().unwrap();
        request.headers_mut().insert("authorization", format!("Bearer {}", user.token).parse().unwrap());
        let (stream, _) = tokio_tungstenite::connect_async(request).await.expect("ws connect");
        let mut ws = Ws { stream };
        // The registration is asynchronous; a round trip through the hub makes sure this
        // socket is registered before the test goes on.
        ws.settle().await;
        ws
    }
}

pub struct Ws {
    pub stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Ws {
    /// The next server event, skipping presence noise; `None` after `wait` without one.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let frame = tokio::time::timeout(wait, self.stream.next()).await.ok()??;
            match frame {
                Ok(Message::Text(text)) => {
                    let value: Value = serde_json::from_str(&text).expect("events are JSON");
                    if value["type"] == "presence" || value["type"] == "settled" {
                        continue;
                    }
                    return Some(value);
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    pub async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(5)).await.expect("expected an event")
    }

    /// The next event of a given type, skipping others.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let event = self.next().await;
            if event["type"] == kind {
                return event;
            }
        }
    }

    /// Asserts nothing else arrives within a short while.
    pub async fn assert_quiet(&mut self) {
        if let Some(event) = self.next_within(Duration::from_millis(300)).await {
            panic!("unexpected event {event}");
        }
    }

    pub async fn send_json(&mut self, value: Value) {
        self.stream.send(Message::Text(value.to_string().into())).await.expect("ws send");
    }

    /// Sends a frame that the server answers with an error frame, and waits for that
    /// answer: once it arrives, the hub has registered this socket.
    async fn settle(&mut self) {
        self.send_json(json!({"type": "nonsense"})).await;
        loop {
            let frame =
                tokio::time::timeout(Duration::from_secs(5), self.stream.next()).await.expect("settle").expect("open");
            if let Ok(Message::Text(text)) = frame
                && text.contains("\"error\"")
            {
                return;
            }
        }
    }

    /// Whether the server closed this socket (within `wait`).
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}

/// One of the shared sample files (`/work/shared/media-samples`).
pub fn sample(name: &str) -> Vec<u8> {
    let path =
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/media-samples")).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A multipart form with one `photo` file.
pub fn photo_form(bytes: Vec<u8>, filename: &str) -> Form {
    Form::new().part("photo", Part::bytes(bytes).file_name(filename.to_owned()).mime_str("image/jpeg").unwrap())
}

/// Sends a multipart form as `user`.
pub async fn upload(app: &TestApp, method: Method, path: &str, user: &TestUser, form: Form) -> (StatusCode, Value) {
    let response =
        app.http.request(method, app.url(path)).bearer_auth(&user.token).multipart(form).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

impl TestApp {
    /// Sets a group's photo (as one of its admins) and returns its URL.
    pub async fn set_group_photo(&self, admin: &TestUser, group: &str, sample_name: &str) -> String {
        let path = format!("/api/conversations/{group}/photo");
        let (status, body) =
            upload(self, Method::PUT, &path, admin, photo_form(sample(sample_name), sample_name)).await;
        assert_eq!(status, StatusCode::OK, "group photo: {body}");
        body["photo_url"].as_str().unwrap().to_owned()
    }

    /// The status of `GET url`, as `user` or anonymously.
    pub async fn status_of(&self, url: &str, user: Option<&TestUser>) -> StatusCode {
        let mut request = self.http.get(self.url(url));
        if let Some(user) = user {
            request = request.bearer_auth(&user.token);
        }
        request.send().await.unwrap().status()
    }
}

/// Waits until `check` says yes (up to 5 s), for state that another node learns a moment
/// after the event that changed it.
pub async fn eventually_async<F, Fut>(check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "not within 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
