//! A kind, role or visibility this build does not know, found in the database (written by a
//! newer build, or by hand): reading it is an error, never a group or a member by default.

use crate::TestDb;
use crate::contract::{group_of, user};
use hubbub_app::ports::{Store, StoreError};
use sqlx::Connection;

/// Runs `sql` on the database behind a store, as something other than the store would.
async fn tamper_sqlite(path: &std::path::Path, sql: &str) {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut conn).await.unwrap();
}

async fn tamper_postgres(url: &str, sql: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut conn).await.unwrap();
}

/// What the store says once the group's kind, then a member's role, is unknown.
async fn refuses_unknown_values<F, Fut>(store: std::sync::Arc<dyn Store>, tamper: F)
where
    F: Fn(&'static str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    tamper("UPDATE conversations SET kind = 'room'").await;
    assert!(matches!(store.membership(alice, group).await, Err(StoreError::Other(_))));
    assert!(matches!(store.list_conversations(alice).await, Err(StoreError::Other(_))));
    assert!(matches!(store.conversation_access(group).await, Err(StoreError::Other(_))));
    tamper("UPDATE conversations SET kind = 'group'").await;
    tamper("UPDATE members SET role = 'moderator' WHERE role = 'member'").await;
    assert!(matches!(store.membership(bob, group).await, Err(StoreError::Other(_))));
    assert!(matches!(store.conversation(alice, group).await, Err(StoreError::Other(_))), "bob is in alice's view");
    tamper("UPDATE members SET role = 'member' WHERE role = 'moderator'").await;
    tamper("UPDATE conversations SET visibility = 'secret'").await;
    assert!(matches!(store.conversation(alice, group).await, Err(StoreError::Other(_))));
    tamper("UPDATE conversations SET visibility = 'private'").await;
    assert!(store.conversation(alice, group).await.unwrap().is_some(), "readable again");
}

#[tokio::test]
async fn sqlite_refuses_unknown_kinds_roles_and_visibilities() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unknown.db");
    let store = hubbub_store::open(&path.to_string_lossy(), hubbub_store::Durability::Normal).await.unwrap();
    refuses_unknown_values(store, |sql| tamper_sqlite(&path, sql)).await;
}

#[tokio::test]
async fn postgres_refuses_unknown_kinds_roles_and_visibilities() {
    let db = TestDb::create("unknown").await;
    let store = hubbub_store::open(&db.url, hubbub_store::Durability::Normal).await.unwrap();
    refuses_unknown_values(store, |sql| tamper_postgres(&db.url, sql)).await;
}
