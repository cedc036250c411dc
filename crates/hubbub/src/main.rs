//! `hubbub`: the command line. Parses configuration, picks the adapters once (from the
//! database URL, the bus from whether a NATS URL is set), wires them into the app, and serves.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use hubbub_app::App;
use hubbub_app::ports::Bus;
use hubbub_app::realtime::LocalBus;
use hubbub_domain::{Limits, RateLimits};
use hubbub_http::proxy::{IpNet, TrustedProxies};
use hubbub_http::{AppState, HttpConfig};
use hubbub_store::Durability;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

mod migrate;

#[derive(Parser)]
#[command(name = "hubbub", version, about = "A self-hosted real-time messenger")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format: `json` (one object per line, for log collectors) or `pretty`.
    #[arg(long, env = "HUBBUB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Json,
    Pretty,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app, the API, the WebSocket stream and media on one port.
    Serve(ServeArgs),
    /// Write a consistent snapshot of the database while the server keeps running.
    Backup(BackupArgs),
    /// Maintain stored media.
    #[command(subcommand)]
    Media(MediaCommand),
    /// Copy a SQLite data directory into a PostgreSQL database (and its media into a shared
    /// directory), every row as it is: ids, seqs, UUIDs and sessions unchanged.
    Migrate(migrate::MigrateArgs),
    /// Server administrators (who may read the audit log).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Make a user a server administrator.
    Grant(AdminArgs),
    /// Take server administration away from a user.
    Revoke(AdminArgs),
}

#[derive(clap::Args)]
struct AdminArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// The user's username.
    username: String,
}

#[derive(Subcommand)]
enum MediaCommand {
    /// Re-run the image pipeline over every stored file and replace each one that gets
    /// smaller (for uploads from before a setting changed).
    Optimize(OptimizeArgs),
}

#[derive(clap::Args)]
struct OptimizeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Report what would change without writing anything.
    #[arg(long)]
    dry_run: bool,
}

#[derive(clap::Args)]
struct StorageArgs {
    /// Where all state lives (the SQLite database and stored media).
    #[arg(long, env = "HUBBUB_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Database URL; defaults to `sqlite://<data-dir>/hubbub.db`.
    #[arg(long, env = "HUBBUB_DATABASE_URL")]
    database_url: Option<String>,
    /// Where uploaded photos are stored; defaults to `<data-dir>/media`. The nodes of a
    /// cluster share one directory (e.g. a network mount), so each serves every file.
    #[arg(long, env = "HUBBUB_MEDIA_DIR")]
    media_dir: Option<PathBuf>,
}

impl StorageArgs {
    fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("hubbub.db").display()))
    }

    fn media_dir(&self) -> PathBuf {
        self.media_dir.clone().unwrap_or_else(|| self.data_dir.join("media"))
    }
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "HUBBUB_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    storage: StorageArgs,
    /// Extra origins allowed to make cookie-authenticated changes (comma-separated).
    #[arg(long, env = "HUBBUB_ALLOWED_ORIGINS", value_delimiter = ',')]
    allowed_origins: Vec<String>,
    /// Mark the session cookie `Secure` (when served over HTTPS, e.g. behind a proxy).
    #[arg(long, env = "HUBBUB_SECURE_COOKIES")]
    secure_cookies: bool,
    /// `full` fsyncs every commit (slower, survives power loss); `normal` survives crashes.
    #[arg(long, env = "HUBBUB_DURABILITY", value_enum, default_value_t = DurabilityArg::Normal)]
    durability: DurabilityArg,
    /// Time a client has to send a request's headers; also how long an idle keep-alive
    /// connection may wait for its next request (`10s`, `500ms`, `2m`).
    #[arg(long, env = "HUBBUB_HEADER_READ_TIMEOUT", value_parser = parse_duration, default_value = "10s")]
    header_read_timeout: Duration,
    /// The longest pause allowed while a client sends a request body.
    #[arg(long, env = "HUBBUB_BODY_READ_TIMEOUT", value_parser = parse_duration, default_value = "30s")]
    body_read_timeout: Duration,
    /// A connection on which nothing moves either way for this long is closed.
    #[arg(long, env = "HUBBUB_IDLE_TIMEOUT", value_parser = parse_duration, default_value = "120s")]
    idle_timeout: Duration,
    /// On SIGTERM or Ctrl-C, how long requests in flight may take before their connections
    /// are cut.
    #[arg(long, env = "HUBBUB_SHUTDOWN_TIMEOUT", value_parser = parse_duration, default_value = "10s")]
    shutdown_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed (comma-separated IPs or CIDR
    /// blocks, e.g. `127.0.0.1,10.0.0.0/8`). From one of them, the client is the right-most
    /// entry that is not a trusted proxy; from any other peer the header is ignored.
    #[arg(long, env = "HUBBUB_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<String>,
    /// Registrations allowed per client address (IPv6: per /64) per hour; 0 turns the limit off.
    #[arg(long, env = "HUBBUB_REGISTRATION_LIMIT", default_value_t = RateLimits::default().registrations_per_address)]
    registration_limit: u32,
    /// Most WebSockets one user may hold at once, across all of their sessions; a socket
    /// over it is closed with 4008 "too many connections" (the sockets already open stay).
    #[arg(long, env = "HUBBUB_WEBSOCKETS_PER_USER", value_parser = at_least_one,
        default_value_t = Limits::default().websockets_per_user_max)]
    websockets_per_user: usize,
    /// NATS server of the cluster bus (`nats://host:4222`): every node given the same URL and
    /// `--cluster` hears every other node's events, session ends and presence. Without it
    /// this node runs alone, with the in-process bus and no NATS at all.
    #[arg(long, env = "HUBBUB_NATS_URL")]
    nats_url: Option<String>,
    /// Name of the cluster on that NATS server (letters, digits, `-`, `_`): the subject is
    /// `hubbub.<cluster>.events`, so several clusters can share one server.
    #[arg(long, env = "HUBBUB_CLUSTER", default_value = "default")]
    cluster: String,
    /// Fetch a preview (OpenGraph title, description, image) of the first http(s) link of
    /// each new message, in the background (`--link-previews=false` turns it off).
    #[arg(long, env = "HUBBUB_LINK_PREVIEWS", default_value_t = true, action = clap::ArgAction::Set,
        num_args = 0..=1, default_missing_value = "true")]
    link_previews: bool,
    /// Tests only: let link previews reach loopback and private addresses on any port.
    /// Never on a server that others use: it opens the server's network to its users.
    #[arg(long, env = "HUBBUB_LINK_PREVIEWS_ALLOW_PRIVATE", hide = true)]
    link_previews_allow_private: bool,
    /// The VAPID private key for Web Push (a P-256 scalar, 32 bytes in base64url). Without
    /// it, one is generated on first start and kept in the data directory
    /// (`vapid_private_key`, mode 0600). Every node of a cluster needs the same key.
    #[arg(long, env = "HUBBUB_VAPID_PRIVATE_KEY", hide_env_values = true)]
    vapid_private_key: Option<String>,
    /// The contact push services are given with each push (VAPID `sub`): `mailto:` or `https:`.
    #[arg(long, env = "HUBBUB_PUSH_SUBJECT", default_value = "mailto:hubbub@localhost")]
    push_subject: String,
    /// Tests only: let Web Push endpoints be http and on loopback or private addresses.
    /// Never on a server that others use: it opens the server's network to its users.
    #[arg(long, env = "HUBBUB_PUSH_ALLOW_INSECURE", hide = true)]
    push_allow_insecure: bool,
}

/// `250ms`, `10s`, `2m` or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("`{text}` is not a duration like 10s, 500ms or 2m"))?;
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(number)),
        "" | "s" => Ok(Duration::from_secs(number)),
        "m" | "min" => Ok(Duration::from_secs(number * 60)),
        _ => Err(format!("`{text}`: the unit must be ms, s or m")),
    }
}

fn at_least_one(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{value}` is not a whole number of at least 1")),
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum DurabilityArg {
    Normal,
    Full,
}

#[derive(clap::Args)]
struct BackupArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Where to write the snapshot; defaults to `<data-dir>/backups/hubbub-<time>.db`.
    #[arg(long)]
    output: Option<PathBuf>,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HUBBUB_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).init(),
        LogFormat::Pretty => builder.compact().init(),
    }
}

/// Each Argon2 hash allocates 19 MiB. glibc raises its mmap threshold after such a buffer
/// is freed, so later ones come from the heap and the freed memory stays resident: a burst
/// of logins left hundreds of MB behind. A fixed threshold returns big buffers to the OS.
fn return_big_allocations_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator tuning; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Every connection is a descriptor, and the usual soft limit (1,024) is far below what a
/// chat server holds open; the hard limit is what the administrator allows, so take it all.
fn raise_open_files_limit() {
    #[cfg(unix)]
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 || limit.rlim_cur >= limit.rlim_max {
            return;
        }
        let before = limit.rlim_cur;
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
            tracing::debug!(before, after = limit.rlim_max, "raised the open files limit");
        } else {
            tracing::warn!(limit = before, "could not raise the open files limit");
        }
    }
}

fn main() -> anyhow::Result<()> {
    return_big_allocations_to_the_os();
    let cli = Cli::parse();
    init_logging(cli.log_format);
    raise_open_files_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Backup(args) => backup(args).await,
            Command::Media(MediaCommand::Optimize(args)) => optimize(args).await,
            Command::Migrate(args) => migrate::run(args).await,
            Command::Admin(AdminCommand::Grant(args)) => set_admin(args, true).await,
            Command::Admin(AdminCommand::Revoke(args)) => set_admin(args, false).await,
        }
    })
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let trusted_proxies = trusted_proxies(&args.trusted_proxies)?;
    std::fs::create_dir_all(&args.storage.data_dir)
        .with_context(|| format!("cannot create the data directory {}", args.storage.data_dir.display()))?;
    let durability = match args.durability {
        DurabilityArg::Normal => Durability::Normal,
        DurabilityArg::Full => Durability::Full,
    };
    // Before the database: a bad NATS URL or cluster name fails the start at once.
    let (bus, presence) = open_bus(args.nats_url.as_deref(), &args.cluster).await?;
    let store =
        hubbub_store::open(&args.storage.database_url(), durability).await.context("cannot open the database")?;
    hubbub_app::security::warm_up();
    let mut limits = Limits { websockets_per_user_max: args.websockets_per_user, ..Limits::default() };
    limits.rate.registrations_per_address = args.registration_limit;
    let media = open_media(&args.storage.media_dir()).await?;
    // The use cases delete the files they stop referencing through this adapter.
    let media_files = Arc::new(hubbub_media::DiskMediaFiles::new(media.storage.clone()));
    let app = App::start_with(store, bus, presence, media_files, limits);
    if args.link_previews {
        let config = hubbub_links::LinkConfig {
            allow_private: args.link_previews_allow_private,
            ..hubbub_links::LinkConfig::default()
        };
        if config.allow_private {
            tracing::warn!("link previews may reach private and loopback addresses (a test setting)");
        }
        let fetcher = hubbub_links::HttpLinkFetcher::new(config, media.optimizer.clone())
            .map_err(|e| anyhow::anyhow!("cannot start link previews: {e}"))?;
        app.set_link_fetcher(Arc::new(fetcher));
    } else {
        tracing::info!("link previews are off");
    }
    {
        let key = hubbub_push::vapid::load_or_create(
            &args.storage.data_dir.join("vapid_private_key"),
            args.vapid_private_key.as_deref(),
        )
        .map_err(|e| anyhow::anyhow!("cannot start Web Push: {e}"))?;
        if args.push_allow_insecure {
            tracing::warn!("Web Push may reach http, loopback and private addresses (a test setting)");
        }
        let config = hubbub_push::SenderConfig {
            allow_insecure: args.push_allow_insecure,
            subject: args.push_subject.clone(),
            ..Default::default()
        };
        let sender =
            hubbub_push::WebPushSender::new(key, config).map_err(|e| anyhow::anyhow!("cannot start Web Push: {e}"))?;
        app.set_push_sender(Arc::new(sender), hubbub_app::usecases::push::PushConfig::default());
    }
    if !trusted_proxies.is_empty() {
        tracing::info!(%trusted_proxies, "X-Forwarded-For is believed from these proxies");
    }
    let config =
        HttpConfig { allowed_origins: args.allowed_origins, secure_cookies: args.secure_cookies, trusted_proxies };
    let mut state = AppState::new(app.clone(), config);
    state.media = Some(media);
    if !hubbub_web::is_built() {
        tracing::warn!("the web app was not built into this binary; run `{}` and rebuild", hubbub_web::BUILD_HINT);
    }
    let router = hubbub_http::router(state, hubbub_web::router());

    let serve_config = hubbub_http::ServeConfig {
        header_read_timeout: args.header_read_timeout,
        body_read_timeout: args.body_read_timeout,
        idle_timeout: args.idle_timeout,
        shutdown_timeout: args.shutdown_timeout,
        ..Default::default()
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(
        address = %listener.local_addr()?,
        data_dir = %args.storage.data_dir.display(),
        media_dir = %args.storage.media_dir().display(),
        "hubbub is serving"
    );
    let shutdown = async move {
        shutdown_signal().await;
        // Upgraded WebSockets are outside the HTTP server's graceful shutdown: close them
        // here, each with its 1001 frame, while the server stops accepting and drains.
        app.shutdown().await;
    };
    hubbub_http::serve(listener, router, serve_config, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Empty entries are skipped, so `HUBBUB_TRUSTED_PROXIES=` (as a compose file may set it)
/// means none rather than an error.
fn trusted_proxies(entries: &[String]) -> anyhow::Result<TrustedProxies> {
    let nets = entries
        .iter()
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| entry.parse::<IpNet>().context("invalid --trusted-proxies"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(TrustedProxies::new(nets))
}

/// Resolves on SIGINT or SIGTERM. In-flight requests finish; new connections are refused.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}

/// `hubbub admin grant|revoke USERNAME`, on the database the server uses (it may be running).
async fn set_admin(args: AdminArgs, admin: bool) -> anyhow::Result<()> {
    let store = hubbub_store::open(&args.storage.database_url(), Durability::Normal)
        .await
        .context("cannot open the database")?;
    let app = App::start(store, Arc::new(LocalBus::new()), Limits::default());
    hubbub_app::usecases::admin::grant::set_admin(&app, &args.username, admin)
        .await
        .map_err(|e| anyhow::anyhow!("cannot change {}: {e}", args.username))?;
    println!("{} {} a server administrator", args.username, if admin { "is now" } else { "is no longer" });
    Ok(())
}

async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let url = args.storage.database_url();
    let path = url.strip_prefix("sqlite://").context("backup supports SQLite databases; use pg_dump for PostgreSQL")?;
    anyhow::ensure!(Path::new(path).exists(), "no database at {path}");
    let output = match args.output {
        Some(output) => output,
        None => {
            let dir = args.storage.data_dir.join("backups");
            std::fs::create_dir_all(&dir)?;
            let stamp = hubbub_domain::Timestamp::now().to_string().replace(':', "-");
            dir.join(format!("hubbub-{stamp}.db"))
        }
    };
    anyhow::ensure!(!output.exists(), "{} already exists", output.display());
    let store = hubbub_store::SqliteStore::open(Path::new(path), Durability::Normal).await?;
    store.backup_to(&output).await.context("backup failed")?;
    println!("{}", output.display());
    Ok(())
}

/// The cluster bus and presence directory, chosen once: NATS (core NATS for the bus,
/// JetStream key-value for presence) when a URL is given, else the in-process ones. The URL
/// is never logged (it may carry credentials).
async fn open_bus(
    nats_url: Option<&str>,
    cluster: &str,
) -> anyhow::Result<(Arc<dyn Bus>, Arc<dyn hubbub_app::ports::PresenceDirectory>)> {
    let Some(url) = nats_url else {
        tracing::info!("cluster bus: in-process (single node, no NATS)");
        return Ok((Arc::new(LocalBus::new()), Arc::new(hubbub_app::realtime::LocalPresence::new())));
    };
    let bus = hubbub_bus_nats::NatsBus::connect(url, cluster).await.context("cannot join the cluster bus on NATS")?;
    let presence = bus
        .presence(hubbub_bus_nats::PresenceTiming::default())
        .await
        .context("cannot open the presence bucket (is JetStream enabled on the NATS server? `nats-server -js`)")?;
    tracing::info!(node = %bus.node().0, subject = bus.subject(), "cluster bus: NATS");
    Ok((Arc::new(bus), Arc::new(presence)))
}

async fn open_media(media_dir: &Path) -> anyhow::Result<hubbub_http::media::MediaState> {
    let storage = hubbub_media::LocalDiskStorage::new(media_dir)
        .await
        .with_context(|| format!("cannot open the media directory {}", media_dir.display()))?;
    Ok(hubbub_http::media::MediaState::new(Arc::new(storage)))
}

async fn optimize(args: OptimizeArgs) -> anyhow::Result<()> {
    use hubbub_app::ports::{MediaPurpose, MediaRecord};
    use hubbub_app::usecases::media::reoptimize;
    let store = hubbub_store::open(&args.storage.database_url(), Durability::Normal)
        .await
        .context("cannot open the database")?;
    let media = open_media(&args.storage.media_dir()).await?;
    let media_files = Arc::new(hubbub_media::DiskMediaFiles::new(media.storage.clone()));
    let presence = Arc::new(hubbub_app::realtime::LocalPresence::new());
    let app = App::start_with(store, Arc::new(LocalBus::new()), presence, media_files, Limits::default());
    let records = reoptimize::records(&app).await?;
    let bar = indicatif::ProgressBar::new(records.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (mut changed, mut skipped, mut before, mut after) = (0u64, 0u64, 0u64, 0u64);
    for record in &records {
        bar.inc(1);
        let Ok(name) = hubbub_media::StoredName::parse(&record.media_name) else {
            skipped += 1;
            continue;
        };
        let purpose = match record.purpose {
            MediaPurpose::Avatar => hubbub_media::MediaPurpose::Avatar,
            MediaPurpose::Message => hubbub_media::MediaPurpose::Message,
        };
        let report = match media.optimizer.reoptimize(&name, purpose, args.dry_run).await {
            Ok(report) => report,
            Err(error) => {
                bar.println(format!("skipped {}: {error}", record.media_name));
                skipped += 1;
                continue;
            }
        };
        before += report.before.size;
        after += report.after.size;
        if !report.changed() {
            continue;
        }
        changed += 1;
        if args.dry_run {
            continue;
        }
        let new_name = report.current_name().as_str().to_owned();
        let updated = MediaRecord {
            media_name: new_name.clone(),
            content_type: report.after.kind.mime().to_owned(),
            size_bytes: report.after.size,
            width: report.after.width,
            height: report.after.height,
            purpose: record.purpose,
        };
        // A new name: every reference moves, then the use case deletes the old file.
        reoptimize::record(&app, &record.media_name, updated).await?;
        bar.set_message(format!("saved {} so far", human(before.saturating_sub(after))));
    }
    bar.finish_and_clear();
    let saved = before.saturating_sub(after);
    let percent = if before == 0 { 0.0 } else { saved as f64 * 100.0 / before as f64 };
    println!(
        "{} files seen, {} {}, {} skipped; {} before, {} after, {:.1}% saved{}",
        records.len(),
        changed,
        if args.dry_run { "would change" } else { "changed" },
        skipped,
        human(before),
        human(after),
        percent,
        if args.dry_run { " (dry run: nothing written)" } else { "" }
    );
    Ok(())
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
