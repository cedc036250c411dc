//! A real cluster on this machine: its own nats-server (JetStream on, a store dir of its
//! own), three `hubbub serve` processes on one database, and haproxy in front of them
//! (round robin, no stickiness, health checks on `/api/health`). Clients only ever talk to
//! haproxy; the harness reaches nodes directly only as an operator would (health, SIGKILL).
//! Dropping the `Cluster` kills every process it started, also when a test panics.
//!
//! The database is one parameter: a shared SQLite file by default, or with
//! `HUBBUB_TEST_DATABASE=postgres` a fresh PostgreSQL database `hubbub_cluster_<uuid>` on
//! 127.0.0.1:5432 (user postgres), dropped with the cluster.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hubbub");
const NATS_SERVER: &str = "/usr/sbin/nats-server";
const HAPROXY: &str = "/usr/sbin/haproxy";
pub const NODES: usize = 3;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed (SIGKILL) and reaped when dropped.
pub struct Proc(Option<Child>);

impl Proc {
    fn spawn(command: &mut Command) -> Self {
        // `Proc`'s drop kills and waits for it on every path; clippy cannot see through that.
        #[allow(clippy::zombie_processes)]
        let child = command.spawn().unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        Self(Some(child))
    }

    fn pid(&self) -> i32 {
        self.0.as_ref().map(|c| c.id() as i32).expect("running")
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the pid of our own child, which is not yet reaped.
        unsafe {
            libc::kill(self.pid(), signal);
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // A stopped process (SIGSTOP) still dies of SIGKILL.
        self.kill();
    }
}

/// The one database all nodes share.
pub enum Database {
    Sqlite(PathBuf),
    /// Dropped (`DROP DATABASE ... WITH (FORCE)`, so a SIGKILLed node's connections do
    /// not keep it) when the cluster is.
    Postgres(hubbub_store::testing::TestDatabase),
}

impl Database {
    fn create(dir: &Path) -> Self {
        if hubbub_store::testing::postgres_selected() {
            Database::Postgres(hubbub_store::testing::TestDatabase::create_blocking("cluster"))
        } else {
            Database::Sqlite(dir.join("hubbub.db"))
        }
    }

    pub fn url(&self) -> String {
        match self {
            Database::Sqlite(path) => format!("sqlite://{}", path.display()),
            Database::Postgres(database) => database.url.clone(),
        }
    }
}

/// The cluster's own nats-server, which tests may kill, restart, pause and resume.
pub struct Nats {
    port: u16,
    store: PathBuf,
    proc: Proc,
}

impl Nats {
    fn start(store: PathBuf, port: u16) -> Self {
        let proc = Proc::spawn(
            Command::new(NATS_SERVER)
                .args(["-js", "-sd"])
                .arg(&store)
                .args(["-p", &port.to_string(), "-a", "127.0.0.1"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_until("nats-server listens", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Self { port, store, proc }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn kill(&mut self) {
        self.proc.kill();
    }

    /// A new nats-server on the same port and store dir, as after a crash and restart.
    pub fn restart(&mut self) {
        self.proc.kill();
        *self = Nats::start(self.store.clone(), self.port);
    }

    pub fn pause(&self) {
        self.proc.signal(libc::SIGSTOP);
    }

    pub fn resume(&self) {
        self.proc.signal(libc::SIGCONT);
    }
}

pub struct Node {
    pub port: u16,
    pub log: PathBuf,
    proc: Proc,
}

pub struct Cluster {
    /// `http://127.0.0.1:<haproxy port>`: the only address clients use.
    pub base: String,
    pub ws_base: String,
    pub http: reqwest::Client,
    pub nats: Nats,
    pub nodes: Vec<Node>,
    stats_port: u16,
    // Fields drop in order: haproxy, then the database (after the nodes, which `Drop` kills
    // first), then the temporary directory.
    haproxy: Proc,
    /// Held for its drop (a PostgreSQL database is dropped with the cluster).
    _database: Database,
    dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.haproxy.kill();
        for node in &mut self.nodes {
            node.proc.kill();
        }
        self.nats.kill();
        if std::thread::panicking() {
            eprintln!("cluster logs kept under {}", self.dir.path().display());
            // Keep the logs of a failed run for whoever reads its output.
            let _ = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap()).keep();
        }
    }
}

impl Cluster {
    pub async fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let database = Database::create(dir.path());
        let nats = Nats::start(dir.path().join("nats"), free_port());
        let cluster_name = format!("it-{}", uuid::Uuid::now_v7().simple());
        let media = dir.path().join("media");
        std::fs::create_dir_all(&media).unwrap();
        let media_flag = serve_help().contains("--media-dir");
        let mut nodes = Vec::new();
        for index in 0..NODES {
            let data = dir.path().join(format!("node{index}"));
            std::fs::create_dir_all(&data).unwrap();
            // Every node must read every upload: one media directory, as a shared volume.
            if !media_flag {
                std::os::unix::fs::symlink(&media, data.join("media")).unwrap();
            }
            let log = dir.path().join(format!("node{index}.log"));
            // A port from `free_port` is free when asked, not necessarily when the node binds
            // it (other tests run alongside): a node that finds it taken is started again on
            // another.
            let mut attempt = 0;
            let node = loop {
                attempt += 1;
                let port = free_port();
                let mut command = Command::new(BIN);
                command
                    .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
                    .arg(&data)
                    .args(["--database-url", &database.url(), "--nats-url", &nats.url(), "--cluster", &cluster_name])
                    .args(["--trusted-proxies", "127.0.0.1", "--registration-limit", "0", "--log-format", "json"])
                    .env_remove("HUBBUB_LOG")
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(&log).unwrap());
                if media_flag {
                    command.arg("--media-dir").arg(&media);
                }
                let mut node = Node { port, log: log.clone(), proc: Proc::spawn(&mut command) };
                // One at a time: the first creates the schema, and concurrent migrations of
                // one SQLite file would race.
                if try_healthy(&mut node).await || attempt == 5 {
                    wait_healthy(&mut node).await;
                    break node;
                }
            };
            nodes.push(node);
        }
        let (lb_port, stats_port) = (free_port(), free_port());
        let config = dir.path().join("haproxy.cfg");
        let ports: Vec<u16> = nodes.iter().map(|n| n.port).collect();
        std::fs::write(&config, super::haproxy::config(lb_port, stats_port, &ports)).unwrap();
        let haproxy = Proc::spawn(
            Command::new(HAPROXY)
                .arg("-f")
                .arg(&config)
                .arg("-db")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.path().join("haproxy.log")).unwrap()),
        );
        let cluster = Cluster {
            base: format!("http://127.0.0.1:{lb_port}"),
            ws_base: format!("ws://127.0.0.1:{lb_port}"),
            http: reqwest::Client::new(),
            nats,
            nodes,
            stats_port,
            haproxy,
            _database: database,
            dir,
        };
        cluster.wait_servers_up(NODES).await;
        cluster
    }

    /// haproxy's view of each node, from its stats page (CSV), in node order.
    pub async fn stats(&self) -> Vec<ServerStats> {
        let url = format!("http://127.0.0.1:{}/stats;csv", self.stats_port);
        let text = self.http.get(url).send().await.expect("haproxy stats").text().await.unwrap();
        parse_stats(&text)
    }

    /// Total streams haproxy has sent to each node so far.
    pub async fn totals(&self) -> Vec<u64> {
        self.stats().await.iter().map(|s| s.total).collect()
    }

    /// Waits until haproxy counts `up` nodes as UP (its checks run every 300 ms).
    pub async fn wait_servers_up(&self, up: usize) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let stats = self.stats_reachable().await;
            if stats.iter().filter(|s| s.status.starts_with("UP")).count() == up && stats.len() == NODES {
                return;
            }
            assert!(Instant::now() < deadline, "haproxy never saw {up} nodes up: {stats:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn stats_reachable(&self) -> Vec<ServerStats> {
        let url = format!("http://127.0.0.1:{}/stats;csv", self.stats_port);
        match self.http.get(url).send().await {
            Ok(response) => parse_stats(&response.text().await.unwrap_or_default()),
            Err(_) => Vec::new(),
        }
    }

    /// SIGKILL one node, as a crash would, and waits until haproxy has taken it out.
    pub async fn kill_node(&mut self, index: usize) {
        self.nodes[index].proc.kill();
        let down = NODES - self.nodes.iter().filter(|n| n.proc.0.is_none()).count();
        self.wait_servers_up(down).await;
    }

    /// `/api/health` of one node, asked directly (as haproxy's check does).
    pub async fn node_health(&self, index: usize) -> serde_json::Value {
        let url = format!("http://127.0.0.1:{}/api/health", self.nodes[index].port);
        match self.http.get(url).send().await {
            Ok(response) => response.json().await.unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        }
    }

    /// Waits until every live node says `ok` (its bus connected again).
    pub async fn wait_all_ok(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let mut all = true;
            for (index, node) in self.nodes.iter().enumerate() {
                if node.proc.0.is_some() && self.node_health(index).await["status"] != "ok" {
                    all = false;
                }
            }
            if all {
                return;
            }
            assert!(Instant::now() < deadline, "the nodes did not all report ok");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServerStats {
    pub status: String,
    /// Streams open now (a WebSocket counts until it closes).
    pub current: u64,
    pub total: u64,
}

fn parse_stats(csv: &str) -> Vec<ServerStats> {
    let mut lines = csv.lines();
    let Some(header) = lines.next() else { return Vec::new() };
    let columns: Vec<&str> = header.trim_start_matches("# ").split(',').collect();
    let at = |name: &str| columns.iter().position(|c| *c == name).expect("haproxy stats column");
    let (px, sv, scur, stot, status) = (at("pxname"), at("svname"), at("scur"), at("stot"), at("status"));
    let mut servers: Vec<(String, ServerStats)> = lines
        .map(|line| line.split(',').collect::<Vec<_>>())
        .filter(|f| f.len() > status && f[px] == "nodes" && f[sv].starts_with("node"))
        .map(|f| {
            let stats = ServerStats {
                status: f[status].to_owned(),
                current: f[scur].parse().unwrap_or(0),
                total: f[stot].parse().unwrap_or(0),
            };
            (f[sv].to_owned(), stats)
        })
        .collect();
    servers.sort_by(|a, b| a.0.cmp(&b.0));
    servers.into_iter().map(|(_, s)| s).collect()
}

fn serve_help() -> String {
    let output = Command::new(BIN).args(["serve", "--help"]).output().expect("hubbub serve --help");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Waits for the node to be healthy; false if it exited because its port was taken.
async fn try_healthy(node: &mut Node) -> bool {
    let url = format!("http://127.0.0.1:{}/api/health", node.port);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(response) = reqwest::get(&url).await
            && response.status() == 200
        {
            return true;
        }
        if node.proc.0.as_mut().and_then(|c| c.try_wait().ok().flatten()).is_some() {
            let log = std::fs::read_to_string(&node.log).unwrap_or_default();
            return !log.contains("Address already in use");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

async fn wait_healthy(node: &mut Node) {
    let url = format!("http://127.0.0.1:{}/api/health", node.port);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = reqwest::get(&url).await
            && response.status() == 200
        {
            return;
        }
        let log = std::fs::read_to_string(&node.log).unwrap_or_default();
        let exited = node.proc.0.as_mut().and_then(|c| c.try_wait().ok().flatten());
        assert!(exited.is_none(), "node on {} exited ({exited:?}):\n{log}", node.port);
        assert!(Instant::now() < deadline, "node on {} did not become healthy:\n{log}", node.port);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn wait_until(what: &str, within: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
