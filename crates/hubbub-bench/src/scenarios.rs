//! The six scenarios. Each one creates its own users and conversations through the public
//! API, so the floor and Hubbub are driven by identical client code.

use crate::client::{Api, Session, Ws, WsAuth};
use crate::pacing::{LoopProbe, Schedule, run_paced};
use crate::report::*;
use crate::server::Running;
use crate::stamp::{Stamp, now_ns, scan_frame};
use crate::stats::{Accounting, BitSet, ConvTracker, Latency};
use crate::sys::CpuMeter;
use anyhow::{Context, Result};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

pub const PASSWORD: &str = "bench-password-1";

/// Knobs shared by the rate-driven scenarios.
#[derive(Debug, Clone)]
pub struct StepOpts {
    pub duration: Duration,
    /// How long to wait for the last deliveries after the last send.
    pub drain: Duration,
    /// In-flight POSTs before the pacer has to wait (which fails the step: the server is behind).
    pub max_in_flight: usize,
    /// A step whose p99 is above this fails, and the ramp stops.
    pub p99_limit_ms: f64,
    /// Cores the generator may use (for the CPU-saturation check).
    pub gen_cores: f64,
}

pub fn bar(len: u64, msg: impl Into<String>) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg:40} [{bar:30}] {pos}/{len} {per_sec} ({elapsed})")
            .unwrap()
            .progress_chars("=> "),
    );
    pb.set_message(msg.into());
    pb
}

/// Registers `n` users named `{prefix}{i}`, a few at a time (registration hashes a
/// password, which is deliberately slow on the server).
pub async fn register_users(api: &Api, prefix: &str, n: usize, concurrency: usize) -> Result<Vec<Session>> {
    let pb = bar(n as u64, format!("registering {n} users"));
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let (api, sem, pb) = (api.clone(), sem.clone(), pb.clone());
        let name = format!("{prefix}{i}");
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await;
            let s = api.register(&name, PASSWORD).await.with_context(|| format!("registering {name}"));
            pb.inc(1);
            s
        }));
    }
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await??);
    }
    pb.finish_and_clear();
    Ok(out)
}

#[derive(Default)]
struct StepRecv {
    hist: Latency,
    convs: HashMap<u32, ConvTracker>,
}

#[derive(Default)]
struct RecvState {
    steps: HashMap<u32, StepRecv>,
}

/// A set of connected sockets, each recording what it receives.
pub struct Receivers {
    states: Vec<Arc<Mutex<RecvState>>>,
    delivered: Arc<AtomicU64>,
    /// Frames that were not our stamped messages (presence, receipts, ...): server work the
    /// latency numbers do not show, and generator work that competes with them.
    other: Arc<AtomicU64>,
    closed: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Receivers {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Receivers {
    /// Opens one socket per token (tokens may repeat: several devices of one user).
    pub async fn connect(api: &Api, tokens: &[String], auth: WsAuth, concurrency: usize) -> Result<Receivers> {
        let mut r = Receivers {
            states: Vec::new(),
            delivered: Arc::new(AtomicU64::new(0)),
            other: Arc::new(AtomicU64::new(0)),
            closed: Arc::new(AtomicU64::new(0)),
            tasks: Vec::new(),
        };
        r.add(api, tokens, auth, concurrency, None).await?;
        Ok(r)
    }

    /// Adds sockets; `on_batch(count)` is called after every `concurrency` sockets.
    pub async fn add(
        &mut self,
        api: &Api,
        tokens: &[String],
        auth: WsAuth,
        concurrency: usize,
        pb: Option<&ProgressBar>,
    ) -> Result<()> {
        for chunk in tokens.chunks(concurrency.max(1)) {
            let mut pending: FuturesUnordered<_> = chunk.iter().map(|t| api.connect_ws(t, auth)).collect();
            while let Some(ws) = pending.next().await {
                let ws = ws?;
                self.spawn(ws);
                if let Some(pb) = pb {
                    pb.inc(1);
                }
            }
        }
        Ok(())
    }

    fn spawn(&mut self, mut ws: Ws) {
        let state = Arc::new(Mutex::new(RecvState::default()));
        let (st, delivered, closed, other) =
            (state.clone(), self.delivered.clone(), self.closed.clone(), self.other.clone());
        self.tasks.push(tokio::spawn(async move {
            while let Some(msg) = ws.next().await {
                let Ok(Message::Text(text)) = msg else {
                    if matches!(msg, Ok(Message::Close(_)) | Err(_)) {
                        break;
                    }
                    continue;
                };
                let Some(d) = scan_frame(text.as_bytes()) else {
                    other.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let lat = now_ns().saturating_sub(d.stamp.sent_ns);
                {
                    let mut s = st.lock().unwrap();
                    let step = s.steps.entry(d.stamp.step).or_default();
                    step.hist.record_ns(lat);
                    step.convs.entry(d.stamp.conv).or_default().on_delivery(d.stamp.n, d.seq);
                }
                delivered.fetch_add(1, Ordering::Relaxed);
            }
            closed.fetch_add(1, Ordering::Relaxed);
        }));
        self.states.push(state);
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    pub fn closed(&self) -> u64 {
        self.closed.load(Ordering::Relaxed)
    }

    pub fn other_frames(&self) -> u64 {
        self.other.load(Ordering::Relaxed)
    }

    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    fn take_step(&self, step: u32) -> Vec<StepRecv> {
        self.states.iter().map(|s| s.lock().unwrap().steps.remove(&step).unwrap_or_default()).collect()
    }
}

/// One conversation in a rate-driven scenario.
pub struct ConvPlan {
    pub id: String,
    /// Tokens that take turns sending into it.
    pub senders: Vec<String>,
    /// Indices into the `Receivers` that are members.
    pub receivers: Vec<usize>,
}

struct SendShared {
    acked: Vec<Mutex<BitSet>>,
    ack_hist: Mutex<Latency>,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
    last_ack_ns: AtomicU64,
}

/// Sends at `rate` for the step's duration, waits for the deliveries and accounts for them.
pub async fn run_step(
    api: &Api,
    plan: &[ConvPlan],
    rx: &Receivers,
    server_pid: Option<u32>,
    step: u32,
    rate: f64,
    opts: &StepOpts,
) -> StepResult {
    let sched = Schedule::new(rate, opts.duration);
    let shared = Arc::new(SendShared {
        acked: plan.iter().map(|_| Mutex::new(BitSet::default())).collect(),
        ack_hist: Mutex::new(Latency::new()),
        errors: AtomicU64::new(0),
        first_error: Mutex::new(None),
        last_ack_ns: AtomicU64::new(0),
    });
    let sem = Arc::new(Semaphore::new(opts.max_in_flight));
    let backlogged = Arc::new(AtomicU64::new(0));
    let plan_ids: Arc<Vec<(String, Vec<String>)>> =
        Arc::new(plan.iter().map(|c| (c.id.clone(), c.senders.clone())).collect());
    let pb = bar(sched.count, format!("{rate} msg/s × {} receivers", rx.len()));
    let gen_cpu = CpuMeter::start(std::process::id());
    let srv_cpu = server_pid.map(CpuMeter::start);
    let machine = crate::sys::MachineMeter::start();
    let probe = LoopProbe::start();
    let delivered0 = rx.delivered();
    let other0 = rx.other_frames();
    let mut tasks = tokio::task::JoinSet::new();
    let start = Instant::now();
    let start_ns = now_ns();
    let nconv = plan.len() as u64;
    let pacing = run_paced(start, sched, |i| {
        let (api, shared, sem, backlogged, plan_ids, pb) =
            (api.clone(), shared.clone(), sem.clone(), backlogged.clone(), plan_ids.clone(), pb.clone());
        tasks.spawn(async move {
            let permit = match sem.clone().try_acquire_owned() {
                Ok(p) => p,
                Err(_) => {
                    backlogged.fetch_add(1, Ordering::Relaxed);
                    sem.acquire_owned().await.expect("semaphore open")
                }
            };
            let conv = (i % nconv) as usize;
            let n = i / nconv;
            let (id, senders) = &plan_ids[conv];
            let token = &senders[(n % senders.len() as u64) as usize];
            let sent_ns = now_ns();
            let text = Stamp { step, conv: conv as u32, n, sent_ns }.encode();
            match api.post_message(token, id, &text).await {
                Ok(_) => {
                    let t = now_ns();
                    shared.ack_hist.lock().unwrap().record_ns(t - sent_ns);
                    shared.acked[conv].lock().unwrap().insert(n);
                    shared.last_ack_ns.fetch_max(t, Ordering::Relaxed);
                }
                Err(e) => {
                    shared.errors.fetch_add(1, Ordering::Relaxed);
                    shared.first_error.lock().unwrap().get_or_insert_with(|| format!("{e:#}"));
                }
            }
            drop(permit);
            pb.inc(1);
        });
    })
    .await;
    // Wait for the outstanding POSTs, then for the deliveries they promise.
    let deadline = Instant::now() + opts.drain.max(Duration::from_secs(30));
    while !tasks.is_empty() {
        if tokio::time::timeout_at(deadline, tasks.join_next()).await.is_err() {
            tasks.abort_all();
            break;
        }
    }
    pb.finish_and_clear();
    let expected: u64 =
        plan.iter().zip(&shared.acked).map(|(c, a)| a.lock().unwrap().len() * c.receivers.len() as u64).sum();
    let drain_start = Instant::now();
    let drain_deadline = drain_start + opts.drain;
    let drained = loop {
        if rx.delivered() - delivered0 >= expected {
            break true;
        }
        if Instant::now() >= drain_deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let drain_ms = drain_start.elapsed().as_secs_f64() * 1000.0;
    let end_ns = now_ns();
    let gen_cores = gen_cpu.cores();
    let server_cores = srv_cpu.as_ref().map(|m| m.cores());
    let (gen_wait, server_wait) = (gen_cpu.starved(), srv_cpu.as_ref().map(|m| m.starved()));
    let neighbours = server_cores.map(|server| machine.others(gen_cores + server));
    let loop_lag = probe.finish().await;

    // Account per receiver, per conversation.
    let recv = rx.take_step(step);
    let mut hist = Latency::new();
    for r in &recv {
        hist.merge(&r.hist);
    }
    let mut acc = Accounting::default();
    for (ci, c) in plan.iter().enumerate() {
        let acked = shared.acked[ci].lock().unwrap();
        for &r in &c.receivers {
            let t = recv[r].convs.get(&(ci as u32)).cloned().unwrap_or_default();
            acc.add(&t.reconcile(&acked));
        }
    }
    let acked: u64 = shared.acked.iter().map(|a| a.lock().unwrap().len()).sum();
    let span_s = (shared.last_ack_ns.load(Ordering::Relaxed).max(start_ns) - start_ns) as f64 / 1e9;
    let delivery_span_s = (end_ns - start_ns) as f64 / 1e9 - if drained { 0.0 } else { opts.drain.as_secs_f64() };
    let latency = hist.summary();
    let pacing_p99 = pacing.summary().p99_ms;
    let loop_p99 = loop_lag.summary().p99_ms;
    let mut invalid = Vec::new();
    // Saturated: the generator's own work was the limit (stop the ramp). Starved: something
    // else on the machine had the core (the step is still flagged, the ramp goes on).
    let mut saturated = false;
    if gen_cores > 0.9 * opts.gen_cores {
        saturated = true;
        invalid.push(format!("generator used {:.0}% of its {} core(s)", gen_cores * 100.0, opts.gen_cores));
    }
    let busy = gen_cores > 0.5 * opts.gen_cores;
    if pacing_p99 > 10.0 {
        saturated |= busy;
        invalid.push(format!("pacer woke {pacing_p99:.1} ms late at p99"));
    }
    if loop_p99 > 20.0 {
        saturated |= busy;
        invalid.push(format!("generator event loop stalled {loop_p99:.1} ms at p99"));
    }
    // More than 20% of the wall time spent waiting for a CPU: a neighbour had the core.
    // The generator runs one thread on its own core, so its waiting means a neighbour had
    // that core. The server's threads wait for each other on its one core, so for the server
    // only other processes' CPU time says the machine was busy.
    if gen_wait > 0.2 {
        invalid.push(format!("generator waited for a CPU {:.0}% of the time", gen_wait * 100.0));
    }
    if let Some(others) = neighbours.filter(|others| *others > 0.25) {
        invalid.push(format!("other processes used {:.0}% of a core", others * 100.0));
    }
    if !invalid.is_empty() && !saturated {
        invalid.push(format!(
            "starved: generator CPU {:.0}%, load average {:.2}",
            gen_cores * 100.0,
            crate::sys::load_avg_1m()
        ));
    }
    let errors = shared.errors.load(Ordering::Relaxed);
    let backlog = backlogged.load(Ordering::Relaxed);
    let mut fail = Vec::new();
    // Reordering is a correctness failure but not "falling behind": the ramp goes on past it.
    let keeps_up = acc.lost == 0
        && acc.duplicates == 0
        && shared.errors.load(Ordering::Relaxed) == 0
        && drained
        && backlogged.load(Ordering::Relaxed) == 0
        && latency.p99_ms <= opts.p99_limit_ms
        && !(latency.count == 0 && expected > 0);
    if !acc.clean() {
        fail.push(format!("lost {} dup {} out-of-order {}", acc.lost, acc.duplicates, acc.out_of_order));
    }
    if errors > 0 {
        fail.push(format!("{errors} send errors"));
    }
    if latency.p99_ms > opts.p99_limit_ms {
        fail.push(format!("p99 {:.1} ms over {} ms", latency.p99_ms, opts.p99_limit_ms));
    }
    if backlog > 0 {
        fail.push(format!("{backlog} sends waited for one of {} in-flight slots", opts.max_in_flight));
    }
    if !drained {
        fail.push("deliveries fell behind (not drained in time)".into());
    }
    if latency.count == 0 && expected > 0 {
        fail.push("nothing delivered".into());
    }
    let first_error = shared.first_error.lock().unwrap().clone();
    let ack = shared.ack_hist.lock().unwrap().summary();
    StepResult {
        rate,
        duration_s: opts.duration.as_secs_f64(),
        sent: sched.count,
        acked,
        errors,
        first_error,
        send_rate: acked as f64 / span_s.max(1e-3),
        deliveries_per_s: acc.received as f64 / delivery_span_s.max(1e-3),
        latency,
        ack,
        accounting: acc,
        pacing_lag_p99_ms: pacing_p99,
        loop_lag_p99_ms: loop_p99,
        gen_cpu_cores: gen_cores,
        server_cpu_cores: server_cores,
        backlogged: backlog,
        drained,
        drain_ms,
        valid: invalid.is_empty(),
        invalid_reasons: invalid,
        load_avg_1m: crate::sys::load_avg_1m(),
        other_frames: rx.other_frames() - other0,
        gen_runqueue_wait: gen_wait,
        server_runqueue_wait: server_wait,
        keeps_up,
        generator_saturated: saturated,
        pass: fail.is_empty(),
        fail_reasons: fail,
    }
}

/// Runs `rates` in order, stopping after the first step that fails or is invalid.
pub async fn ramp(
    api: &Api,
    plan: &[ConvPlan],
    rx: &Receivers,
    server_pid: Option<u32>,
    rates: &[f64],
    opts: &StepOpts,
    out: &mut RatesResult,
) {
    for (k, &rate) in rates.iter().enumerate() {
        let s = run_step(api, plan, rx, server_pid, k as u32 + 1, rate, opts).await;
        let (pass, keeps_up, saturated) = (s.pass && s.valid, s.keeps_up, s.generator_saturated);
        eprintln!(
            "  {} @ {rate} msg/s: p50 {:.2} ms p99 {:.2} ms max {:.2} ms, {:.0} deliveries/s, lost {} dup {} ooo {}, {} other frames, cpu gen {:.0}% server {}{}{}",
            out.scenario,
            s.latency.p50_ms,
            s.latency.p99_ms,
            s.latency.max_ms,
            s.deliveries_per_s,
            s.accounting.lost,
            s.accounting.duplicates,
            s.accounting.out_of_order,
            s.other_frames,
            s.gen_cpu_cores * 100.0,
            s.server_cpu_cores.map(|c| format!("{:.0}%", c * 100.0)).unwrap_or("?".into()),
            if s.valid { String::new() } else { format!(" INVALID: {}", s.invalid_reasons.join("; ")) },
            if s.fail_reasons.is_empty() { String::new() } else { format!(" FAIL: {}", s.fail_reasons.join("; ")) },
        );
        let reasons = [s.invalid_reasons.clone(), s.fail_reasons.clone()].concat().join("; ");
        out.steps.push(s);
        if pass {
            out.best_rate = Some(rate);
        }
        if keeps_up && !saturated {
            out.best_rate_keeping_up = Some(rate);
        } else {
            out.stopped_because =
                Some(format!("at {rate} msg/s: {}{reasons}", if saturated { "generator saturated: " } else { "" }));
            break;
        }
        if rx.closed() > 0 {
            out.stopped_because = Some(format!("{} sockets were closed by the server", rx.closed()));
            break;
        }
    }
}

/// Random-ish short prefix so repeated runs against one external server do not collide.
pub fn user_prefix(tag: &str) -> String {
    format!("b{}{tag}_", &uuid::Uuid::new_v4().simple().to_string()[..6])
}

pub struct Env<'a> {
    pub api: Api,
    pub server: &'a Running,
    pub auth: WsAuth,
    pub register_concurrency: usize,
}

/// Scenario 2: 1:1 messages at fixed rates.
pub async fn direct(env: &Env<'_>, pairs: usize, rates: &[f64], opts: &StepOpts) -> Result<RatesResult> {
    let users = register_users(&env.api, &user_prefix("d"), pairs * 2, env.register_concurrency).await?;
    let mut plan = Vec::new();
    for p in 0..pairs {
        let (a, b) = (&users[2 * p], &users[2 * p + 1]);
        let id = env.api.direct(&a.token, &b.user_id).await?;
        plan.push(ConvPlan { id, senders: vec![a.token.clone()], receivers: vec![p] });
    }
    let t0 = Instant::now();
    let tokens: Vec<String> = (0..pairs).map(|p| users[2 * p + 1].token.clone()).collect();
    let rx = Receivers::connect(&env.api, &tokens, env.auth, 64).await?;
    let mut out = RatesResult {
        scenario: "direct".into(),
        size: pairs,
        receivers: rx.len(),
        senders: pairs,
        connect_s: t0.elapsed().as_secs_f64(),
        ..Default::default()
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Direct runs every rate asked for: it is a latency table, not a ramp to failure.
    for (k, &rate) in rates.iter().enumerate() {
        let s = run_step(&env.api, &plan, &rx, env.server.pid, k as u32 + 1, rate, opts).await;
        eprintln!(
            "  direct @ {rate} msg/s: p50 {:.3} ms p99 {:.3} ms max {:.3} ms, lost {} ooo {}{}",
            s.latency.p50_ms,
            s.latency.p99_ms,
            s.latency.max_ms,
            s.accounting.lost,
            s.accounting.out_of_order,
            if s.valid { "" } else { " INVALID" }
        );
        if s.pass && s.valid {
            out.best_rate = Some(rate);
        }
        out.steps.push(s);
    }
    Ok(out)
}

/// Scenario 3: one group per size in `sizes`, all members connected, ramping the rate.
/// Users are registered once for the largest size and reused for the smaller groups. With
/// `second_node` (another node of the same cluster), every other member's socket is opened
/// there, so each message crosses the bus to reach half of its audience.
pub async fn fanout(
    env: &Env<'_>,
    second_node: Option<&str>,
    sizes: &[usize],
    senders: usize,
    rates: &[f64],
    opts: &StepOpts,
) -> Result<Vec<RatesResult>> {
    let max = sizes.iter().copied().max().unwrap_or(0);
    let users = register_users(&env.api, &user_prefix("f"), max, env.register_concurrency).await?;
    let mut results = Vec::new();
    for &m in sizes {
        let members = &users[..m];
        let ids: Vec<String> = members[1..].iter().map(|u| u.user_id.clone()).collect();
        let conv = env.api.create_group(&members[0].token, &format!("fanout {m}"), &ids).await?;
        let t0 = Instant::now();
        let tokens: Vec<String> = members.iter().map(|u| u.token.clone()).collect();
        let pb = bar(m as u64, format!("connecting {m} members"));
        let mut rx = Receivers::connect(&env.api, &[], env.auth, 1).await?;
        match second_node {
            None => rx.add(&env.api, &tokens, env.auth, 64, Some(&pb)).await?,
            Some(url) => {
                let other = Api::new(url)?;
                let (here, there): (Vec<_>, Vec<_>) = tokens.iter().cloned().enumerate().partition(|(i, _)| i % 2 == 0);
                let strip = |v: Vec<(usize, String)>| v.into_iter().map(|(_, t)| t).collect::<Vec<_>>();
                rx.add(&env.api, &strip(here), env.auth, 64, Some(&pb)).await?;
                rx.add(&other, &strip(there), env.auth, 64, Some(&pb)).await?;
            }
        }
        pb.finish_and_clear();
        let connect_s = t0.elapsed().as_secs_f64();
        // Let presence and other connect-time traffic settle before measuring.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let connect_frames = rx.other_frames();
        let s = senders.clamp(1, m);
        let plan = vec![ConvPlan {
            id: conv,
            senders: members[..s].iter().map(|u| u.token.clone()).collect(),
            receivers: (0..m).collect(),
        }];
        let mut out = RatesResult {
            scenario: if second_node.is_some() { format!("fanout-2nodes-{m}") } else { format!("fanout-{m}") },
            size: m,
            receivers: m,
            senders: s,
            connect_s,
            connect_other_frames: connect_frames,
            ..Default::default()
        };
        ramp(&env.api, &plan, &rx, env.server.pid, rates, opts, &mut out).await;
        results.push(out);
        drop(rx);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(results)
}

/// Scenario 1: `conns` idle authenticated sockets over `users` users; server RSS per socket.
pub async fn idle(env: &Env<'_>, conns: usize, users: usize, batches: usize, fd_limit: u64) -> Result<IdleResult> {
    let users =
        register_users(&env.api, &user_prefix("i"), users.clamp(1, conns.max(1)), env.register_concurrency).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss0 = env.server.rss_kib().unwrap_or(0);
    let tokens: Vec<String> = (0..conns).map(|i| users[i % users.len()].token.clone()).collect();
    let mut rx = Receivers::connect(&env.api, &[], env.auth, 1).await?;
    let mut points = vec![(0, rss0)];
    let pb = bar(conns as u64, format!("opening {conns} idle sockets"));
    let t0 = Instant::now();
    let per = conns.div_ceil(batches.max(1)).max(1);
    for chunk in tokens.chunks(per) {
        rx.add(&env.api, chunk, env.auth, 100, Some(&pb)).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        points.push((rx.len(), env.server.rss_kib().unwrap_or(0)));
    }
    let connect_s = t0.elapsed().as_secs_f64();
    pb.finish_and_clear();
    // Give the allocator and any lazy per-socket work time to settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss1 = env.server.rss_kib().unwrap_or(0);
    if let Some(last) = points.last_mut() {
        last.1 = rss1;
    }
    let closed = rx.closed();
    Ok(IdleResult {
        conns,
        users: users.len(),
        rss_before_kib: rss0,
        rss_after_kib: rss1,
        bytes_per_conn: (rss1.saturating_sub(rss0) * 1024) as f64 / conns.max(1) as f64,
        points,
        closed_early: closed,
        connect_s,
        fd_limit,
    })
}

/// Scenario 4: closed-loop senders, one group each; then every message is looked up again.
pub async fn write(
    env: &Env<'_>,
    label: &str,
    server_args: Vec<String>,
    senders: usize,
    duration: Duration,
    gen_cores_allowed: f64,
) -> Result<WriteResult> {
    let n = senders.max(2);
    let users = register_users(&env.api, &user_prefix("w"), n, env.register_concurrency).await?;
    let mut convs = Vec::new();
    for i in 0..n {
        let other = users[(i + 1) % n].user_id.clone();
        convs.push(env.api.create_group(&users[i].token, &format!("write {i}"), &[other]).await?);
    }
    let acked = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let gen_cpu = CpuMeter::start(std::process::id());
    let srv_cpu = env.server.pid.map(CpuMeter::start);
    let machine = crate::sys::MachineMeter::start();
    let probe = LoopProbe::start();
    let pb = bar(duration.as_secs(), format!("write: {n} senders"));
    let start = Instant::now();
    let end = start + duration;
    let mut tasks = Vec::new();
    for i in 0..n {
        let (api, token, conv) = (env.api.clone(), users[i].token.clone(), convs[i].clone());
        let (acked, errors, first_error) = (acked.clone(), errors.clone(), first_error.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = Latency::new();
            let mut k = 0u64;
            while Instant::now() < end {
                let t = now_ns();
                let text = Stamp { step: 0, conv: i as u32, n: k, sent_ns: t }.encode();
                match api.post_message(&token, &conv, &text).await {
                    Ok(_) => {
                        h.record_ns(now_ns() - t);
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first_error.lock().unwrap().get_or_insert_with(|| format!("{e:#}"));
                        // Do not spin on a failing server.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                k += 1;
            }
            h
        }));
    }
    let ticker = {
        let pb = pb.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                pb.inc(1);
            }
        })
    };
    let mut hist = Latency::new();
    for t in tasks {
        hist.merge(&t.await?);
    }
    ticker.abort();
    pb.finish_and_clear();
    let elapsed = start.elapsed().as_secs_f64();
    let gen_cores = gen_cpu.cores();
    let server_cores = srv_cpu.as_ref().map(|m| m.cores());
    let neighbours = server_cores.map(|server| machine.others(gen_cores + server)).unwrap_or(0.0);
    let loop_p99 = probe.finish().await.summary().p99_ms;
    let acked = acked.load(Ordering::Relaxed);
    // Look every message up again: "persisted" means a reader finds it.
    let mut verified = 0u64;
    for (i, c) in convs.iter().enumerate() {
        verified += count_history(&env.api, &users[i].token, c, 200, None).await?.0;
    }
    let mut invalid = Vec::new();
    if gen_cores > 0.9 * gen_cores_allowed {
        invalid.push(format!("generator used {:.0}% of its {} core(s)", gen_cores * 100.0, gen_cores_allowed));
    }
    if loop_p99 > 20.0 {
        invalid.push(format!("generator event loop stalled {loop_p99:.1} ms at p99"));
    }
    if neighbours > 0.25 {
        invalid.push(format!("other processes used {:.0}% of a core (machine busy)", neighbours * 100.0));
    }
    let msgs_per_s = acked as f64 / elapsed;
    eprintln!(
        "  write ({label}): {msgs_per_s:.0} msg/s, ack p99 {:.2} ms, {acked} acked, {verified} found again; \
         generator {:.0}% of a core, server {}{}",
        hist.summary().p99_ms,
        gen_cores * 100.0,
        server_cores.map(|c| format!("{:.0}% of a core", c * 100.0)).unwrap_or_else(|| "unmeasured".into()),
        if invalid.is_empty() { String::new() } else { format!(" (invalid: {})", invalid.join("; ")) }
    );
    Ok(WriteResult {
        label: label.into(),
        server_args,
        senders: n,
        conversations: n,
        duration_s: elapsed,
        acked,
        errors: errors.load(Ordering::Relaxed),
        first_error: first_error.lock().unwrap().clone(),
        msgs_per_s,
        ack: hist.summary(),
        verified: Some(verified),
        lost: Some(acked.saturating_sub(verified)),
        gen_cpu_cores: gen_cores,
        server_cpu_cores: server_cores,
        valid: invalid.is_empty(),
        invalid_reasons: invalid,
    })
}

/// Pages from the newest message back to the first; returns (bench messages seen, pages).
async fn count_history(
    api: &Api,
    token: &str,
    conv: &str,
    limit: u32,
    mut hist: Option<&mut Latency>,
) -> Result<(u64, u64)> {
    let (mut seen, mut pages, mut before) = (0u64, 0u64, None);
    loop {
        let t = now_ns();
        let p = api.page(token, conv, before, limit).await?;
        if let Some(h) = hist.as_deref_mut() {
            h.record_ns(now_ns() - t);
        }
        pages += 1;
        seen += p.bench_count as u64;
        match (p.has_more, p.oldest_seq) {
            (true, Some(s)) if Some(s) != before => before = Some(s),
            _ => break,
        }
    }
    Ok((seen, pages))
}

/// Scenario 5: fills one conversation with `messages`, then pages back through it.
pub async fn history(
    env: &Env<'_>,
    messages: u64,
    fill_concurrency: usize,
    passes: u32,
    limit: u32,
) -> Result<HistoryResult> {
    let users = register_users(&env.api, &user_prefix("h"), 2, 2).await?;
    let conv = env.api.create_group(&users[0].token, "history", std::slice::from_ref(&users[1].user_id)).await?;
    let pb = bar(messages, format!("filling history with {messages} messages"));
    let next = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..fill_concurrency.max(1) {
        let (api, token, conv, next, pb) =
            (env.api.clone(), users[0].token.clone(), conv.clone(), next.clone(), pb.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= messages {
                    return anyhow::Ok(());
                }
                let text = Stamp { step: 0, conv: 0, n, sent_ns: now_ns() }.encode();
                api.post_message(&token, &conv, &text).await?;
                pb.inc(1);
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    pb.finish_and_clear();
    let fill_rate = messages as f64 / t0.elapsed().as_secs_f64();
    let mut hist = Latency::new();
    let (mut pages, mut complete) = (0u64, true);
    let mut note = None;
    let t1 = Instant::now();
    for _ in 0..passes.max(1) {
        let (seen, p) = count_history(&env.api, &users[1].token, &conv, limit, Some(&mut hist)).await?;
        pages += p;
        if seen != messages {
            complete = false;
            note = Some(format!("a pass found {seen} of {messages} messages"));
        }
    }
    let secs = t1.elapsed().as_secs_f64();
    eprintln!(
        "  history: {:.0} pages/s, page p99 {:.2} ms over {pages} pages (fill {fill_rate:.0} msg/s)",
        pages as f64 / secs,
        hist.summary().p99_ms
    );
    Ok(HistoryResult {
        messages,
        fill_msgs_per_s: fill_rate,
        page_limit: limit,
        passes: passes.max(1),
        pages,
        pages_per_s: pages as f64 / secs,
        msgs_per_s: (messages * passes.max(1) as u64) as f64 / secs,
        page: hist.summary(),
        complete,
        note,
    })
}
