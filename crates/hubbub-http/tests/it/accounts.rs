use crate::helpers::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn register_login_logout_and_bad_credentials() {
    let app = spawn_app().await;
    let reply = app
        .call(
            Method::POST,
            "/api/users",
            None,
            Some(json!({"username": "Alice", "password": "correct horse", "display_name": "Alice A"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["user"]["username"], "alice");
    assert_eq!(reply.body["user"]["display_name"], "Alice A");
    let cookie = reply.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("hubbub_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let token = reply.body["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 43);

    // Case-insensitive uniqueness.
    let taken = app
        .call(Method::POST, "/api/users", None, Some(json!({"username": "ALICE", "password": "correct horse"})))
        .await;
    assert_eq!((taken.status, taken.code()), (StatusCode::CONFLICT, "conflict"));

    for bad in [
        json!({"username": "a", "password": "correct horse"}),
        json!({"username": "alice!", "password": "correct horse"}),
        json!({"username": "carol", "password": "short"}),
    ] {
        let reply = app.call(Method::POST, "/api/users", None, Some(bad)).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
        assert!(reply.body["error"]["field"].is_string());
    }

    let me = app.call(Method::GET, "/api/users/me", Some(&token), None).await;
    assert_eq!(me.status, StatusCode::OK);

    let wrong = app
        .call(Method::POST, "/api/session", None, Some(json!({"username": "alice", "password": "wrong horse"})))
        .await;
    let unknown = app
        .call(Method::POST, "/api/session", None, Some(json!({"username": "nobody", "password": "correct horse"})))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body, unknown.body, "no user-existence oracle");

    let login = app
        .call(Method::POST, "/api/session", None, Some(json!({"username": "ALICE", "password": "correct horse"})))
        .await;
    assert_eq!(login.status, StatusCode::OK);
    let second = login.body["token"].as_str().unwrap().to_owned();
    assert_ne!(second, token);

    let out = app.call(Method::DELETE, "/api/session", Some(&token), None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let after = app.call(Method::GET, "/api/users/me", Some(&token), None).await;
    assert_eq!((after.status, after.code()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let other = app.call(Method::GET, "/api/users/me", Some(&second), None).await;
    assert_eq!(other.status, StatusCode::OK, "other sessions survive a logout");

    let nothing = app.call(Method::GET, "/api/users/me", None, None).await;
    assert_eq!(nothing.status, StatusCode::UNAUTHORIZED);
    let garbage = app.call(Method::GET, "/api/users/me", Some("not-a-token"), None).await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited() {
    let app = spawn_app().await;
    app.register("mallory_target").await;
    let mut last = None;
    for _ in 0..11 {
        last = Some(
            app.call(
                Method::POST,
                "/api/session",
                None,
                Some(json!({"username": "mallory_target", "password": "guess guess"})),
            )
            .await,
        );
    }
    let last = last.unwrap();
    assert_eq!((last.status, last.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert!(last.headers.get("retry-after").is_some());
}

#[tokio::test]
async fn password_change_ends_other_sessions() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let laptop = app.login(&alice).await;
    let wrong = app
        .put(
            "/api/users/me/password",
            &alice,
            json!({"current_password": "nope nope", "new_password": "battery staple"}),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("current_password"))
    );
    let mut laptop_socket = app.ws(&laptop).await;
    let ok = app
        .put(
            "/api/users/me/password",
            &alice,
            json!({"current_password": "correct horse", "new_password": "battery staple"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/users/me", &laptop).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/users/me", &alice).await.status, StatusCode::OK);
    assert!(laptop_socket.closed_within(std::time::Duration::from_secs(5)).await);
    let relogin = app
        .call(Method::POST, "/api/session", None, Some(json!({"username": "alice", "password": "battery staple"})))
        .await;
    assert_eq!(relogin.status, StatusCode::OK);
}

#[tokio::test]
async fn cookie_auth_requires_same_origin_for_changes() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let cookie = format!("hubbub_session={}", alice.token);
    let read = app.http.get(app.url("/api/users/me")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let foreign = app
        .http
        .patch(app.url("/api/users/me"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .json(&json!({"about": "pwned"}))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let same = app
        .http
        .patch(app.url("/api/users/me"))
        .header("cookie", &cookie)
        .header("origin", format!("http://{}", app.addr))
        .json(&json!({"about": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::OK);
    assert_eq!(app.get("/api/users/me", &alice).await.body["about"], "hello");
}

#[tokio::test]
async fn profiles_and_search() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob_builder").await;
    let renamed = app.patch("/api/users/me", &bob, json!({"display_name": "Robert Smith", "about": "I build"})).await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(renamed.body["display_name"], "Robert Smith");

    for (q, expect) in [("bob", true), ("ROB", true), ("smi", true), ("xyz", false)] {
        let found = app.get(&format!("/api/users?q={q}"), &alice).await;
        assert_eq!(found.status, StatusCode::OK);
        let hit = found.body["users"].as_array().unwrap().iter().any(|u| u["id"] == bob.id.as_str());
        assert_eq!(hit, expect, "query {q}");
    }
    assert_eq!(app.get("/api/users?limit=0", &alice).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/api/users?limit=abc", &alice).await.status, StatusCode::BAD_REQUEST);
    let one = app.get("/api/users?q=&limit=1", &alice).await;
    assert_eq!(one.body["users"].as_array().unwrap().len(), 1);

    let got = app.get(&format!("/api/users/{}", bob.id), &alice).await;
    assert_eq!((got.status, got.body["about"].as_str()), (StatusCode::OK, Some("I build")));
    assert_eq!(app.get("/api/users/not-a-uuid", &alice).await.status, StatusCode::BAD_REQUEST);
    let missing = app.get("/api/users/01a23345-0000-7000-8000-000000000000", &alice).await;
    assert_eq!((missing.status, missing.code()), (StatusCode::NOT_FOUND, "not_found"));

    let taken = app.patch("/api/users/me", &bob, json!({"username": "ALICE"})).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    let unknown_field = app.patch("/api/users/me", &bob, json!({"nickname": "x"})).await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);
    let wrong_type = app.patch("/api/users/me", &bob, json!({"display_name": 5})).await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_json = app
        .http
        .patch(app.url("/api/users/me"))
        .bearer_auth(&bob.token)
        .header("content-type", "application/json")
        .body("{\"display_name\":")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), StatusCode::BAD_REQUEST);
    let no_type = app.http.patch(app.url("/api/users/me")).bearer_auth(&bob.token).body("{}").send().await.unwrap();
    assert_eq!(no_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = app
        .http
        .patch(app.url("/api/users/me"))
        .bearer_auth(&bob.token)
        .header("content-type", "application/json")
        .body(format!("{{\"about\":\"{}\"}}", "x".repeat(70 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = huge.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn websocket_tickets_are_single_use_and_bad_auth_is_401_before_upgrade() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let ticket = app.post("/api/ws/ticket", &alice, json!({})).await;
    assert_eq!(ticket.status, StatusCode::CREATED);
    let ticket = ticket.body["ticket"].as_str().unwrap().to_owned();
    let url = format!("ws://{}/api/ws?ticket={ticket}", app.addr);
    assert!(tokio_tungstenite::connect_async(&url).await.is_ok());
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("a reused ticket must be refused, got {:?}", other.map(|_| ())),
    }
    match tokio_tungstenite::connect_async(format!("ws://{}/api/ws", app.addr)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("an unauthenticated upgrade must be refused, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn health_metrics_and_unknown_routes() {
    let app = spawn_app().await;
    let health = app.call(Method::GET, "/api/health", None, None).await;
    assert_eq!((health.status, health.body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("hubbub_ws_connections"));
    let missing = app.call(Method::GET, "/api/nope", None, None).await;
    assert_eq!((missing.status, missing.code()), (StatusCode::NOT_FOUND, "not_found"));
}
