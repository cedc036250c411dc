//! PostgreSQL out of reach: the node stays up, requests that need the database fail fast
//! with 503 `unavailable`, open sockets stay open, and service resumes by itself when the
//! database is back. The outage is real at the network level: the node reaches PostgreSQL
//! through a TCP proxy that the test cuts (every connection closed, the port refusing) and
//! restores on the same port. (The machine's PostgreSQL itself is never stopped.)

use crate::helpers::spawn_app_on_database;
use hubbub_store::testing::TestDatabase;
use reqwest::StatusCode;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Forwards 127.0.0.1:<port> to the PostgreSQL server until cut.
struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    tasks: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    /// Listens on a port below Linux's ephemeral range (32768 and up by default): while the
    /// proxy is cut, a port from that range can be taken by any outgoing connection on the
    /// machine (other tests, the node itself), and listening again on it would fail.
    async fn start(upstream: SocketAddr) -> Proxy {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let seed = u64::from(std::process::id()) ^ u64::from(nanos);
        let first = 20_000 + (seed % 12_000) as u16;
        for offset in 0..12_000u16 {
            let port = 20_000 + (first - 20_000 + offset) % 12_000;
            if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
                let addr = listener.local_addr().unwrap();
                return Proxy { addr, upstream, tasks: Some(tokio::spawn(forward(listener, upstream))) };
            }
        }
        panic!("no free port for the proxy below the ephemeral range");
    }

    /// Closes every proxied connection and stops listening (new connections are refused).
    async fn cut(&mut self) {
        if let Some(task) = self.tasks.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    async fn restore(&mut self) {
        let listener = TcpListener::bind(self.addr).await.expect("the proxy's port again");
        self.tasks = Some(tokio::spawn(forward(listener, self.upstream)));
    }
}

/// Accepts and forwards; aborting this task drops the `JoinSet`, which aborts (and so
/// closes) every connection it forwards.
async fn forward(listener: TcpListener, upstream: SocketAddr) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((mut client, _)) = listener.accept().await else { continue };
        connections.spawn(async move {
            if let Ok(mut server) = TcpStream::connect(upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_out_of_reach_is_503_fast_sockets_stay_open_and_service_resumes_by_itself() {
    let database = TestDatabase::create("outage").await;
    let server: url_parts::Server = url_parts::server(&database.url);
    let mut proxy = Proxy::start(server.addr).await;
    let url = format!("postgres://{}@{}/{}", server.user, proxy.addr, database.name);
    let app = spawn_app_on_database(&url).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let mut bobs_socket = app.ws(&bob).await;
    app.send(&alice, &chat, "before").await;
    assert_eq!(bobs_socket.next_of("message.created").await["data"]["text"], "before");

    proxy.cut().await;
    let started = Instant::now();
    let refused =
        app.post(&format!("/api/conversations/{chat}/messages"), &alice, serde_json::json!({"text": "during"})).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.body);
    assert_eq!(refused.code(), "unavailable", "{}", refused.body);
    assert!(started.elapsed() < Duration::from_secs(5), "fails fast, not after a TCP timeout: {:?}", started.elapsed());
    let listed = app.get("/api/conversations", &alice).await;
    assert_eq!(listed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", listed.body);
    let health = app.http.get(app.url("/api/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE, "health tells the balancer");

    proxy.restore().await;
    // Nothing restarts the node: its pool reconnects on the next requests.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let sent = app
            .post(&format!("/api/conversations/{chat}/messages"), &alice, serde_json::json!({"text": "after"}))
            .await;
        if sent.status == StatusCode::CREATED {
            break;
        }
        assert_eq!(sent.status, StatusCode::SERVICE_UNAVAILABLE, "only 503 while it recovers: {}", sent.body);
        assert!(Instant::now() < deadline, "service did not resume within 15 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Bob's socket, opened before the outage, is still open and hears the new message; the
    // refused one was never stored.
    assert_eq!(bobs_socket.next_of("message.created").await["data"]["text"], "after");
    let page = app.get(&format!("/api/conversations/{chat}/messages"), &bob).await;
    let texts: Vec<&str> =
        page.body["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["before", "after"]);
}

/// The server and user of a `postgres://user@host:port/db` URL.
mod url_parts {
    use std::net::{SocketAddr, ToSocketAddrs};

    pub struct Server {
        pub user: String,
        pub addr: SocketAddr,
    }

    pub fn server(url: &str) -> Server {
        let rest = url.strip_prefix("postgres://").expect("a postgres:// URL");
        let (authority, _db) = rest.split_once('/').expect("a database in the URL");
        let (user, host) = authority.split_once('@').expect("a user in the URL");
        let addr = host.to_socket_addrs().expect("a reachable host").next().expect("an address");
        Server { user: user.to_owned(), addr }
    }
}
