use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use hubbub_bench::bench::{self, Config, Scenario};
use hubbub_bench::client::WsAuth;
use hubbub_bench::report::RunReport;
use hubbub_bench::scenarios::StepOpts;
use hubbub_bench::server::Target;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Load generator for Hubbub's public API, and the floor server it is compared with")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the floor: a bare tokio-tungstenite broadcast server with no storage.
    Floor {
        #[arg(long, default_value = "127.0.0.1:8099")]
        listen: String,
    },
    /// Run scenarios against the floor and/or Hubbub and write results.
    Run(Box<RunArgs>),
    /// The search scenario (issue 12): messages written through the store, query latency,
    /// index size, and the send cost of the index (A/B). Not over HTTP.
    Search(hubbub_bench::search::SearchArgs),
    /// Redraw the charts and the PERFORMANCE.md section from a results JSON.
    Render {
        #[arg(long, default_value = "bench-results/latest.json")]
        input: PathBuf,
        #[arg(long, default_value = "docs/perf")]
        charts_dir: PathBuf,
        #[arg(long)]
        doc: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Benchmark the floor (started from this binary).
    #[arg(long)]
    floor: bool,
    /// Hubbub binary to start (`serve --listen ADDR --data-dir DIR`), release build.
    #[arg(long, env = "HUBBUB_BIN")]
    server_bin: Option<PathBuf>,
    /// Extra argument for the Hubbub server (repeatable).
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
    /// An already-running server instead (no startup scenario; RSS only with --server-pid).
    #[arg(long)]
    url: Option<String>,
    #[arg(long)]
    server_pid: Option<u32>,
    /// Cluster mode: another node of the same cluster as --url; the fanout scenario opens
    /// every other member's socket there, so half of each message's audience is reached
    /// through the bus.
    #[arg(long)]
    second_node: Option<String>,
    #[arg(long, value_delimiter = ',', default_value = "startup,idle,direct,fanout,write,history")]
    scenarios: Vec<Scenario>,
    /// Small numbers everywhere: a whole run in about a minute (for checking the setup).
    #[arg(long)]
    quick: bool,
    #[arg(long, default_value_t = 0)]
    server_cpu: usize,
    #[arg(long, default_value_t = 1)]
    generator_cpu: usize,
    /// Do not pin server and generator to separate cores.
    #[arg(long)]
    no_pin: bool,
    #[arg(long, value_enum, default_value = "bearer")]
    ws_auth: WsAuth,
    #[arg(long, default_value_t = 8)]
    register_concurrency: usize,
    #[arg(long)]
    startup_runs: Option<usize>,
    #[arg(long)]
    idle_conns: Option<usize>,
    #[arg(long, default_value_t = 100)]
    idle_users: usize,
    #[arg(long, default_value_t = 10)]
    idle_batches: usize,
    #[arg(long, default_value_t = 1)]
    direct_pairs: usize,
    #[arg(long, value_delimiter = ',', default_value = "10,100")]
    direct_rates: Vec<f64>,
    #[arg(long, value_delimiter = ',')]
    fanout_members: Option<Vec<usize>>,
    #[arg(long, value_delimiter = ',', default_value = "1,10,50,100,200,500,1000,2000,5000")]
    fanout_rates: Vec<f64>,
    /// Members that take turns sending into the fanout group.
    #[arg(long, default_value_t = 10)]
    fanout_senders: usize,
    #[arg(long)]
    step_secs: Option<f64>,
    #[arg(long, default_value_t = 5.0)]
    drain_secs: f64,
    #[arg(long, default_value_t = 1000.0)]
    p99_limit_ms: f64,
    #[arg(long, default_value_t = 512)]
    max_in_flight: usize,
    #[arg(long, default_value_t = 64)]
    write_senders: usize,
    #[arg(long)]
    write_secs: Option<f64>,
    /// Server arguments that turn on synchronous=FULL for a second write run
    /// (default with --server-bin: `--durability full`).
    #[arg(long = "write-full-arg", allow_hyphen_values = true)]
    write_full_args: Vec<String>,
    /// Skip the synchronous=FULL write run.
    #[arg(long)]
    no_full_sync: bool,
    #[arg(long)]
    history_messages: Option<u64>,
    #[arg(long, default_value_t = 3)]
    history_passes: u32,
    #[arg(long, default_value_t = 32)]
    history_fill_concurrency: usize,
    #[arg(long, default_value = "bench-results")]
    results_dir: PathBuf,
    #[arg(long, default_value = "docs/perf")]
    charts_dir: PathBuf,
    /// Rewrite the generated part of the "Server benchmarks" section of this file.
    #[arg(long)]
    doc: Option<PathBuf>,
    /// Before each scenario wait until the 1-minute load average is at most this (shared cores).
    #[arg(long)]
    max_load: Option<f64>,
    /// Longest wait for --max-load, in seconds.
    #[arg(long, default_value_t = 300)]
    max_load_wait_secs: u64,
    /// Write no JSON, charts or doc.
    #[arg(long)]
    no_write: bool,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Floor { listen } => {
            hubbub_bench::sys::raise_nofile();
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(hubbub_bench::floor::serve(&listen))
        }
        Cmd::Render { input, charts_dir, doc } => {
            let report: RunReport = serde_json::from_str(&std::fs::read_to_string(&input)?)?;
            hubbub_bench::charts::draw_all(&report, &charts_dir)?;
            if let Some(doc) = doc {
                hubbub_bench::doc::update(&doc, &report, &charts_dir)?;
            }
            println!("{}", report.markdown());
            Ok(())
        }
        Cmd::Run(a) => run(*a),
        Cmd::Search(a) => {
            tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(hubbub_bench::search::run(a))
        }
    }
}

fn run(a: RunArgs) -> Result<()> {
    let nproc = hubbub_bench::sys::allowed_cpus();
    let pin = !a.no_pin && nproc.len() >= 2 && nproc.contains(&a.server_cpu) && nproc.contains(&a.generator_cpu);
    if pin {
        // Before the runtime exists, so every worker thread inherits the mask.
        hubbub_bench::sys::pin_self(a.generator_cpu);
    }
    let gen_cores = hubbub_bench::sys::allowed_cpus().len() as f64;
    let mut targets = Vec::new();
    if a.floor {
        targets.push(Target::Floor { exe: std::env::current_exe()? });
    }
    if let Some(bin) = &a.server_bin {
        targets.push(Target::Hubbub { bin: bin.clone(), extra: a.server_args.clone() });
    }
    if let Some(url) = &a.url {
        targets.push(Target::External { url: url.clone(), pid: a.server_pid });
    }
    anyhow::ensure!(!targets.is_empty(), "nothing to benchmark: give --floor, --server-bin (or HUBBUB_BIN) or --url");
    let q = a.quick;
    let secs =
        |x: Option<f64>, full: f64, quick: f64| Duration::from_secs_f64(x.unwrap_or(if q { quick } else { full }));
    let cfg = Config {
        targets,
        second_node: a.second_node.clone(),
        scenarios: a.scenarios.clone(),
        server_cpu: pin.then_some(a.server_cpu),
        generator_cpu: pin.then_some(a.generator_cpu),
        ws_auth: a.ws_auth,
        register_concurrency: a.register_concurrency,
        startup_runs: a.startup_runs.unwrap_or(if q { 2 } else { 5 }),
        idle_conns: a.idle_conns.unwrap_or(if q { 1000 } else { 10_000 }),
        idle_users: a.idle_users,
        idle_batches: a.idle_batches,
        direct_pairs: a.direct_pairs,
        direct_rates: a.direct_rates.clone(),
        fanout_members: a.fanout_members.clone().unwrap_or(if q { vec![100] } else { vec![100, 1000] }),
        fanout_senders: a.fanout_senders,
        fanout_rates: a.fanout_rates.clone(),
        step: StepOpts {
            duration: secs(a.step_secs, 5.0, 2.0),
            drain: Duration::from_secs_f64(a.drain_secs),
            max_in_flight: a.max_in_flight,
            p99_limit_ms: a.p99_limit_ms,
            gen_cores,
        },
        write_senders: a.write_senders,
        write_duration: secs(a.write_secs, 10.0, 3.0),
        write_full_args: match (a.no_full_sync, a.write_full_args.is_empty(), a.server_bin.is_some()) {
            (true, _, _) => None,
            (false, false, _) => Some(a.write_full_args.clone()),
            (false, true, true) => Some(vec!["--durability".into(), "full".into()]),
            (false, true, false) => None,
        },
        history_messages: a.history_messages.unwrap_or(if q { 5_000 } else { 100_000 }),
        history_passes: a.history_passes,
        history_fill_concurrency: a.history_fill_concurrency,
        results_dir: (!a.no_write).then(|| a.results_dir.clone()),
        charts_dir: (!a.no_write).then(|| a.charts_dir.clone()),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        max_load: a.max_load,
        max_load_wait: Duration::from_secs(a.max_load_wait_secs),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = rt.block_on(bench::run(&cfg))?;
    println!("\n{}", report.markdown());
    if let (false, Some(doc)) = (a.no_write, &a.doc) {
        hubbub_bench::doc::update(doc, &report, &a.charts_dir).context("updating the doc")?;
    }
    let errors: Vec<&String> = report.targets.iter().flat_map(|t| t.errors.iter()).collect();
    if !errors.is_empty() {
        anyhow::bail!("{} scenario(s) failed: {errors:?}", errors.len());
    }
    Ok(())
}
