//! Server administrators and the audit log.

use super::*;
use hubbub_app::ports::{AuditFilter, NewAuditEntry};

fn entry(actor: Option<UserId>, action: AuditAction, target: &str) -> NewAuditEntry {
    NewAuditEntry {
        id: Uuid::now_v7(),
        at: Timestamp::now(),
        actor,
        action,
        target: Some(target.to_owned()),
        ip: Some("192.0.2.7".to_owned()),
        details: r#"{"n":1}"#.to_owned(),
    }
}

pub async fn server_admins_are_granted_by_username(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    assert!(!store.is_server_admin(alice).await.unwrap(), "nobody is an administrator at first");
    let name = Username::parse("alice").unwrap();
    assert!(store.set_server_admin(&name, true).await.unwrap());
    assert!(store.is_server_admin(alice).await.unwrap());
    assert!(store.set_server_admin(&name, false).await.unwrap());
    assert!(!store.is_server_admin(alice).await.unwrap());
    assert!(!store.set_server_admin(&Username::parse("nobody").unwrap(), true).await.unwrap(), "no such user");
    assert!(!store.is_server_admin(UserId::generate()).await.unwrap());
}

pub async fn audit_entries_read_back_newest_first_filtered_and_paged(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let entries = [
        entry(None, AuditAction::LoginFailed, "alice"),
        entry(Some(alice), AuditAction::Login, "a1"),
        entry(Some(bob), AuditAction::Login, "b1"),
        entry(Some(alice), AuditAction::Logout, "a2"),
        entry(Some(UserId::generate()), AuditAction::Logout, "ghost"),
    ];
    let ids: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
    for e in entries {
        store.record_audit(e).await.unwrap();
    }
    let all = store.audit_entries(AuditFilter { limit: 10, ..AuditFilter::default() }).await.unwrap();
    assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), ids.iter().rev().copied().collect::<Vec<_>>());
    let first = all.last().unwrap();
    assert_eq!((first.actor_id, first.action.as_str(), first.target.as_deref()), (None, "login.failed", Some("alice")));
    assert_eq!((first.ip.as_deref(), &first.details), (Some("192.0.2.7"), &serde_json::json!({"n": 1})));
    assert_eq!(all[0].actor_id, None, "an unknown actor is stored as none");
    let by_alice = store.audit_entries(AuditFilter { actor: Some(alice), limit: 10, ..AuditFilter::default() }).await;
    assert_eq!(by_alice.unwrap().iter().map(|e| e.target.clone().unwrap()).collect::<Vec<_>>(), ["a2", "a1"]);
    let logins =
        store.audit_entries(AuditFilter { action: Some(AuditAction::Login), limit: 10, ..AuditFilter::default() });
    assert_eq!(logins.await.unwrap().len(), 2);
    let page = store.audit_entries(AuditFilter { before: Some(ids[3]), limit: 2, ..AuditFilter::default() }).await;
    assert_eq!(
        page.unwrap().iter().map(|e| e.id).collect::<Vec<_>>(),
        [ids[2], ids[1]],
        "older than `before`, at most `limit`"
    );
}
