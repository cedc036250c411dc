//! Starting the server under test on a fresh temp data dir, pinned to its own core.

use crate::sys;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// What to benchmark.
#[derive(Debug, Clone)]
pub enum Target {
    /// The floor, run as `<exe> floor --listen ADDR` (the exe is this tool's own binary).
    Floor { exe: PathBuf },
    /// Hubbub, run as `<bin> serve --listen ADDR --data-dir DIR [extra...]`.
    Hubbub { bin: PathBuf, extra: Vec<String> },
    /// Something already running; RSS is read only if its pid is known.
    External { url: String, pid: Option<u32> },
}

impl Target {
    pub fn name(&self) -> &'static str {
        match self {
            Target::Floor { .. } => "floor",
            Target::Hubbub { .. } => "hubbub",
            Target::External { .. } => "external",
        }
    }

    pub fn persists(&self) -> bool {
        !matches!(self, Target::Floor { .. })
    }
}

/// Where to put the server.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    /// CPU to pin the server to with `taskset`, if any.
    pub server_cpu: Option<usize>,
}

pub struct Running {
    pub base: String,
    pub pid: Option<u32>,
    /// Exec until the first 200 from `/api/health`.
    pub startup: Duration,
    child: Option<tokio::process::Child>,
    dir: Option<tempfile::TempDir>,
    log_path: Option<PathBuf>,
}

fn free_port() -> Result<u16> {
    // The port is released before the server binds it; a collision is possible but harmless
    // on a machine where nothing else binds random loopback ports in that instant.
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Running {
    pub async fn start(target: &Target, place: Placement) -> Result<Running> {
        let (program, args, dir) = match target {
            Target::External { url, pid } => {
                let api = crate::client::Api::new(url)?;
                if !api.health().await {
                    bail!("{url}/api/health is not healthy");
                }
                return Ok(Running {
                    base: url.trim_end_matches('/').into(),
                    pid: *pid,
                    startup: Duration::ZERO,
                    child: None,
                    dir: None,
                    log_path: None,
                });
            }
            Target::Floor { exe } => (exe.clone(), vec!["floor".to_string()], None),
            Target::Hubbub { bin, extra } => {
                let dir = tempfile::Builder::new().prefix("hubbub-bench-").tempdir()?;
                let mut a = vec!["serve".to_string(), "--data-dir".into(), dir.path().display().to_string()];
                a.extend(extra.iter().cloned());
                (bin.clone(), a, Some(dir))
            }
        };
        let port = free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        // The log lives outside the data dir so the server finds its data dir empty.
        let log_path = std::env::temp_dir().join(format!("hubbub-bench-server-{port}.log"));
        let log = std::fs::File::create(&log_path)?;
        let mut cmd = match (place.server_cpu, sys::which("taskset")) {
            (Some(cpu), Some(taskset)) => {
                // taskset execs the server, so the pid we get is the server's own.
                let mut c = tokio::process::Command::new(taskset);
                c.arg("-c").arg(cpu.to_string()).arg(&program);
                c
            }
            _ => tokio::process::Command::new(&program),
        };
        cmd.args(&args)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        if let Target::Hubbub { .. } = target {
            // Keep the server's own logging quiet so it does not cost CPU in the measurement.
            for var in ["HUBBUB_LOG", "RUST_LOG"] {
                if std::env::var_os(var).is_none() {
                    cmd.env(var, "warn");
                }
            }
            // Every simulated user registers from 127.0.0.1; the per-address registration
            // limit (10 an hour) would stop the scenarios at the eleventh. An environment
            // variable rather than a flag, so older server builds still start.
            if std::env::var_os("HUBBUB_REGISTRATION_LIMIT").is_none() {
                cmd.env("HUBBUB_REGISTRATION_LIMIT", "0");
            }
            // The idle scenario holds many sockets per user (10,000 over 100 users by
            // default) to measure what a socket costs, not the per-user cap; the floor has
            // no cap either. An environment variable, not a flag: older builds ignore it.
            if std::env::var_os("HUBBUB_WEBSOCKETS_PER_USER").is_none() {
                cmd.env("HUBBUB_WEBSOCKETS_PER_USER", "1000000");
            }
        }
        let t0 = Instant::now();
        let mut child = cmd.spawn().with_context(|| format!("spawning {}", program.display()))?;
        let pid = child.id();
        let api = crate::client::Api::new(&base)?;
        // Poll with raw TCP+HTTP so that the probe costs microseconds, not a client's setup.
        let startup = loop {
            if probe_health(port).await {
                break t0.elapsed();
            }
            if let Some(status) = child.try_wait()? {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                bail!("{} exited with {status} before becoming healthy:\n{log}", program.display());
            }
            if t0.elapsed() > Duration::from_secs(30) {
                bail!("{} not healthy after 30 s", program.display());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        drop(api);
        Ok(Running { base, pid, startup, child: Some(child), dir, log_path: Some(log_path) })
    }

    pub fn rss_kib(&self) -> Option<u64> {
        self.pid.and_then(sys::rss_kib)
    }

    pub fn data_dir(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().to_path_buf())
    }

    /// The server's stdout/stderr so far (for error reports).
    pub fn log(&self) -> String {
        self.log_path.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default()
    }

    /// Whether the server process is still alive.
    pub fn alive(&mut self) -> bool {
        match &mut self.child {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => true,
        }
    }

    pub async fn stop(mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.start_kill();
            let _ = c.wait().await;
        }
        drop(self.dir.take());
        if let Some(p) = self.log_path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

async fn probe_health(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let req = b"GET /api/health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n";
    if s.write_all(req).await.is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    let mut n = 0;
    while n < 12 {
        match tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf[n..])).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return false,
            Ok(Ok(k)) => n += k,
        }
    }
    buf.starts_with(b"HTTP/1.1 200") || buf.starts_with(b"HTTP/1.0 200")
}
