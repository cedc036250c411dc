//! `cargo xtask cluster [--sqlite] [--debug]`: three Hubbub nodes behind haproxy on this
//! machine, for people to try what the cluster tests drive: a nats-server of its own
//! (JetStream, on a free port, so the machine's NATS is untouched), one shared database
//! (PostgreSQL `hubbub_cluster`, created when missing, at `HUBBUB_DATABASE_URL` or
//! `postgres://postgres@127.0.0.1:5432/hubbub_cluster`; or with `--sqlite` one SQLite file
//! that the three processes share), nodes on 8081-8083, haproxy on 8080 (stats on 8404).
//! State lives under `<target>/cluster/`. Ctrl-C stops everything: the terminal sends it
//! to every process of the group, and if any one of them exits the others are killed.

use crate::{build_web, cargo, ensure_debian_package, status, target_dir};
use anyhow::{Context, Result, bail};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const LB_PORT: u16 = 8080;
const STATS_PORT: u16 = 8404;
const NODE_PORTS: [u16; 3] = [8081, 8082, 8083];
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/hubbub_cluster";

/// Every process started, killed (and reaped) when this goes out of scope on any path.
struct Children(Vec<(String, Child)>);

impl Drop for Children {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn cluster(args: &[String]) -> Result<()> {
    let sqlite = args.iter().any(|a| a == "--sqlite");
    let debug = args.iter().any(|a| a == "--debug");
    if let Some(other) = args.iter().find(|a| *a != "--sqlite" && *a != "--debug") {
        bail!("unknown option {other:?}; usage: cargo xtask cluster [--sqlite] [--debug]");
    }
    ensure_debian_package("/usr/sbin/nats-server", "nats-server")?;
    ensure_debian_package("/usr/sbin/haproxy", "haproxy")?;
    build_web(false)?;
    let mut build = cargo();
    build.args(["build", "--package", "hubbub"]);
    if !debug {
        build.arg("--release");
    }
    status(build)?;
    let profile = if debug { "debug" } else { "release" };
    let bin = target_dir()?.join(profile).join("hubbub");
    let dir = target_dir()?.join("cluster");
    std::fs::create_dir_all(&dir)?;

    let database = if sqlite {
        format!("sqlite://{}", dir.join("hubbub.db").display())
    } else {
        let url = std::env::var("HUBBUB_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG.into());
        create_pg_database(&url)?;
        url
    };

    let mut children = Children(Vec::new());
    let nats_port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let nats = Command::new("/usr/sbin/nats-server")
        .args(["-js", "-sd"])
        .arg(dir.join("nats"))
        .args(["-p", &nats_port.to_string(), "-a", "127.0.0.1"])
        .stdout(std::fs::File::create(dir.join("nats.log"))?)
        .stderr(std::fs::File::create(dir.join("nats.err.log"))?)
        .spawn()
        .context("cannot start nats-server")?;
    children.0.push(("nats-server".into(), nats));
    wait_for(&format!("nats-server on {nats_port}"), || {
        std::net::TcpStream::connect(("127.0.0.1", nats_port)).is_ok()
    })?;
    let nats_url = format!("nats://127.0.0.1:{nats_port}");

    let media = dir.join("media");
    std::fs::create_dir_all(&media)?;
    let help = Command::new(&bin).args(["serve", "--help"]).output()?;
    let media_flag = String::from_utf8_lossy(&help.stdout).contains("--media-dir");
    for (index, port) in NODE_PORTS.iter().enumerate() {
        let data = dir.join(format!("node{}", index + 1));
        std::fs::create_dir_all(&data)?;
        // One media directory for all (as a shared volume would be): any node serves any upload.
        if !media_flag && !data.join("media").exists() {
            std::os::unix::fs::symlink(&media, data.join("media"))?;
        }
        let mut command = Command::new(&bin);
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(&data)
            .args(["--database-url", &database, "--nats-url", &nats_url, "--cluster", "dev"])
            .args(["--trusted-proxies", "127.0.0.1"])
            .env("HUBBUB_LOG", std::env::var("HUBBUB_LOG").unwrap_or_else(|_| "warn".into()));
        if media_flag {
            command.arg("--media-dir").arg(&media);
        }
        let mut node = command.spawn().context("cannot start hubbub")?;
        // One at a time: the first one creates the schema.
        let started = wait_for(&format!("node {} healthy", index + 1), || {
            healthy(*port) || node.try_wait().ok().flatten().is_some()
        });
        let exited = node.try_wait()?;
        children.0.push((format!("node {}", index + 1), node));
        started?;
        if let Some(exit) = exited {
            bail!("node {} exited at start ({exit}); its log is above", index + 1);
        }
    }

    let config = dir.join("haproxy.cfg");
    std::fs::write(&config, crate::haproxy::config(LB_PORT, STATS_PORT, &NODE_PORTS))?;
    let haproxy = Command::new("/usr/sbin/haproxy").arg("-f").arg(&config).arg("-db").spawn()?;
    children.0.push(("haproxy".into(), haproxy));
    wait_for("haproxy", || healthy(LB_PORT))?;

    let store = if sqlite { "one shared SQLite file" } else { "PostgreSQL" };
    eprintln!(
        "\nHubbub cluster: http://127.0.0.1:{LB_PORT}  (3 nodes on {:?}, {store}, NATS {nats_url}, \
         haproxy stats http://127.0.0.1:{STATS_PORT}/stats)\nCtrl-C stops everything.\n",
        NODE_PORTS
    );
    // Until any process ends (Ctrl-C ends them all); then the rest are killed.
    loop {
        for (name, child) in &mut children.0 {
            if let Some(exit) = child.try_wait()? {
                eprintln!("xtask: {name} exited ({exit}); stopping the cluster");
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Creates the URL's database when it does not exist, through `psql` on the server's
/// `postgres` database.
fn create_pg_database(url: &str) -> Result<()> {
    let (server, name) = url.rsplit_once('/').context("a PostgreSQL URL ends with /<database>")?;
    let name = name.split('?').next().unwrap_or(name);
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
        bail!("database name {name:?}: use letters, digits and _");
    }
    ensure_debian_package("/usr/bin/psql", "postgresql-client")?;
    let admin = format!("{server}/postgres");
    let query = |sql: &str| -> Result<String> {
        let output = Command::new("psql").args([&admin, "-tAc", sql]).output().context("cannot run psql")?;
        if !output.status.success() {
            bail!("psql {sql:?}: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    if query(&format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"))? != "1" {
        query(&format!("CREATE DATABASE {name}"))?;
        eprintln!("xtask: created the database {name}");
    }
    Ok(())
}

fn healthy(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}
