//! SQLite-specific: migrations bring a database written by an older build up to date.

use hubbub_app::ports::Store;
use hubbub_domain::{ConversationId, UserId};
use sqlx::Connection;
use uuid::Uuid;

/// A database as the build before `0002_former_members` left it: a group "Old name" that
/// dave left (seq 3) before it was renamed and given a photo whose file was later replaced
/// and deleted (seq 4), which carol left (seq 5) before its current photo (seq 6).
async fn database_before_0002(path: &std::path::Path) -> (ConversationId, UserId, UserId) {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path).create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
    let mut migrator =
        sqlx::migrate::Migrator::new(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite")))
            .await
            .unwrap();
    migrator.migrations = migrator.migrations.iter().filter(|m| m.version == 1).cloned().collect();
    migrator.run(&mut conn).await.unwrap();
    let (group, alice, dave, carol) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    for (key, uuid, name) in [(1, alice, "alice"), (2, dave, "dave"), (3, carol, "carol")] {
        sqlx::query(
            "INSERT INTO users (id, tenant_id, uuid, username, display_name, display_name_lower, password_hash, created_at)
             VALUES (?1, 1, ?2, ?3, ?3, ?3, 'h', 0)",
        )
        .bind(key)
        .bind(uuid)
        .bind(name)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO conversations (id, tenant_id, uuid, kind, name, photo_name, last_seq, last_activity_at, created_at, updated_at)
         VALUES (1, 1, ?, 'group', 'New name', 'new.jpg', 6, 6, 0, 6)",
    )
    .bind(group)
    .execute(&mut conn)
    .await
    .unwrap();
    for (user, role, left_seq) in [(1, "admin", None), (2, "member", Some(3)), (3, "member", Some(5))] {
        sqlx::query(
            "INSERT INTO members (tenant_id, conversation_id, user_id, role, joined_seq, joined_at, left_seq, left_at)
             VALUES (1, 1, ?, ?, 0, 0, ?, ?)",
        )
        .bind(user)
        .bind(role)
        .bind(left_seq)
        .bind(left_seq)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let snapshot = |kind: &str, name: &str, photo: Option<&str>| {
        serde_json::json!({"type": kind, "data": {"name": name, "photo_url": photo}}).to_string()
    };
    let events = [
        (1, "conversation.created", snapshot("conversation.created", "Old name", None)),
        (2, "conversation.updated", snapshot("conversation.updated", "Old name", Some("/media/old.jpg"))),
        (3, "member.removed", "{}".to_owned()),
        (4, "conversation.updated", snapshot("conversation.updated", "New name", Some("/media/gone.jpg"))),
        (5, "member.removed", "{}".to_owned()),
        (6, "conversation.updated", snapshot("conversation.updated", "New name", Some("/media/new.jpg"))),
    ];
    for (seq, kind, payload) in events {
        sqlx::query(
            "INSERT INTO events (tenant_id, conversation_id, seq, kind, payload, created_at) VALUES (1, 1, ?, ?, ?, ?)",
        )
        .bind(seq)
        .bind(kind)
        .bind(payload)
        .bind(seq)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    for name in ["old.jpg", "new.jpg"] {
        sqlx::query(
            "INSERT INTO media (tenant_id, name, content_type, width, height, size_bytes, purpose, created_at)
             VALUES (1, ?, 'image/jpeg', 1, 1, 1, 'avatar', 0)",
        )
        .bind(name)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.unwrap();
    (ConversationId(group), UserId(dave), UserId(carol))
}

#[tokio::test]
async fn members_who_left_before_0002_get_the_name_and_photo_they_saw() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let (group, dave, carol) = database_before_0002(&path).await;
    let store: std::sync::Arc<dyn Store> =
        hubbub_store::open(&path.to_string_lossy(), hubbub_store::Durability::Normal).await.unwrap();
    let daves = store.conversation(dave, group).await.unwrap().unwrap().snapshot;
    assert_eq!((daves.name.as_deref(), daves.photo_url.as_deref()), (Some("Old name"), Some("/media/old.jpg")));
    let carols = store.conversation(carol, group).await.unwrap().unwrap().snapshot;
    assert_eq!(
        (carols.name.as_deref(), carols.photo_url.as_deref()),
        (Some("New name"), None),
        "the photo carol saw has no file any more"
    );
    assert!(
        store
            .media_uses("old.jpg")
            .await
            .unwrap()
            .contains(&hubbub_app::ports::MediaUse::FormerGroupPhoto { conversation: group, user: dave })
    );
}
