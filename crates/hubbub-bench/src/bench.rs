//! Orchestration: for every target, start a fresh server per scenario, run it, collect the
//! report, then write JSON, charts and the Markdown table.

use crate::client::{Api, WsAuth};
use crate::report::*;
use crate::scenarios::{self, Env, StepOpts};
use crate::server::{Placement, Running, Target};
use anyhow::Result;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum Scenario {
    Startup,
    Idle,
    Direct,
    Fanout,
    Write,
    History,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub targets: Vec<Target>,
    /// Another node of the target's cluster: the fanout scenario connects every other
    /// member there (cluster mode), while senders post to the target.
    pub second_node: Option<String>,
    pub scenarios: Vec<Scenario>,
    pub server_cpu: Option<usize>,
    pub generator_cpu: Option<usize>,
    pub ws_auth: WsAuth,
    pub register_concurrency: usize,
    pub startup_runs: usize,
    pub idle_conns: usize,
    pub idle_users: usize,
    pub idle_batches: usize,
    pub direct_pairs: usize,
    pub direct_rates: Vec<f64>,
    pub fanout_members: Vec<usize>,
    pub fanout_senders: usize,
    pub fanout_rates: Vec<f64>,
    pub step: StepOpts,
    pub write_senders: usize,
    pub write_duration: Duration,
    /// Extra server arguments for the durable (`synchronous=FULL`) write run, if any.
    pub write_full_args: Option<Vec<String>>,
    pub history_messages: u64,
    pub history_passes: u32,
    pub history_fill_concurrency: usize,
    /// Directory for the JSON (none: do not write).
    pub results_dir: Option<PathBuf>,
    /// Directory for SVG charts (none: do not draw).
    pub charts_dir: Option<PathBuf>,
    pub command: String,
    /// Before each scenario, wait until the 1-minute load average is at most this.
    pub max_load: Option<f64>,
    pub max_load_wait: Duration,
}

impl Config {
    /// Tiny numbers: every scenario in a few seconds (smoke tests, CI).
    pub fn smoke(targets: Vec<Target>) -> Config {
        Config {
            targets,
            second_node: None,
            scenarios: vec![
                Scenario::Startup,
                Scenario::Idle,
                Scenario::Direct,
                Scenario::Fanout,
                Scenario::Write,
                Scenario::History,
            ],
            server_cpu: None,
            generator_cpu: None,
            ws_auth: WsAuth::Bearer,
            register_concurrency: 4,
            startup_runs: 1,
            idle_conns: 20,
            idle_users: 5,
            idle_batches: 2,
            direct_pairs: 1,
            direct_rates: vec![20.0],
            fanout_members: vec![5],
            fanout_senders: 2,
            fanout_rates: vec![5.0, 20.0],
            step: StepOpts {
                duration: Duration::from_secs(1),
                drain: Duration::from_secs(5),
                max_in_flight: 64,
                p99_limit_ms: 1000.0,
                // Never flag a smoke run as generator-bound: on a shared CI core it may well be.
                gen_cores: f64::INFINITY,
            },
            write_senders: 4,
            write_duration: Duration::from_secs(1),
            write_full_args: None,
            history_messages: 300,
            history_passes: 1,
            history_fill_concurrency: 4,
            results_dir: None,
            charts_dir: None,
            command: "smoke".into(),
            max_load: None,
            max_load_wait: Duration::ZERO,
        }
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn machine(cfg: &Config, fd_limit: u64) -> Machine {
    Machine {
        // Online CPUs of the machine, not of this process: the generator has pinned itself.
        // SAFETY: sysconf has no preconditions.
        nproc: unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().into(),
        generator_cpu: cfg.generator_cpu,
        server_cpu: cfg.server_cpu,
        taskset: crate::sys::which("taskset").is_some(),
        fd_limit,
        load_avg_at_start: std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().into(),
    }
}

/// Runs everything the config asks for. Scenario failures are recorded in the report (and
/// make `run` return an error at the end) rather than aborting the other scenarios.
pub async fn run(cfg: &Config) -> Result<RunReport> {
    let fd_limit = crate::sys::raise_nofile();
    let mut report = RunReport {
        tool: format!("hubbub-bench {}", env!("CARGO_PKG_VERSION")),
        started_at: now_rfc3339(),
        command: cfg.command.clone(),
        machine: machine(cfg, fd_limit),
        ..Default::default()
    };
    let place = Placement { server_cpu: cfg.server_cpu };
    for target in &cfg.targets {
        let mut tr = TargetReport {
            target: target.name().into(),
            program: match target {
                Target::Floor { exe } => Some(format!("{} floor", exe.display())),
                Target::Hubbub { bin, .. } => Some(bin.display().to_string()),
                Target::External { url, .. } => Some(url.clone()),
            },
            ..Default::default()
        };
        eprintln!("== {} ==", target.name());
        for &sc in &cfg.scenarios {
            if !target.persists() && matches!(sc, Scenario::Write | Scenario::History) {
                // The floor stores nothing; persisted-write and history numbers are Hubbub's alone.
                continue;
            }
            if let Err(e) = run_scenario(cfg, target, place, sc, fd_limit, &mut tr).await {
                eprintln!("  {sc:?} failed: {e:#}");
                tr.errors.push(format!("{sc:?}: {e:#}"));
            }
        }
        report.targets.push(tr);
    }
    report.finished_at = now_rfc3339();
    if let Some(dir) = &cfg.results_dir {
        std::fs::create_dir_all(dir)?;
        let stamp = report.started_at.replace([':', '-'], "").chars().take(15).collect::<String>();
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(dir.join(format!("run-{stamp}.json")), &json)?;
        std::fs::write(dir.join("latest.json"), &json)?;
    }
    if let Some(dir) = &cfg.charts_dir {
        crate::charts::draw_all(&report, dir)?;
    }
    Ok(report)
}

async fn with_server<T>(
    target: &Target,
    place: Placement,
    f: impl AsyncFnOnce(&Env<'_>) -> Result<T>,
    reg_conc: usize,
    auth: WsAuth,
) -> Result<T> {
    let mut server = Running::start(target, place).await?;
    let env = Env { api: Api::new(&server.base)?, server: &server, auth, register_concurrency: reg_conc };
    let r = f(&env).await;
    drop(env);
    let alive = server.alive();
    let log = server.log();
    server.stop().await;
    match r {
        Err(e) if !alive => Err(e.context(format!("the server died; its log:\n{}", tail(&log, 40)))),
        Err(e) => Err(e.context(format!("server log tail:\n{}", tail(&log, 15)))),
        Ok(v) => Ok(v),
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

async fn run_scenario(
    cfg: &Config,
    target: &Target,
    place: Placement,
    sc: Scenario,
    fd_limit: u64,
    tr: &mut TargetReport,
) -> Result<()> {
    let (rc, auth) = (cfg.register_concurrency, cfg.ws_auth);
    eprintln!("-- {} / {sc:?}", target.name());
    if let Some(max) = cfg.max_load {
        crate::sys::wait_for_quiet(max, cfg.max_load_wait).await;
    }
    match sc {
        Scenario::Startup => {
            if matches!(target, Target::External { .. }) {
                return Ok(());
            }
            let mut healthy = Vec::new();
            let mut rss = Vec::new();
            for _ in 0..cfg.startup_runs.max(1) {
                let s = Running::start(target, place).await?;
                healthy.push(s.startup.as_secs_f64() * 1000.0);
                tokio::time::sleep(Duration::from_secs(1)).await;
                rss.push(s.rss_kib().unwrap_or(0));
                s.stop().await;
            }
            let med = |v: &mut Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            let mut h = healthy.clone();
            let mut r: Vec<f64> = rss.iter().map(|&x| x as f64).collect();
            let res = StartupResult {
                runs: healthy.len(),
                median_ms: med(&mut h),
                median_rss_kib: med(&mut r) as u64,
                healthy_ms: healthy,
                idle_rss_kib: rss,
            };
            eprintln!("  startup: {:.1} ms to healthy, idle RSS {} KiB", res.median_ms, res.median_rss_kib);
            tr.startup = Some(res);
        }
        Scenario::Idle => {
            // Leave room for the generator's own files, the HTTP pool and the server's.
            let conns = cfg.idle_conns.min(fd_limit.saturating_sub(256) as usize);
            if conns < cfg.idle_conns {
                eprintln!("  idle: fd limit {fd_limit} caps connections at {conns}");
            }
            let r = with_server(
                target,
                place,
                async |env| scenarios::idle(env, conns, cfg.idle_users, cfg.idle_batches, fd_limit).await,
                rc,
                auth,
            )
            .await?;
            eprintln!(
                "  idle: {} conns, RSS {} → {} KiB, {:.0} bytes/conn, {} closed early",
                r.conns, r.rss_before_kib, r.rss_after_kib, r.bytes_per_conn, r.closed_early
            );
            tr.idle = Some(r);
        }
        Scenario::Direct => {
            let r = with_server(
                target,
                place,
                async |env| scenarios::direct(env, cfg.direct_pairs, &cfg.direct_rates, &cfg.step).await,
                rc,
                auth,
            )
            .await?;
            tr.direct = Some(r);
        }
        Scenario::Fanout => {
            let r = with_server(
                target,
                place,
                async |env| {
                    scenarios::fanout(
                        env,
                        cfg.second_node.as_deref(),
                        &cfg.fanout_members,
                        cfg.fanout_senders,
                        &cfg.fanout_rates,
                        &cfg.step,
                    )
                    .await
                },
                rc,
                auth,
            )
            .await?;
            tr.fanout = r;
        }
        Scenario::Write => {
            let mut variants = vec![("default", Vec::<String>::new())];
            if let Some(full) = &cfg.write_full_args {
                variants.push(("synchronous=FULL", full.clone()));
            }
            for (label, args) in variants {
                let t = match target {
                    Target::Hubbub { bin, extra } => {
                        Target::Hubbub { bin: bin.clone(), extra: [extra.clone(), args.clone()].concat() }
                    }
                    other if args.is_empty() => other.clone(),
                    _ => continue, // cannot restart an external server with other flags
                };
                let r = with_server(
                    &t,
                    place,
                    async |env| {
                        scenarios::write(
                            env,
                            label,
                            args.clone(),
                            cfg.write_senders,
                            cfg.write_duration,
                            cfg.step.gen_cores,
                        )
                        .await
                    },
                    rc,
                    auth,
                )
                .await?;
                tr.write.push(r);
            }
        }
        Scenario::History => {
            let r = with_server(
                target,
                place,
                async |env| {
                    scenarios::history(env, cfg.history_messages, cfg.history_fill_concurrency, cfg.history_passes, 200)
                        .await
                },
                rc,
                auth,
            )
            .await?;
            tr.history = Some(r);
        }
    }
    Ok(())
}
