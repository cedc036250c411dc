//! `cargo xtask`: the project's automation, in Rust rather than shell scripts, so it runs
//! the same everywhere cargo does.
//!
//! - `cargo xtask run [ARGS]`: build the web app (when npm is present) and run
//!   `hubbub serve` in release mode.
//! - `cargo xtask test`: everything CI runs — installs what the tests need (npm packages,
//!   Debian's Chromium), builds the web app, runs the Rust tests, the web unit tests and
//!   the browser end-to-end tests.
//! - `cargo xtask bench [ARGS]`: the server benchmarks (`hubbub-bench`), release build.
//! - `cargo xtask web`: build only the web app.
//! - `cargo xtask cluster [--sqlite] [--debug]`: three nodes behind haproxy on 8080, with a
//!   nats-server of their own and one database (see `cluster.rs`).

mod cluster;
mod haproxy;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match task.as_str() {
        "run" => run(&rest),
        "test" => test(),
        "bench" => bench(&rest),
        "web" => build_web(true),
        "cluster" => cluster::cluster(&rest),
        _ => {
            eprintln!("usage: cargo xtask <run|test|bench|web|cluster> [args]");
            bail!("unknown task {task:?}")
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

fn status(mut command: Command) -> Result<()> {
    eprintln!("xtask: running {command:?}");
    let status = command.status().with_context(|| format!("cannot start {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program} >/dev/null 2>&1"))
        .status()
        .is_ok_and(|s| s.success())
}

fn npm(args: &[&str]) -> Command {
    let mut command = Command::new("npm");
    command.args(args).current_dir(root().join("web"));
    command
}

/// Builds `web/dist` so that the binary embeds the app. Without npm, a Rust-only build
/// still works and serves a page that says how to build the app.
fn build_web(required: bool) -> Result<()> {
    if !have("npm") {
        if required {
            bail!("npm is needed to build the web app");
        }
        eprintln!("xtask: npm not found; the binary will serve a 'web app not built' page");
        return Ok(());
    }
    install_npm_packages()?;
    status(npm(&["run", "build"]))
}

fn install_npm_packages() -> Result<()> {
    let lock = root().join("web/package-lock.json");
    let installed = root().join("web/node_modules/.package-lock.json");
    let fresh =
        installed.exists() && std::fs::metadata(&installed)?.modified()? >= std::fs::metadata(&lock)?.modified()?;
    if fresh {
        return Ok(());
    }
    status(npm(&["ci", "--no-audit", "--no-fund"]))
}

fn run(args: &[String]) -> Result<()> {
    build_web(false)?;
    let mut command = cargo();
    command.args(["run", "--release", "--package", "hubbub", "--", "serve"]).args(args);
    status(command)
}

/// Debian's Chromium for the browser tests; browsers cannot be downloaded by npm here.
/// Installs one of Debian's packages if `path` (what the tests run) is missing.
fn ensure_debian_package(path: &str, package: &str) -> Result<()> {
    if Path::new(path).exists() {
        return Ok(());
    }
    if !have("apt-get") {
        bail!("the tests need Debian's {package} ({path})");
    }
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    status(update)?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "-qq", "--no-install-recommends", package]).env("DEBIAN_FRONTEND", "noninteractive");
    status(install)
}

/// A nats-server killed when the test run ends.
struct TestNats(std::process::Child);

impl Drop for TestNats {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The bus tests talk to the nats-server at `HUBBUB_TEST_NATS_URL` (default
/// 127.0.0.1:4222). Where none runs, one is started for the run on a free port.
fn nats_for_tests() -> Result<Option<(TestNats, String)>> {
    if std::env::var_os("HUBBUB_TEST_NATS_URL").is_some() || std::net::TcpStream::connect(("127.0.0.1", 4222)).is_ok() {
        return Ok(None);
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    // With JetStream (presence lives in a key-value bucket), its store in the target dir.
    let store = std::env::temp_dir().join(format!("hubbub-test-nats-{port}"));
    let child = Command::new("/usr/sbin/nats-server")
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(&store)
        .spawn()?;
    let nats = TestNats(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if std::time::Instant::now() > deadline {
            bail!("the nats-server started for the tests did not listen on {port}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    eprintln!("xtask: no nats-server on 127.0.0.1:4222; started one on {port} for the tests");
    Ok(Some((nats, format!("nats://127.0.0.1:{port}"))))
}

fn test() -> Result<()> {
    // Style and lints first: they take seconds and fail for reasons a reviewer would.
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    status(fmt)?;
    build_web(true)?;
    ensure_debian_package("/usr/bin/chromium", "chromium")?;
    ensure_debian_package("/usr/sbin/nats-server", "nats-server")?;
    // The cluster tests put haproxy in front of three nodes.
    ensure_debian_package("/usr/sbin/haproxy", "haproxy")?;
    let nats = nats_for_tests()?;
    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    status(clippy)?;

    // Build every binary the tests drive, then run the Rust suites.
    let mut build = cargo();
    build.args(["build", "--workspace", "--bins"]);
    status(build)?;
    let target = target_dir()?;
    let hubbub_bin = target.join("debug/hubbub");
    let mut tests = cargo();
    tests.args(["test", "--workspace", "--no-fail-fast"]).env("HUBBUB_BIN", &hubbub_bin);
    if let Some((_, url)) = &nats {
        tests.env("HUBBUB_TEST_NATS_URL", url);
    }
    status(tests)?;
    // The suites that run on whichever backend they are given, again on PostgreSQL: the
    // HTTP suite (one database per test) and the 3-node cluster behind haproxy. (The store's
    // contract suite runs on both backends in the run above.)
    let mut on_postgres = cargo();
    on_postgres
        .args(["test", "--no-fail-fast", "-p", "hubbub-http", "-p", "hubbub", "--test", "it"])
        .env("HUBBUB_BIN", &hubbub_bin)
        .env("HUBBUB_TEST_DATABASE", "postgres");
    if let Some((_, url)) = &nats {
        on_postgres.env("HUBBUB_TEST_NATS_URL", url);
    }
    status(on_postgres)?;
    drop(nats);

    status(npm(&["run", "typecheck"]))?;
    status(npm(&["test"]))?;
    // The web app's API types are generated from the server's OpenAPI document; this fails
    // when the two have drifted apart.
    let mut api_check = npm(&["run", "api:check"]);
    api_check.env("HUBBUB_BIN", &hubbub_bin);
    status(api_check)?;
    let mut e2e = npm(&["run", "e2e"]);
    e2e.env("HUBBUB_BIN", &hubbub_bin);
    status(e2e)
}

fn target_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return Ok(if dir.is_absolute() { dir } else { root().join(dir) });
    }
    Ok(root().join("target"))
}

fn bench(args: &[String]) -> Result<()> {
    let mut build = cargo();
    build.args(["build", "--release", "--package", "hubbub", "--package", "hubbub-bench"]);
    status(build)?;
    let target = target_dir()?;
    // With no arguments: every scenario, Hubbub and the floor side by side, and the results
    // written into docs/PERFORMANCE.md and docs/perf/*.svg.
    let default_args: Vec<String> =
        ["run", "--floor", "--max-load", "1.5", "--doc", "docs/PERFORMANCE.md"].iter().map(|s| s.to_string()).collect();
    let args = if args.is_empty() { &default_args[..] } else { args };
    let mut command = Command::new(target.join("release/hubbub-bench"));
    command.current_dir(root()).env("HUBBUB_BIN", target.join("release/hubbub")).args(args);
    status(command)
}
