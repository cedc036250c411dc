//! The connection layer as an attacker and a sloppy client see it: timeouts, refusals a
//! client can read and survive, the shutdown deadline, a full disk, and the headers every
//! answer carries.

use crate::helpers::{TestApp, TestConfig, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn short_timeouts() -> TestConfig {
    TestConfig {
        serve: hubbub_http::ServeConfig {
            header_read_timeout: Duration::from_millis(500),
            body_read_timeout: Duration::from_millis(500),
            idle_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_millis(500),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Reads until the server closes the connection (or `within` passes), returning what came.
async fn read_until_closed(stream: &mut (impl AsyncReadExt + Unpin), within: Duration) -> Result<Vec<u8>, String> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => return Err(format!("still open after {within:?}; got {:?}", String::from_utf8_lossy(&received))),
            Ok(Ok(0)) => return Ok(received),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Ok(Err(error)) => {
                return Err(format!("{error} after {:?}", String::from_utf8_lossy(&received)));
            }
        }
    }
}

/// An 8×8 red PNG, small enough to write here, real enough for the pipeline.
fn tiny_png() -> Vec<u8> {
    vec![
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x08, 0x00, 0x00, 0x00, 0x08, 0x08, 0x02, 0x00, 0x00, 0x00, 0x4b, 0x6d, 0x29, 0xdc, 0x00, 0x00, 0x00,
        0x11, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x38, 0x21, 0x27, 0x87, 0x15, 0x31, 0x0c, 0x2d, 0x09, 0x00,
        0x90, 0xbf, 0x41, 0x01, 0xb2, 0x9f, 0x3e, 0x22, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42,
        0x60, 0x82,
    ]
}

fn oversized_photo_form() -> Form {
    let bytes = vec![0xAB; 21 * 1024 * 1024];
    Form::new().part("photo", Part::bytes(bytes).file_name("big.jpg").mime_str("image/jpeg").unwrap())
}

#[tokio::test]
async fn a_refused_upload_does_not_break_the_next_request_on_a_kept_connection() {
    // The drop was intermittent, so it is tried on several freshly started servers.
    for round in 0..4 {
        let app = spawn_app().await;
        let alice = app.register("alice").await;
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
        for attempt in 0..3 {
            let refused = client
                .put(app.url("/api/users/me/photo"))
                .bearer_auth(&alice.token)
                .multipart(oversized_photo_form())
                .send()
                .await
                .unwrap_or_else(|e| panic!("round {round}.{attempt}: the 413 itself was lost: {e}"));
            assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
            assert_eq!(
                refused.headers().get("connection").map(|v| v.to_str().unwrap()),
                Some("close"),
                "a connection whose body was not read is not reused"
            );
            let body: serde_json::Value = refused.json().await.unwrap();
            assert_eq!(body["error"]["code"], "payload_too_large");
            let next = client
                .get(app.url("/api/users/me"))
                .bearer_auth(&alice.token)
                .send()
                .await
                .unwrap_or_else(|e| panic!("round {round}.{attempt}: the next request was dropped: {e}"));
            assert_eq!(next.status(), StatusCode::OK);
        }
    }
}

#[tokio::test]
async fn a_refused_streamed_upload_answers_413_and_the_client_carries_on() {
    // No Content-Length (chunked): the server reads up to the limit, then refuses.
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
    let chunks = (0..22).map(|_| Ok::<_, std::io::Error>(vec![0xCD; 1024 * 1024]));
    let part = Part::stream(reqwest::Body::wrap_stream(futures::stream::iter(chunks))).file_name("big.jpg");
    let refused = client
        .put(app.url("/api/users/me/photo"))
        .bearer_auth(&alice.token)
        .multipart(Form::new().part("photo", part))
        .send()
        .await
        .expect("the 413 arrives");
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let next = client.get(app.url("/api/users/me")).bearer_auth(&alice.token).send().await.expect("next request");
    assert_eq!(next.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_declared_oversized_upload_is_refused_before_its_body_is_sent() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "PUT /api/users/me/photo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {}\r\n\r\n",
        alice.token,
        30 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // Not one byte of the body: the answer must not wait for it.
    let mut buffer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
        .await
        .expect("answered without reading the body")
        .unwrap();
    let response = String::from_utf8_lossy(&buffer[..n]);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.to_ascii_lowercase().contains("connection: close"), "{response}");
    assert!(response.contains("payload_too_large"), "{response}");
}

#[tokio::test]
async fn a_plain_client_reads_the_413_after_sending_an_oversized_json_body() {
    let app = spawn_app().await;
    // Several tries: the reset that used to destroy the answer depended on timing.
    for attempt in 0..5 {
        let stream = TcpStream::connect(app.addr).await.unwrap();
        // More than the socket buffers hold: the client is still sending when the server
        // has already decided, as a real client with a big body would be.
        let body = format!("{{\"username\": \"{}\", \"password\": \"x\"}}", "a".repeat(4 * 1024 * 1024));
        let request = format!(
            "POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut stream = stream;
        // A plain client sends its whole request, then reads the answer: the send must not
        // be reset because the server refused early.
        tokio::time::timeout(Duration::from_secs(5), stream.write_all(request.as_bytes()))
            .await
            .unwrap_or_else(|_| panic!("attempt {attempt}: the server stopped reading the body"))
            .unwrap_or_else(|e| panic!("attempt {attempt}: sending the body failed: {e}"));
        let received = read_until_closed(&mut stream, Duration::from_secs(5))
            .await
            .unwrap_or_else(|e| panic!("attempt {attempt}: {e}"));
        let response = String::from_utf8_lossy(&received);
        assert!(response.starts_with("HTTP/1.1 413"), "attempt {attempt}: {response}");
        assert!(response.contains("payload_too_large"), "attempt {attempt}: {response}");
    }
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_header_timeout() {
    let app = spawn_app_with(short_timeouts()).await;
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let mut half_a_request = TcpStream::connect(app.addr).await.unwrap();
    half_a_request.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = Instant::now();
    read_until_closed(&mut silent, Duration::from_secs(5)).await.expect("a silent connection is closed");
    read_until_closed(&mut half_a_request, Duration::from_secs(5)).await.expect("half a header is not waited for");
    assert!(started.elapsed() < Duration::from_secs(3), "closed after {:?}", started.elapsed());
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_and_the_client_reconnects() {
    let app = spawn_app_with(short_timeouts()).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buffer = vec![0u8; 4096];
    let n = stream.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"));
    // Keep-alive, then silence: the server lets go of the connection.
    let rest = read_until_closed(&mut stream, Duration::from_secs(5)).await.expect("an idle connection is closed");
    assert!(rest.is_empty(), "nothing more was sent before the close");
    // A pooled client simply opens a new connection afterwards.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(app.http.get(app.url("/api/health")).send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_is_not_waited_for() {
    let app = spawn_app_with(short_timeouts()).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user")
        .await
        .unwrap();
    let started = Instant::now();
    let received = read_until_closed(&mut stream, Duration::from_secs(5)).await.expect("the stalled body is cut");
    assert!(started.elapsed() < Duration::from_secs(3), "cut after {:?}", started.elapsed());
    let response = String::from_utf8_lossy(&received);
    assert!(response.is_empty() || response.starts_with("HTTP/1.1 4"), "{response}");
}

#[tokio::test]
async fn shutdown_cuts_requests_that_never_finish_after_its_deadline() {
    let mut options = short_timeouts();
    // Timeouts far longer than the shutdown deadline: only the deadline can end these.
    options.serve.header_read_timeout = Duration::from_secs(60);
    options.serve.body_read_timeout = Duration::from_secs(60);
    options.serve.idle_timeout = Duration::from_secs(60);
    let mut app = spawn_app_with(options).await;
    let mut half_a_header = TcpStream::connect(app.addr).await.unwrap();
    half_a_header.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut short_body = TcpStream::connect(app.addr).await.unwrap();
    short_body
        .write_all(
            b"POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    app.stop().await.expect("the server stops within its shutdown deadline");
    assert!(started.elapsed() < Duration::from_secs(3), "stopped after {:?}", started.elapsed());
    read_until_closed(&mut half_a_header, Duration::from_secs(3)).await.ok();
    read_until_closed(&mut short_body, Duration::from_secs(3)).await.ok();
    assert!(TcpStream::connect(app.addr).await.is_err(), "no new connections after shutdown");
}

#[tokio::test]
async fn api_answers_are_not_cached_or_sniffed_and_media_may_run_nothing() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    for reply in [app.get("/api/users/me", &alice).await, app.get("/api/conversations", &alice).await] {
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.headers["x-content-type-options"], "nosniff");
        assert_eq!(reply.headers["cache-control"], "no-store");
    }
    let error = app.get("/api/conversations/not-a-uuid", &alice).await;
    assert_eq!(error.headers["x-content-type-options"], "nosniff");

    let avatar = tiny_png();
    let form = Form::new().part("photo", Part::bytes(avatar).file_name("me.png").mime_str("image/png").unwrap());
    let set =
        app.http.put(app.url("/api/users/me/photo")).bearer_auth(&alice.token).multipart(form).send().await.unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    let user: serde_json::Value = set.json().await.unwrap();
    let url = user["photo_url"].as_str().expect("photo_url").to_owned();
    let media = app.http.get(app.url(&url)).bearer_auth(&alice.token).send().await.unwrap();
    assert_eq!(media.status(), StatusCode::OK);
    assert_eq!(media.headers()["content-security-policy"], "default-src 'none'");
    assert_eq!(media.headers()["x-content-type-options"], "nosniff");
    // Media keep their own long-lived private caching.
    assert!(media.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let missing = app.http.get(app.url("/media/nothing.jpg")).bearer_auth(&alice.token).send().await.unwrap();
    assert_eq!(missing.headers()["content-security-policy"], "default-src 'none'");
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop. `None` where this
/// process may not mount (not root): the caller then says it skipped.
struct TinyDisk {
    dir: tempfile::TempDir,
}

impl TinyDisk {
    fn mount(size: &str) -> Option<TinyDisk> {
        let dir = tempfile::tempdir().ok()?;
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then_some(TinyDisk { dir })
    }

    fn files(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() { walk(&path, out) } else { out.push(path) }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

#[tokio::test]
async fn a_photo_upload_on_a_full_disk_answers_503_and_leaves_nothing_behind() {
    let Some(disk) = TinyDisk::mount("64k") else {
        eprintln!("SKIPPED: this test mounts a 64 KiB tmpfs and needs root");
        return;
    };
    let app = spawn_app_with(TestConfig { media_dir: Some(disk.dir.path().to_owned()), ..Default::default() }).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let mut photo = tiny_png();
    photo.resize(512 * 1024, 0);
    let form = Form::new()
        .part("photo", Part::bytes(photo).file_name("big.png").mime_str("image/png").unwrap())
        .text("text", "look");
    let reply = app
        .http
        .post(app.url(&format!("/api/conversations/{chat}/messages")))
        .bearer_auth(&alice.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(body["error"]["message"].as_str().unwrap().contains("no room"), "{body}");
    assert!(disk.files().is_empty(), "left behind: {:?}", disk.files());
    let history = app.get(&format!("/api/conversations/{chat}/messages"), &alice).await;
    assert_eq!(history.body["messages"], json!([]), "no message was sent");
}

impl TestApp {
    /// Signals the server to shut down and waits for `serve` to return (at most 10 s).
    pub async fn stop(&mut self) -> Result<(), String> {
        let stop = self.stop.take().ok_or("already stopped")?;
        let _ = stop.send(());
        let server = self.server.take().ok_or("already stopped")?;
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .map_err(|_| "serve did not return within 10 s".to_owned())?
            .map_err(|e| e.to_string())
    }
}
