//! `hubbub_store::migrate`: a SQLite store filled through the port, copied into a fresh
//! PostgreSQL database (127.0.0.1:5432, user postgres), compared column by column.

use crate::TestDb;
use crate::contract::{account, group_of, photo, send, session, text_message, user};
use hubbub_app::ports::{Actor, SessionId, SettingsPatch, Store};
use hubbub_domain::*;
use hubbub_store::migrate::{MigrateError, Options, migrate};
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;

const TABLES: &[&str] = &[
    "tenants",
    "users",
    "sessions",
    "ws_tickets",
    "spaces",
    "space_members",
    "conversations",
    "members",
    "messages",
    "reactions",
    "events",
    "mark_moves",
    "contacts",
    "blocks",
    "media",
    "audit_log",
    "message_mentions",
    "message_versions",
    "push_subscriptions",
    "outbox",
];

/// A SQLite store with a bit of everything, written through the port; returns its file.
async fn filled_store(dir: &Path) -> PathBuf {
    let path = dir.join("hubbub.db");
    let store: Arc<dyn Store> =
        hubbub_store::open(&path.to_string_lossy(), hubbub_store::Durability::Normal).await.unwrap();
    let alice = user(&store, "alice").await;
    let bob = store.create_account(account("bob", "Bob Builder"), session()).await.unwrap().id;
    let carol = user(&store, "carol").await;
    let dave = user(&store, "dave").await;
    let token = hubbub_app::security::issue_token();
    let sid = SessionId(Uuid::now_v7());
    store
        .create_session(
            alice,
            hubbub_app::ports::NewSession { id: sid, token_digest: token.digest, now: Timestamp::now() },
        )
        .await
        .unwrap();
    let ticket = hubbub_app::security::issue_token();
    let actor = Actor { user_id: alice, session_id: sid };
    store.create_ws_ticket(actor, ticket.digest, Timestamp::now().plus_millis(60_000)).await.unwrap();
    store.set_user_photo(bob, Some(photo("avatar-bob.jpg"))).await.unwrap();
    store.set_last_seen(carol, Timestamp::now()).await.unwrap();

    let (group, _) = group_of(&store, alice, vec![bob, carol, dave]).await;
    store.set_group_photo(group, Some(photo("group.jpg")), alice, Timestamp::now()).await.unwrap();
    let first = send(&store, group, alice, "hello").await;
    let mut reply = text_message(group, bob, "a reply with a photo", Some("client-1"));
    reply.reply_to = Some(first.id);
    reply.photo = Some(photo("message-photo.jpg"));
    let reply = store.send_message(reply).await.unwrap().message;
    let mut forwarded = text_message(group, carol, "forwarded", None);
    forwarded.forwarded = true;
    store.send_message(forwarded).await.unwrap();
    store
        .edit_message(
            group,
            first.id,
            MessageText::parse("hello, edited", 4096, false).unwrap(),
            Default::default(),
            Timestamp::now(),
        )
        .await
        .unwrap();
    // A mention, a pin (the edit above kept a version).
    let mut mentioning = text_message(group, carol, "@alice", None);
    mentioning.mentions = hubbub_app::ports::Mentions { users: vec![alice], all: false };
    let mentioning = store.send_message(mentioning).await.unwrap().message;
    store.set_pinned(group, mentioning.id, true, Timestamp::now()).await.unwrap();
    let doomed = send(&store, group, dave, "to be deleted").await;
    store.delete_message(group, doomed.id, Timestamp::now()).await.unwrap();
    store.set_reaction(bob, group, first.id, Some(Emoji::parse("😀").unwrap()), Timestamp::now()).await.unwrap();
    store.set_reaction(carol, group, reply.id, Some(Emoji::parse("👍").unwrap()), Timestamp::now()).await.unwrap();
    store.advance_marks(bob, group, Some(3), Some(2), Timestamp::now()).await.unwrap();
    store.advance_marks(carol, group, None, Some(4), Timestamp::now()).await.unwrap();
    store.remove_member(group, dave, dave, Timestamp::now()).await.unwrap();
    store.rename_group(group, GroupName::parse("renamed").unwrap(), alice, Timestamp::now()).await.unwrap();

    let chat = store.open_direct(alice, bob, ConversationId::generate(), Timestamp::now()).await.unwrap().0;
    send(&store, chat, bob, "direct hi").await;
    store.advance_marks(alice, chat, Some(1), Some(1), Timestamp::now()).await.unwrap();
    // Contacts, blocks and every per-member setting.
    store.set_contact(alice, bob, Some("Bobby".into()), Timestamp::now()).await.unwrap();
    store.set_contact(alice, carol, None, Timestamp::now()).await.unwrap();
    store.set_blocked(carol, dave, true, Timestamp::now()).await.unwrap();
    store.set_server_admin(&Username::parse("alice").unwrap(), true).await.unwrap();
    for (actor, action) in [(None, AuditAction::LoginFailed), (Some(alice), AuditAction::Login)] {
        let entry = hubbub_app::ports::NewAuditEntry {
            id: Uuid::now_v7(),
            at: Timestamp::now(),
            actor,
            action,
            target: Some("alice".into()),
            ip: Some("192.0.2.1".into()),
            details: "{}".into(),
        };
        store.record_audit(entry).await.unwrap();
    }
    let patch = SettingsPatch {
        archived: Some(true),
        pinned: Some(true),
        muted_until: Some(Some(Timestamp::now().plus_millis(3_600_000))),
        notify: Some(NotifyLevel::Mentions),
    };
    store.update_settings(alice, chat, patch, Timestamp::now()).await.unwrap();
    let push = hubbub_app::ports::PushSubscription {
        endpoint: "https://push.example.net/1".into(),
        p256dh: "BKey".into(),
        auth: "auth".into(),
    };
    store.save_push_subscription(alice, push, Timestamp::now()).await.unwrap();
    let jobs = ["one", "two"].map(|payload| hubbub_app::ports::NewJob {
        kind: "push.message".into(),
        payload: payload.into(),
        run_at: Timestamp::now(),
    });
    store.enqueue_jobs(jobs.to_vec()).await.unwrap();
    // One leased, with an attempt: every column has a value somewhere.
    let now = Timestamp::now();
    store.claim_jobs("push.message", now, now.plus_millis(60_000), 1).await.unwrap();
    store.clear_history(bob, group, true).await.unwrap();
    // A space with its general channel, and a member added later.
    let space = crate::contract::space_of(&store, alice, "Club", vec![bob]).await.0;
    store.add_space_members(space, vec![carol], alice, Timestamp::now()).await.unwrap();
    drop(store);
    path
}

/// Every row of `table` from both databases, each value normalised to one text form
/// (UUIDs hyphenated, bytes in hex, flags 0/1, NULL as "NULL"). The columns are
/// PostgreSQL's, so every column there is compared.
async fn rows_of(
    table: &str,
    sqlite: &mut SqliteConnection,
    pg: &mut PgConnection,
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    use sqlx::Row;
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *pg)
    .await
    .unwrap();
    assert!(!columns.is_empty(), "{table} exists in PostgreSQL");
    let present: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info(?1)").bind(table).fetch_all(&mut *sqlite).await.unwrap();
    let text = |v: Option<String>| v.unwrap_or_else(|| "NULL".into());
    let hex = |b: Vec<u8>| b.iter().map(|x| format!("{x:02x}")).collect::<String>();

    let pg_rows =
        sqlx::query(AssertSqlSafe(format!("SELECT * FROM {table} ORDER BY id"))).fetch_all(&mut *pg).await.unwrap();
    let pg_values = pg_rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|(name, ty)| match ty.as_str() {
                    "uuid" => row.get::<Uuid, _>(name.as_str()).to_string(),
                    "bytea" => hex(row.get(name.as_str())),
                    "boolean" => (row.get::<bool, _>(name.as_str()) as i64).to_string(),
                    "bigint" => text(row.get::<Option<i64>, _>(name.as_str()).map(|v| v.to_string())),
                    "text" => text(row.get(name.as_str())),
                    other => panic!("{table}.{name}: no normalisation for {other}"),
                })
                .collect()
        })
        .collect();
    let sqlite_rows =
        sqlx::query(AssertSqlSafe(format!("SELECT * FROM {table} ORDER BY id"))).fetch_all(&mut *sqlite).await.unwrap();
    let sqlite_values = sqlite_rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|(name, ty)| {
                    if !present.contains(name) {
                        assert_eq!((table, name.as_str()), ("events", "audience"), "only audience may be missing");
                        return String::new();
                    }
                    match ty.as_str() {
                        "uuid" => Uuid::from_slice(&row.get::<Vec<u8>, _>(name.as_str())).unwrap().to_string(),
                        "bytea" => hex(row.get(name.as_str())),
                        "boolean" | "bigint" => text(row.get::<Option<i64>, _>(name.as_str()).map(|v| v.to_string())),
                        _ => text(row.get(name.as_str())),
                    }
                })
                .collect()
        })
        .collect();
    (sqlite_values, pg_values)
}

async fn count(pg: &mut PgConnection, table: &str) -> i64 {
    sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"))).fetch_one(pg).await.unwrap()
}

#[tokio::test]
async fn every_row_and_column_arrives_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let source = filled_store(dir.path()).await;
    let db = TestDb::create("migrate").await;
    let mut seen = Vec::new();
    let report = migrate(&source, &db.url, Options { batch_rows: 2, ..Options::default() }, &mut |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(report.tables.iter().map(|t| t.table).collect::<Vec<_>>(), TABLES);
    assert!(report.tables.iter().all(|t| t.source == t.target));
    let messages = report.tables.iter().find(|t| t.table == "messages").unwrap();
    assert_eq!(messages.target, 6);
    let last = seen.iter().rfind(|p| p.table == "messages").unwrap();
    assert_eq!((last.copied, last.total), (6, 6), "progress ends at the total");
    assert!(seen.iter().filter(|p| p.table == "messages").count() >= 4, "batches of 2 report as they go");

    let mut sqlite = SqliteConnection::connect(&format!("sqlite://{}", source.display())).await.unwrap();
    let mut pg = PgConnection::connect(&db.url).await.unwrap();
    let public: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
    .fetch_all(&mut pg)
    .await
    .unwrap();
    for table in public {
        assert!(
            TABLES.contains(&table.as_str()) || table == "health" || table == "_sqlx_migrations",
            "{table} is neither copied nor known to be left out"
        );
    }
    for table in TABLES {
        let (from, to) = rows_of(table, &mut sqlite, &mut pg).await;
        assert!(!from.is_empty(), "the fixture fills {table}");
        assert_eq!(from, to, "{table}: every column of every row");
    }
    // The details the fill was made for are really there.
    let left: Option<String> = sqlx::query_scalar("SELECT left_name FROM members WHERE left_seq IS NOT NULL")
        .fetch_one(&mut pg)
        .await
        .unwrap();
    assert_eq!(left.as_deref(), Some("g"));
    let forwarded: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE forwarded").fetch_one(&mut pg).await.unwrap();
    assert_eq!(forwarded, 1);
    // The sequences moved past the copied ids: a new row takes the next one.
    let max: i64 = sqlx::query_scalar("SELECT MAX(id) FROM mark_moves").fetch_one(&mut pg).await.unwrap();
    let next: i64 = sqlx::query_scalar(
        "INSERT INTO mark_moves (tenant_id, conversation_id, user_id, kind, seq, at) VALUES (1, 1, 1, 'read', 99, 0) RETURNING id",
    )
    .fetch_one(&mut pg)
    .await
    .unwrap();
    assert_eq!(next, max + 1);
}

#[tokio::test]
async fn a_target_with_data_is_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let source = filled_store(dir.path()).await;
    let db = TestDb::create("migrate").await;
    migrate(&source, &db.url, Options::default(), &mut |_| {}).await.unwrap();
    let mut pg = PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE users SET about = 'changed on the target' WHERE id = 1").execute(&mut pg).await.unwrap();

    let refused = migrate(&source, &db.url, Options::default(), &mut |_| {}).await.unwrap_err();
    assert!(matches!(refused, MigrateError::TargetNotEmpty { users: 4, .. }), "{refused}");
    assert_eq!(refused.code(), "migrate_target_not_empty");
    let about: String = sqlx::query_scalar("SELECT about FROM users WHERE id = 1").fetch_one(&mut pg).await.unwrap();
    assert_eq!(about, "changed on the target", "nothing was written");

    let forced = migrate(&source, &db.url, Options { force: true, ..Options::default() }, &mut |_| {}).await.unwrap();
    for table in &forced.tables {
        assert_eq!(count(&mut pg, table.table).await as u64, table.source, "{}", table.table);
    }
    let about: String = sqlx::query_scalar("SELECT about FROM users WHERE id = 1").fetch_one(&mut pg).await.unwrap();
    assert_eq!(about, "", "the source's rows replaced the target's");
}

#[tokio::test]
async fn a_failure_midway_leaves_the_target_empty() {
    let dir = tempfile::tempdir().unwrap();
    let source = filled_store(dir.path()).await;
    // SQLite stores a NUL character in TEXT; PostgreSQL refuses it. The last message is
    // copied after tenants, users, sessions, tickets, conversations and members.
    let mut sqlite = SqliteConnection::connect(&format!("sqlite://{}", source.display())).await.unwrap();
    sqlx::query("UPDATE messages SET text = 'a' || char(0) || 'b' WHERE id = (SELECT MAX(id) FROM messages)")
        .execute(&mut sqlite)
        .await
        .unwrap();
    let db = TestDb::create("migrate").await;
    let mut seen = Vec::new();
    let failed = migrate(&source, &db.url, Options::default(), &mut |p| seen.push(p.table)).await.unwrap_err();
    assert!(matches!(failed, MigrateError::TargetWrite { table: "messages", .. }), "{failed}");
    assert!(seen.contains(&"members"), "earlier tables were written before the failure");
    let mut pg = PgConnection::connect(&db.url).await.unwrap();
    for table in TABLES.iter().filter(|t| **t != "tenants") {
        assert_eq!(count(&mut pg, table).await, 0, "{table} is empty after the rollback");
    }
    let tenants: Vec<String> = sqlx::query_scalar("SELECT name FROM tenants").fetch_all(&mut pg).await.unwrap();
    assert_eq!(tenants, ["default"], "only the row the schema creates");

    // With the source repaired, the same target is still empty enough to take it.
    sqlx::query("UPDATE messages SET text = 'ab' WHERE id = (SELECT MAX(id) FROM messages)")
        .execute(&mut sqlite)
        .await
        .unwrap();
    let report = migrate(&source, &db.url, Options::default(), &mut |_| {}).await.unwrap();
    let messages = report.tables.iter().find(|t| t.table == "messages").unwrap();
    assert_eq!(count(&mut pg, "messages").await as u64, messages.source);
}

#[tokio::test]
async fn a_source_newer_than_this_binary_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = filled_store(dir.path()).await;
    let mut sqlite = SqliteConnection::connect(&format!("sqlite://{}", source.display())).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9999, 'from the future', 1, X'00', 0)",
    )
    .execute(&mut sqlite)
    .await
    .unwrap();
    let db = TestDb::create("migrate").await;
    let refused = migrate(&source, &db.url, Options::default(), &mut |_| {}).await.unwrap_err();
    assert!(matches!(refused, MigrateError::SourceTooNew { found: 9999, .. }), "{refused}");
    let missing = migrate(&dir.path().join("nope.db"), &db.url, Options::default(), &mut |_| {}).await.unwrap_err();
    assert_eq!(missing.code(), "migrate_source_missing");
}
