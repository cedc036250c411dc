//! The audit log over HTTP: who may read it, what is recorded, filters and pages.

use crate::helpers::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn actions(page: &Value) -> Vec<String> {
    page["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn server_administrators_read_the_audit_of_security_relevant_actions() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let refused = app.get("/api/admin/audit", &alice).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "forbidden"), "{}", refused.body);

    let wrong = json!({"username": "alice", "password": "not her password"});
    let failed = app.call(Method::POST, "/api/session", None, Some(wrong)).await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    let second = app.login(&bob).await;
    app.delete("/api/session", &second).await;
    let changed = app
        .put(
            "/api/users/me/password",
            &bob,
            json!({"current_password": "correct horse", "new_password": "battery staple"}),
        )
        .await;
    assert!(changed.status.is_success(), "{}", changed.body);
    let group = app.group(&alice, "club", &[&bob]).await;
    let sent = app.send(&bob, &group, "spam").await;
    let removed =
        app.delete(&format!("/api/conversations/{group}/messages/{}", sent["id"].as_str().unwrap()), &alice).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    app.delete(&format!("/api/conversations/{group}/members/{}", bob.id), &alice).await;

    hubbub_app::usecases::admin::grant::set_admin(app.app(), "alice", true).await.unwrap();
    let page = app.get("/api/admin/audit", &alice).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        actions(&page.body),
        [
            "admin.granted",
            "member.removed",
            "message.deleted_by_other",
            "password.changed",
            "logout",
            "login",
            "login.failed"
        ],
        "newest first: {}",
        page.body
    );
    let failed_entry = &page.body["entries"][6];
    assert_eq!((failed_entry["actor_id"].clone(), failed_entry["target"].clone()), (Value::Null, json!("alice")));
    assert_eq!(failed_entry["ip"], "127.0.0.1");
    let removal = &page.body["entries"][1];
    assert_eq!(
        (removal["actor_id"].as_str(), removal["target"].as_str()),
        (Some(alice.id.as_str()), Some(group.as_str()))
    );
    assert_eq!(removal["details"]["user_id"], bob.id.as_str());

    let logins = app.get("/api/admin/audit?action=login", &alice).await;
    assert_eq!(actions(&logins.body), ["login"]);
    let bobs = app.get(&format!("/api/admin/audit?actor={}", bob.id), &alice).await;
    assert_eq!(actions(&bobs.body), ["password.changed", "logout", "login"]);
    let first = app.get("/api/admin/audit?limit=2", &alice).await;
    let last_id = first.body["entries"][1]["id"].as_str().unwrap().to_owned();
    let next = app.get(&format!("/api/admin/audit?limit=2&before={last_id}"), &alice).await;
    assert_eq!(
        actions(&next.body),
        ["message.deleted_by_other", "password.changed"],
        "the next page starts after the last one seen"
    );

    let bad = app.get("/api/admin/audit?action=nonsense", &alice).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let bad_id = app.get("/api/admin/audit?before=xyz", &alice).await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST, "{}", bad_id.body);
}
