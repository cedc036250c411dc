//! The `search` scenario (issue 12): N messages across C conversations written through the
//! `Store` port (no HTTP; many senders at once, so the writers group-commit), then queries
//! of 1–3 words (the last one often a prefix, as typed) by a member of a tenth of the
//! conversations: p50/p99 latency and the size of the index. Then an A/B of the send cost
//! with the index and without it (the triggers, or the generated column, dropped in a second
//! database), alternated in rounds within the run.

use anyhow::{Context, Result};
use hubbub_app::ports::{NewAccount, NewGroup, NewMessage, NewSession, SearchQuery, SessionId, Store};
use hubbub_domain::{ConversationId, GroupName, MessageId, MessageText, Timestamp, UserId, Username};
use sqlx::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, clap::Args)]
pub struct SearchArgs {
    /// `sqlite` (a file in a temporary directory) or a PostgreSQL server URL
    /// (`postgres://user@host:port`; the run creates and drops databases of its own).
    #[arg(long, default_value = "sqlite")]
    pub store: String,
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: u64,
    #[arg(long, default_value_t = 1_000)]
    pub conversations: usize,
    #[arg(long, default_value_t = 500)]
    pub queries: usize,
    /// Senders writing at once while filling.
    #[arg(long, default_value_t = 64)]
    pub senders: usize,
    /// Seconds of each A/B round (two rounds each, alternated).
    #[arg(long, default_value_t = 5)]
    pub ab_seconds: u64,
    /// Senders at once in the A/B.
    #[arg(long, default_value_t = 16)]
    pub ab_senders: usize,
    /// Messages already stored before the A/B sends.
    #[arg(long, default_value_t = 20_000)]
    pub ab_prefill: u64,
}

/// A small deterministic generator (xorshift64*): the same texts every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const VOCABULARY: usize = 20_000;
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ra", "to", "shi", "ve", "du", "po", "ja", "re", "sa", "qui", "zo", "bel", "an", "or", "é",
    "ü", "tri", "mon", "ca", "fe", "lu", "ni", "go", "da",
];

/// The vocabulary: pseudo-words of 2–4 syllables (a few with diacritics), rank 0 the most common.
fn vocabulary() -> Vec<String> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut words = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(VOCABULARY);
    while out.len() < VOCABULARY {
        let n = 2 + rng.below(3);
        let word: String = (0..n).map(|_| SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize]).collect();
        if words.insert(word.clone()) {
            out.push(word);
        }
    }
    out
}

/// A word rank skewed to the common ones (the top word is in about a third of messages).
fn rank(rng: &mut Rng) -> usize {
    ((VOCABULARY as f64) * rng.unit().powi(3)) as usize
}

fn text(rng: &mut Rng, words: &[String]) -> String {
    let n = 4 + rng.below(12);
    (0..n).map(|_| words[rank(rng)].as_str()).collect::<Vec<_>>().join(" ")
}

async fn user(store: &Arc<dyn Store>, name: &str) -> Result<UserId> {
    let account = NewAccount {
        id: UserId::generate(),
        username: Username::parse(name).map_err(|e| anyhow::anyhow!("{e}"))?,
        display_name: name.to_owned(),
        password_hash: "$argon2id$bench".to_owned(),
        now: Timestamp::now(),
    };
    let session = NewSession {
        id: SessionId(uuid::Uuid::now_v7()),
        token_digest: hubbub_app::security::issue_token().digest,
        now: Timestamp::now(),
    };
    Ok(store.create_account(account, session).await?.id)
}

/// Where a store of the run lives: a SQLite file, or a database of its own on the server.
struct Place {
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg_database: Option<(String, String)>,
}

impl Place {
    async fn new(store: &str, purpose: &str) -> Result<Place> {
        if store == "sqlite" {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join(format!("{purpose}.db")).display());
            return Ok(Place { url, _dir: Some(dir), pg_database: None });
        }
        let server = store.trim_end_matches('/').to_owned();
        let name = format!("hubbub_bench_{purpose}_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
        Ok(Place { url: format!("{server}/{name}"), _dir: None, pg_database: Some((server, name)) })
    }

    fn is_postgres(&self) -> bool {
        self.pg_database.is_some()
    }

    async fn open(&self) -> Result<Arc<dyn Store>> {
        let store = hubbub_store::open(&self.url, hubbub_store::Durability::Normal).await?;
        // Nobody publishes here; drain the feed so its queue does not grow.
        let mut feed = store.commit_feed().context("commit feed")?;
        tokio::spawn(async move { while feed.recv().await.is_some() {} });
        Ok(store)
    }

    /// Runs one statement on the database directly (what the port never needs).
    async fn execute(&self, sql: &str) -> Result<()> {
        if self.is_postgres() {
            let mut conn = sqlx::PgConnection::connect(&self.url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut conn).await?;
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut conn).await?;
        }
        Ok(())
    }

    /// The index's size in bytes: the FTS5 shadow tables, or the GIN index plus the column.
    async fn index_bytes(&self) -> Result<(i64, i64)> {
        if self.is_postgres() {
            let mut conn = sqlx::PgConnection::connect(&self.url).await?;
            let gin: i64 =
                sqlx::query_scalar("SELECT pg_relation_size('messages_search')").fetch_one(&mut conn).await?;
            let column: Option<i64> =
                sqlx::query_scalar("SELECT SUM(pg_column_size(search_vector))::bigint FROM messages")
                    .fetch_one(&mut conn)
                    .await?;
            let table: i64 =
                sqlx::query_scalar("SELECT pg_total_relation_size('messages')").fetch_one(&mut conn).await?;
            Ok((gin + column.unwrap_or(0), table))
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await?;
            let fts: Option<i64> = sqlx::query_scalar("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'messages_fts%'")
                .fetch_one(&mut conn)
                .await?;
            let all: i64 =
                sqlx::query_scalar("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
                    .fetch_one(&mut conn)
                    .await?;
            Ok((fts.unwrap_or(0), all))
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some((server, name)) = self.pg_database.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async {
                    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await.ok()?;
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .execute(&mut admin)
                        .await
                        .ok()
                })
            })
            .join();
        }
    }
}

/// The people and conversations: `conversations` groups of 8, and the searcher in every tenth.
struct World {
    searcher: UserId,
    groups: Vec<(ConversationId, Vec<UserId>)>,
}

async fn world(store: &Arc<dyn Store>, conversations: usize) -> Result<World> {
    let people = conversations.max(8);
    let mut users = Vec::with_capacity(people);
    for i in 0..people {
        users.push(user(store, &format!("user{i}")).await?);
    }
    let searcher = user(store, "searcher").await?;
    let mut groups = Vec::with_capacity(conversations);
    for i in 0..conversations {
        let mut members: Vec<UserId> = (0..8).map(|k| users[(i + k * 7) % people]).collect();
        members.dedup();
        if i % 10 == 0 {
            members.push(searcher);
        }
        let id = ConversationId::generate();
        let name = GroupName::parse("bench").map_err(|e| anyhow::anyhow!("{e}"))?;
        store
            .create_group(NewGroup {
                id,
                creator: members[0],
                name,
                member_ids: members[1..].to_vec(),
                now: Timestamp::now(),
            })
            .await?;
        groups.push((id, members));
    }
    Ok(World { searcher, groups })
}

fn message(rng: &mut Rng, words: &[String], world: &World) -> Result<NewMessage> {
    let (conversation, members) = &world.groups[rng.below(world.groups.len() as u64) as usize];
    let sender = members[rng.below(members.len() as u64) as usize];
    Ok(NewMessage {
        id: MessageId::generate(),
        conversation_id: *conversation,
        sender,
        text: MessageText::parse(&text(rng, words), 4096, false).map_err(|e| anyhow::anyhow!("{e}"))?,
        photo: None,
        file: None,
        reply_to: None,
        client_id: None,
        forwarded: false,
        now: Timestamp::now(),
        mentions: Default::default(),
        outbox: None,
    })
}

/// Messages written between two pauses of the fill.
const CHUNK: u64 = 20_000;
/// Long enough for the SQLite checkpointer (every 500 ms after commits) to complete one.
const PAUSE: Duration = Duration::from_millis(1_500);

/// Writes `count` messages with `senders` tasks at once, in chunks with a pause between
/// them; returns the rate while writing. Without the pauses, SQLite's passive checkpoint
/// never completes under writers that never stop, so the WAL is never restarted: it grew to
/// 8.7 GB by 400,000 messages (see docs/PERFORMANCE.md, "Issue 12: search").
async fn fill(
    store: &Arc<dyn Store>,
    world: &Arc<World>,
    words: &Arc<Vec<String>>,
    count: u64,
    senders: usize,
    progress: bool,
) -> Result<f64> {
    let mut writing = Duration::ZERO;
    let mut done = 0;
    while done < count {
        let n = CHUNK.min(count - done);
        let started = Instant::now();
        fill_chunk(store, world, words, n, senders, done).await?;
        writing += started.elapsed();
        done += n;
        if progress && done % 100_000 == 0 {
            eprintln!("  {done} messages, {:.0}/s", done as f64 / writing.as_secs_f64());
        }
        if done < count {
            tokio::time::sleep(PAUSE).await;
        }
    }
    Ok(count as f64 / writing.as_secs_f64())
}

async fn fill_chunk(
    store: &Arc<dyn Store>,
    world: &Arc<World>,
    words: &Arc<Vec<String>>,
    count: u64,
    senders: usize,
    seed: u64,
) -> Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for t in 0..senders {
        let (store, world, words, next) = (store.clone(), world.clone(), words.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0xA5A5_0000 + seed * 31 + t as u64 * 7919 + 1);
            loop {
                if next.fetch_add(1, Ordering::Relaxed) >= count {
                    return Ok::<_, anyhow::Error>(());
                }
                store.send_message(message(&mut rng, &words, &world)?).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// Sends for `seconds` with `senders` closed-loop tasks: every send's latency.
async fn timed_sends(
    store: &Arc<dyn Store>,
    world: &Arc<World>,
    words: &Arc<Vec<String>>,
    senders: usize,
    seconds: u64,
    seed: u64,
) -> Result<Vec<Duration>> {
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for t in 0..senders {
        let (store, world, words) = (store.clone(), world.clone(), words.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(seed + t as u64 * 104_729 + 3);
            let mut out = Vec::new();
            while Instant::now() < until {
                let new = message(&mut rng, &words, &world)?;
                let start = Instant::now();
                store.send_message(new).await?;
                out.push(start.elapsed());
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    all.sort();
    Ok(all)
}

pub async fn run(a: SearchArgs) -> Result<()> {
    let words = Arc::new(vocabulary());
    let backend = if a.store == "sqlite" { "SQLite" } else { "PostgreSQL" };
    println!("search scenario on {backend}: {} messages, {} conversations", a.messages, a.conversations);

    // 1. Fill, then query.
    let place = Place::new(&a.store, "search").await?;
    let store = place.open().await?;
    let world = Arc::new(world(&store, a.conversations).await?);
    let rate = fill(&store, &world, &words, a.messages, a.senders, true).await?;
    println!("filled: {:.0} messages/s through the store ({} senders)", rate, a.senders);
    if place.is_postgres() {
        // What autovacuum does after a bulk load anyway: the planner's statistics of the
        // words, without which it cannot tell a common word from a rare one.
        place.execute("ANALYZE").await?;
    }
    let mut rng = Rng(0x5EA2C4);
    let mut latencies = Vec::with_capacity(a.queries);
    let mut found = 0usize;
    for _ in 0..a.queries {
        let n = 1 + rng.below(3) as usize;
        let mut q: Vec<String> = (0..n).map(|_| words[rng.below(2_000) as usize].clone()).collect();
        // Half the time the last word is still being typed: a prefix of 3+ characters.
        if rng.below(2) == 0 {
            let last = q.last_mut().expect("a word");
            let chars: Vec<char> = last.chars().collect();
            let keep = (3 + rng.below(3) as usize).min(chars.len());
            *last = chars[..keep].iter().collect();
        }
        let query = SearchQuery {
            viewer: world.searcher,
            terms: hubbub_app::search::terms(&q.join(" ")),
            conversation: None,
            sender: None,
            after: None,
            before: None,
            has_photo: false,
            cursor: None,
            limit: 20,
        };
        let start = Instant::now();
        found += store.search_messages(&query).await?.messages.len();
        latencies.push(start.elapsed());
    }
    latencies.sort();
    let (index, total) = place.index_bytes().await?;
    println!(
        "queries: {} of 1-3 words by a member of {} conversations: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({:.1} results on average)",
        a.queries,
        world.groups.len().div_ceil(10),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        found as f64 / a.queries as f64
    );
    println!("index: {:.1} MiB ({:.1} MiB for the whole database)", index as f64 / 1048576.0, total as f64 / 1048576.0);
    drop(store);
    drop(place);

    // 2. A/B of the send cost: the same prefill in two databases, one without the index.
    let with = Place::new(&a.store, "with").await?;
    let without = Place::new(&a.store, "without").await?;
    let mut stores = Vec::new();
    for (i, place) in [&with, &without].into_iter().enumerate() {
        let store = place.open().await?;
        let world = Arc::new(self::world(&store, a.conversations.min(100)).await?);
        fill(&store, &world, &words, a.ab_prefill, a.senders, false).await?;
        if i == 1 {
            drop(store);
            if place.is_postgres() {
                place.execute("ALTER TABLE messages DROP COLUMN search_vector").await?;
            } else {
                place
                    .execute(
                        "DROP TRIGGER messages_fts_insert; DROP TRIGGER messages_fts_update;
                         DROP TRIGGER messages_fts_delete;",
                    )
                    .await?;
            }
            stores.push((place.open().await?, world));
        } else {
            stores.push((store, world));
        }
    }
    let mut results: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut counted = [0.0f64; 2];
    for round in 0..4u64 {
        let which = (round % 2) as usize;
        let (store, world) = &stores[which];
        let sends = timed_sends(store, world, &words, a.ab_senders, a.ab_seconds, 0xAB00 + round).await?;
        counted[which] += sends.len() as f64;
        results[which].extend(sends);
    }
    for r in &mut results {
        r.sort();
    }
    let secs = (a.ab_seconds * 2) as f64;
    for (name, i) in [("with the index", 0), ("without it", 1)] {
        println!(
            "send {name}: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms ({} senders)",
            counted[i] / secs,
            percentile(&results[i], 0.50),
            percentile(&results[i], 0.99),
            a.ab_senders
        );
    }
    let slower = (counted[1] / counted[0] - 1.0) * 100.0;
    let p50 = (percentile(&results[0], 0.50) / percentile(&results[1], 0.50) - 1.0) * 100.0;
    println!("with the index a send is {slower:.1} % slower by throughput, {p50:.1} % by median latency");
    Ok(())
}
