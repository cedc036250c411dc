//! The binary itself: `serve` starts with no configuration, `backup` snapshots a live
//! database, and `media optimize` shrinks files stored before the pipeline existed.

mod cluster;
mod connections;
mod migrate;

use hubbub_app::ports::{NewAccount, NewMessage, NewSession, PhotoInput, SessionId, Store};
use hubbub_domain::{ConversationId, MessageId, MessageText, Timestamp, UserId, Username};
use hubbub_media::storage::{FileStorage, PutOptions, PutSource};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hubbub");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn serve(data_dir: &Path) -> (Server, String) {
    serve_with(data_dir, &[]).await
}

/// `serve` with more arguments (`--database-url ...`).
async fn serve_with(data_dir: &Path, args: &[&str]) -> (Server, String) {
    let port = free_port();
    // `Server`'s drop kills and waits for it on every path; clippy cannot see through that.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .args(["--log-format", "json"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start hubbub");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(response) = reqwest::get(format!("{base}/api/health")).await
            && response.status() == 200
        {
            return (Server(child), base);
        }
        assert!(Instant::now() < deadline, "hubbub did not become healthy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn serve_creates_its_data_dir_and_backup_snapshots_it_while_running() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (server, base) = serve(&data).await;
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{base}/api/users"))
        .json(&serde_json::json!({"username": "alice", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert!(data.join("hubbub.db").exists());
    assert!(data.join("hubbub.db-wal").exists(), "WAL mode");
    let index = client.get(format!("{base}/")).send().await.unwrap();
    // The binary under test was built from this tree, so it embeds the web app exactly when
    // this test's build of hubbub-web does; without it, `/` is the 503 "not built" page.
    let expected = if hubbub_web::is_built() { 200 } else { 503 };
    assert_eq!(index.status(), expected, "the web app (or the 'not built' page) is served at /");

    let snapshot = dir.path().join("snapshot.db");
    let output =
        Command::new(BIN).args(["backup", "--data-dir"]).arg(&data).arg("--output").arg(&snapshot).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    drop(server);

    // The snapshot is a complete database: the account is in it.
    let copy = hubbub_store::open(&snapshot.to_string_lossy(), hubbub_store::Durability::Normal).await.unwrap();
    assert!(copy.credentials(&Username::parse("alice").unwrap()).await.unwrap().is_some());
}

#[tokio::test]
async fn media_optimize_shrinks_old_uploads_and_updates_their_records() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let store =
        hubbub_store::open(&data.join("hubbub.db").to_string_lossy(), hubbub_store::Durability::Normal).await.unwrap();
    let raw = hubbub_media::LocalDiskStorage::new(data.join("media")).await.unwrap();

    // An "old" upload: stored as it came, 7 MB, with its metadata.
    let original =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/media-samples/photo-large.jpg")).unwrap();
    let stored = raw
        .put(PutSource::Bytes(original.clone().into()), PutOptions::new(hubbub_media::MediaPurpose::Message))
        .await
        .unwrap();
    let alice = account(&store, "alice").await;
    let bob = account(&store, "bob").await;
    let (chat, _) = store.open_direct(alice, bob, ConversationId::generate(), Timestamp::now()).await.unwrap();
    let photo = PhotoInput {
        media_name: stored.name.as_str().to_owned(),
        content_type: "image/jpeg".into(),
        size_bytes: original.len() as u64,
        width: 4032,
        height: 2268,
    };
    store
        .send_message(NewMessage {
            id: MessageId::generate(),
            conversation_id: chat,
            sender: alice,
            text: MessageText::parse("old photo", 4096, true).unwrap(),
            photo: Some(photo),
            file: None,
            reply_to: None,
            client_id: None,
            forwarded: false,
            now: Timestamp::now(),
            mentions: Default::default(),
            outbox: None,
        })
        .await
        .unwrap();
    drop(store);
    let file = data.join("media").join(stored.name.as_str());

    let dry = Command::new(BIN).args(["media", "optimize", "--dry-run", "--data-dir"]).arg(&data).output().unwrap();
    let summary = String::from_utf8_lossy(&dry.stdout).to_string();
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    assert!(summary.contains("1 files seen, 1 would change"), "{summary}");
    assert_eq!(std::fs::metadata(&file).unwrap().len(), original.len() as u64, "a dry run writes nothing");

    let run = Command::new(BIN).args(["media", "optimize", "--data-dir"]).arg(&data).output().unwrap();
    let summary = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(summary.contains("1 files seen, 1 changed"), "{summary}");
    let after = std::fs::read(&file).unwrap();
    assert!(after.len() < original.len() / 10, "7 MB should shrink below 700 KB, got {}", after.len());
    assert!(!after.windows(6).any(|w| w == b"Exif\0\0"));

    let store =
        hubbub_store::open(&data.join("hubbub.db").to_string_lossy(), hubbub_store::Durability::Normal).await.unwrap();
    let records = store.media_records().await.unwrap();
    assert_eq!((records[0].size_bytes, records[0].width, records[0].height), (after.len() as u64, 1600, 900));
    let again = Command::new(BIN).args(["media", "optimize", "--data-dir"]).arg(&data).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 changed"), "a second run finds nothing to gain");
}

async fn account(store: &std::sync::Arc<dyn Store>, name: &str) -> UserId {
    let token = hubbub_app::security::issue_token();
    let account = NewAccount {
        id: UserId::generate(),
        username: Username::parse(name).unwrap(),
        display_name: name.into(),
        password_hash: "x".into(),
        now: Timestamp::now(),
    };
    let session = NewSession { id: SessionId(uuid::Uuid::now_v7()), token_digest: token.digest, now: Timestamp::now() };
    store.create_account(account, session).await.unwrap().id
}

#[tokio::test]
async fn admin_grant_on_the_command_line_lets_a_user_read_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = serve(dir.path()).await;
    let client = reqwest::Client::new();
    let registered: serde_json::Value = client
        .post(format!("{base}/api/users"))
        .json(&serde_json::json!({"username": "alice", "password": "correct horse"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = registered["token"].as_str().unwrap().to_owned();
    let audit = || client.get(format!("{base}/api/admin/audit")).bearer_auth(&token).send();
    assert_eq!(audit().await.unwrap().status(), 403);
    // While the server runs: the command writes through the same database.
    let grant = Command::new(BIN).args(["admin", "grant", "alice", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(grant.status.success(), "{}", String::from_utf8_lossy(&grant.stderr));
    assert!(String::from_utf8_lossy(&grant.stdout).contains("alice is now a server administrator"));
    let page: serde_json::Value = audit().await.unwrap().json().await.unwrap();
    assert_eq!(page["entries"][0]["action"], "admin.granted", "{page}");
    let unknown = Command::new(BIN).args(["admin", "grant", "nobody", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(!unknown.status.success(), "an unknown user is an error");
}
