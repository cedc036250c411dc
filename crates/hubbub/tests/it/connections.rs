//! The process as an operator and an attacker see it: it outlasts a flood of idle
//! connections, stops on SIGTERM within its deadline whatever clients do, and logs every
//! request at the default level without a secret.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hubbub");

struct Process {
    child: Child,
    port: u16,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the process is started with: extra flags, an open-files limit, a log file.
#[derive(Default)]
struct Launch<'a> {
    args: &'a [&'a str],
    open_files: Option<(u64, u64)>,
    log: Option<&'a Path>,
}

fn start(data_dir: &Path, launch: Launch<'_>) -> Process {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .args(["--log-format", "json"])
        .args(launch.args)
        .env_remove("HUBBUB_LOG")
        .stdout(Stdio::null());
    match launch.log {
        Some(path) => command.stderr(std::fs::File::create(path).unwrap()),
        None => command.stderr(Stdio::null()),
    };
    if let Some((soft, hard)) = launch.open_files {
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit { rlim_cur: soft, rlim_max: hard };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let child = command.spawn().expect("start hubbub");
    let process = Process { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while health(port, Duration::from_millis(500)).is_err() {
        assert!(Instant::now() < deadline, "hubbub did not become healthy");
        std::thread::sleep(Duration::from_millis(50));
    }
    process
}

/// One plain `GET /api/health` on a new connection; the status line or why there is none.
fn health(port: u16, within: Duration) -> Result<String, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(within)).unwrap();
    stream.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(|e| e.to_string())?;
    let status = response.lines().next().unwrap_or_default().to_owned();
    if status.starts_with("HTTP/1.1 200") { Ok(status) } else { Err(format!("answered {status:?}")) }
}

fn idle_connections(port: u16, count: usize) -> Vec<TcpStream> {
    (0..count).filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok()).collect()
}

/// CPU seconds (user + system) the process has used so far, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

#[test]
fn the_soft_open_files_limit_is_raised_so_idle_connections_do_not_starve_the_server() {
    let dir = tempfile::tempdir().unwrap();
    // `ulimit -S -n 256` with a generous hard limit: the server takes the hard limit.
    let server = start(dir.path(), Launch { open_files: Some((256, 4096)), ..Default::default() });
    let _idle = idle_connections(server.port, 300);
    health(server.port, Duration::from_secs(2)).expect("health answers beside 300 idle connections");
}

#[test]
fn at_the_hard_open_files_limit_silent_connections_time_out_and_the_server_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        Launch { open_files: Some((256, 256)), args: &["--header-read-timeout", "1s"], ..Default::default() },
    );
    let idle = idle_connections(server.port, 300);
    assert!(idle.len() >= 250, "the kernel's backlog accepted the connections");
    let pid = server.child.id();
    let cpu_before = cpu_seconds(pid);
    std::thread::sleep(Duration::from_millis(1000));
    // Out of descriptors, the accept loop must wait, not spin.
    let busy = cpu_seconds(pid) - cpu_before;
    assert!(busy < 0.5, "the server burnt {busy:.2} s of CPU in 1 s while out of descriptors");
    // The header timeout frees the silent connections' descriptors; health answers again.
    let started = Instant::now();
    let mut last = Err(String::new());
    while started.elapsed() < Duration::from_secs(8) {
        last = health(server.port, Duration::from_secs(1));
        if last.is_ok() {
            break;
        }
    }
    last.expect("health answers once the silent connections have timed out");
    drop(idle);
}

#[test]
fn sigterm_stops_the_server_within_its_deadline_while_clients_hold_half_sent_requests() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(
        dir.path(),
        Launch {
            // Timeouts far beyond the deadline, so only the deadline can end these requests.
            args: &["--shutdown-timeout", "2s", "--header-read-timeout", "60s", "--body-read-timeout", "60s"],
            ..Default::default()
        },
    );
    let mut half_a_header = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    half_a_header.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut short_body = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    short_body
        .write_all(
            b"POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .unwrap();
    // A WebSocket too: it must hear 1001 "going away", not a dropped connection.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut socket = runtime.block_on(open_websocket(server.port));
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) }, 0);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(signalled.elapsed() < Duration::from_secs(8), "still running 8 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "a clean exit: {status}");
    assert!(signalled.elapsed() >= Duration::from_millis(1500), "it did wait for the requests in flight");
    let close = runtime.block_on(async {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    });
    assert_eq!(close, Some(1001), "the WebSocket was told the server is going away");
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Registers a user and opens a WebSocket with their token.
async fn open_websocket(port: u16) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let created = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/users"))
        .json(&serde_json::json!({"username": "walter", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let token = created.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let mut request = format!("ws://127.0.0.1:{port}/api/ws").into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.expect("websocket").0
}

#[test]
fn every_request_is_logged_at_the_default_level_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("hubbub.log");
    let server = start(&dir.path().join("data"), Launch { log: Some(&log), ..Default::default() });
    let base = format!("http://127.0.0.1:{}", server.port);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let token = runtime.block_on(async {
        let client = reqwest::Client::new();
        let created = client
            .post(format!("{base}/api/users"))
            .json(&serde_json::json!({"username": "alice", "password": "secret horse battery"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let token = created.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        let wrong = client
            .post(format!("{base}/api/session"))
            .json(&serde_json::json!({"username": "alice", "password": "wrong password!"}))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        let me = client.get(format!("{base}/api/users/me")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(me.status(), 200);
        token
    });
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let requests: Vec<&serde_json::Value> =
        lines.iter().filter(|line| line.get("status").is_some() && line.get("latency").is_some()).collect();
    // The readiness probes of `start` are requests too; these are the three of the test.
    for (method, route, status) in
        [("POST", "/api/users", 201), ("POST", "/api/session", 401), ("GET", "/api/users/me", 200)]
    {
        let line = requests
            .iter()
            .find(|line| line["span"]["method"] == method && line["span"]["route"] == route)
            .unwrap_or_else(|| panic!("no log line for {method} {route} in:\n{text}"));
        assert_eq!(line["status"], status, "{line}");
        assert!(line["span"]["request_id"].as_str().is_some_and(|id| id.len() >= 32), "{line}");
    }
    assert!(!text.contains(&token), "a token was logged");
    assert!(!text.contains("secret horse battery") && !text.contains("wrong password!"), "a password was logged");
}
