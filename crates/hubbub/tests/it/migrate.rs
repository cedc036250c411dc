//! `hubbub migrate`: a server on SQLite filled over HTTP, stopped, and its data directory
//! moved into a fresh PostgreSQL database (127.0.0.1:5432, user postgres) with its media.

use super::{BIN, serve, serve_with};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use std::process::Command;

use hubbub_store::testing::TestDatabase as TestDb;

async fn register(client: &reqwest::Client, base: &str, name: &str) -> (String, String) {
    let response = client
        .post(format!("{base}/api/users"))
        .json(&json!({"username": name, "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    (body["token"].as_str().unwrap().to_owned(), body["user"]["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn migrate_moves_a_stopped_servers_data_and_media_into_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (server, base) = serve(&data).await;
    let client = reqwest::Client::new();
    let (alice, _) = register(&client, &base, "alice").await;
    let (bob, bob_id) = register(&client, &base, "bob").await;
    let group: Value = client
        .post(format!("{base}/api/conversations"))
        .bearer_auth(&alice)
        .json(&json!({"name": "moving day", "member_ids": [bob_id]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let group = group["id"].as_str().unwrap().to_owned();
    for text in ["one", "two", "three"] {
        let sent = client
            .post(format!("{base}/api/conversations/{group}/messages"))
            .bearer_auth(&alice)
            .json(&json!({"text": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 201, "{}", sent.text().await.unwrap());
    }
    let read = client
        .put(format!("{base}/api/conversations/{group}/read"))
        .bearer_auth(&bob)
        .json(&json!({"seq": 3}))
        .send()
        .await
        .unwrap();
    assert!(read.status().is_success(), "{}", read.status());
    let photo =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/media-samples/orient-1.jpg")).unwrap();
    let form = reqwest::multipart::Form::new()
        .part("photo", reqwest::multipart::Part::bytes(photo).file_name("me.jpg").mime_str("image/jpeg").unwrap());
    let uploaded =
        client.put(format!("{base}/api/users/me/photo")).bearer_auth(&bob).multipart(form).send().await.unwrap();
    assert_eq!(uploaded.status(), 200, "{}", uploaded.text().await.unwrap());
    drop(server);

    let db = TestDb::create("migrate").await;
    let shared = dir.path().join("shared-media");
    let run = Command::new(BIN)
        .args(["migrate", "--from"])
        .arg(&data)
        .args(["--to", &db.url, "--media-to"])
        .arg(&shared)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(run.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    let rows = |table: &str| -> u64 {
        let line =
            stdout.lines().find(|l| l.split_whitespace().next() == Some(table)).unwrap_or_else(|| panic!("{stdout}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    assert_eq!((rows("users"), rows("sessions"), rows("conversations"), rows("members")), (2, 2, 1, 2), "{stdout}");
    assert_eq!((rows("messages"), rows("media")), (3, 1), "{stdout}");
    assert!(stdout.contains("row counts match the source in every table"), "{stdout}");
    assert!(stdout.contains("media: 1 files copied"), "{stdout}");
    assert!(stderr.contains("messages") && stderr.contains("3/3 rows"), "progress on stderr: {stderr}");

    let source_files: Vec<_> = std::fs::read_dir(data.join("media"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .collect();
    assert_eq!(source_files.len(), 1);
    for file in source_files {
        let copied = std::fs::read(shared.join(file.file_name())).unwrap();
        assert_eq!(copied, std::fs::read(file.path()).unwrap(), "the file arrived whole");
    }
    let mut pg = PgConnection::connect(&db.url).await.unwrap();
    let read_seq: i64 =
        sqlx::query_scalar("SELECT read_seq FROM members m JOIN users u ON u.id = m.user_id WHERE u.username = 'bob'")
            .fetch_one(&mut pg)
            .await
            .unwrap();
    assert_eq!(read_seq, 3, "the read mark came along");

    // A second run into the same database is refused and exits non-zero.
    let again = Command::new(BIN).args(["migrate", "--from"]).arg(&data).args(["--to", &db.url]).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("migrate_target_not_empty"));
    read_back_through_postgres(&db.url, &shared, &alice, &bob, &group).await;
}

/// The migrated database served by `hubbub serve --database-url postgres://...` with the
/// moved media: everyone is still logged in, history pages back, seqs go on where they
/// were, and the photo is served from the new directory.
async fn read_back_through_postgres(url: &str, shared: &std::path::Path, alice: &str, bob: &str, group: &str) {
    let empty = tempfile::tempdir().unwrap();
    let media = shared.to_string_lossy().into_owned();
    let (_server, base) = serve_with(empty.path(), &["--database-url", url, "--media-dir", &media]).await;
    let client = reqwest::Client::new();
    let me = client.get(format!("{base}/api/users/me")).bearer_auth(alice).send().await.unwrap();
    assert_eq!(me.status(), 200, "alice's session moved with the data");
    let page: Value = client
        .get(format!("{base}/api/conversations/{group}/messages"))
        .bearer_auth(bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let texts: Vec<&str> = page["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["one", "two", "three"], "{page}");
    let sent: Value = client
        .post(format!("{base}/api/conversations/{group}/messages"))
        .bearer_auth(alice)
        .json(&json!({"text": "four"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sent["seq"], 5, "seqs go on after the creation (1) and three messages: {sent}");
    let bobs: Value =
        client.get(format!("{base}/api/users/me")).bearer_auth(bob).send().await.unwrap().json().await.unwrap();
    let photo_url = bobs["photo_url"].as_str().expect("bob's photo came along");
    let photo = client.get(format!("{base}{photo_url}")).bearer_auth(bob).send().await.unwrap();
    assert_eq!(photo.status(), 200, "the photo is served from the moved media");
    assert!(!photo.bytes().await.unwrap().is_empty());
    // And the rows really are in PostgreSQL, with the new message among them.
    let mut pg = PgConnection::connect(url).await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages").fetch_one(&mut pg).await.unwrap();
    assert_eq!(count, 4);
}
