//! The login and registration limits by client address (issue 16, items 4 and 12): a
//! stranger's wrong passwords must not lock the owner out, one address must not spray
//! usernames or accounts, and `X-Forwarded-For` counts only from a trusted proxy.
//! Addresses are simulated with `X-Forwarded-For` on a server that trusts 127.0.0.1.

use crate::helpers::{TestApp, TestConfig, spawn_app, spawn_app_with};
use hubbub_domain::Limits;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

const A: &str = "203.0.113.1";
const B: &str = "198.51.100.2";

async fn behind_a_proxy(limits: Limits) -> TestApp {
    let trusted_proxies = hubbub_http::proxy::TrustedProxies::new(vec!["127.0.0.1".parse().unwrap()]);
    spawn_app_with(TestConfig { limits, trusted_proxies, ..TestConfig::default() }).await
}

/// Production limits, registration unlimited (the tests register their users first).
fn login_limits() -> Limits {
    TestConfig::default().limits
}

async fn login_from(app: &TestApp, client: &str, username: &str, password: &str) -> crate::helpers::Reply {
    app.call_forwarded(client, Method::POST, "/api/session", json!({"username": username, "password": password})).await
}

async fn register_from(app: &TestApp, client: &str, username: &str) -> crate::helpers::Reply {
    let body = json!({"username": username, "password": "correct horse"});
    app.call_forwarded(client, Method::POST, "/api/users", body).await
}

#[tokio::test]
async fn a_strangers_wrong_passwords_do_not_lock_the_owner_out_elsewhere() {
    let app = behind_a_proxy(login_limits()).await;
    app.register("bob").await;
    for _ in 0..10 {
        assert_eq!(login_from(&app, A, "bob", "wrong horse").await.status, StatusCode::UNAUTHORIZED);
    }
    // The guesser is stopped...
    let refused = login_from(&app, A, "bob", "wrong horse").await;
    assert_eq!((refused.status, refused.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    let retry: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&retry), "Retry-After {retry}");
    // ...and bob, from his own address, signs in.
    let owner = login_from(&app, B, "bob", "correct horse").await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
}

#[tokio::test]
async fn one_address_spraying_usernames_is_stopped_before_the_sixtieth() {
    let app = behind_a_proxy(login_limits()).await;
    app.register("bob").await;
    let mut first_refusal = None;
    for n in 0..60 {
        let reply = login_from(&app, A, &format!("victim{n}"), "password1").await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(reply.code(), "rate_limited");
            assert!(reply.headers.contains_key("retry-after"));
            first_refusal = Some(n);
            break;
        }
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let first_refusal = first_refusal.expect("an address trying 60 usernames must be refused");
    assert!(first_refusal < 59, "refused only at attempt {}", first_refusal + 1);
    // The address is refused even for an account it never tried; other addresses are not.
    assert_eq!(login_from(&app, A, "bob", "correct horse").await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login_from(&app, B, "bob", "correct horse").await.status, StatusCode::OK);
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_does_not_escape_the_address_limits() {
    // No trusted proxies: every request comes from 127.0.0.1, whatever its header says.
    let mut limits = Limits::default();
    limits.rate.registrations_per_address = 3;
    let app = spawn_app_with(TestConfig { limits, ..TestConfig::default() }).await;
    let mut refused = false;
    for n in 0..60 {
        let spoofed = format!("192.0.2.{n}");
        let reply = login_from(&app, &spoofed, &format!("victim{n}"), "password1").await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            refused = true;
            break;
        }
    }
    assert!(refused, "a fresh X-Forwarded-For per request must not be a fresh address");
    for n in 0..3 {
        let reply = register_from(&app, &format!("192.0.2.{n}"), &format!("new{n}")).await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    assert_eq!(register_from(&app, "192.0.2.200", "new3").await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn registration_is_limited_per_address_by_default() {
    let app = behind_a_proxy(Limits::default()).await;
    for n in 0..10 {
        let reply = register_from(&app, A, &format!("user{n}")).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    let refused = register_from(&app, A, "user10").await;
    assert_eq!((refused.status, refused.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    let retry: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&retry), "Retry-After {retry}");
    // Another address still registers; the refused name was not taken.
    assert_eq!(register_from(&app, B, "user10").await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_much_guessed_username_is_slowed_not_locked() {
    let mut limits = login_limits();
    limits.rate.login_failures_per_username = 3;
    limits.rate.login_slowed_interval = Duration::from_secs(60);
    let app = behind_a_proxy(limits).await;
    app.register("bob").await;
    for client in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        assert_eq!(login_from(&app, client, "bob", "wrong horse").await.status, StatusCode::UNAUTHORIZED);
    }
    // Addresses that already guessed share one attempt per interval...
    assert_eq!(login_from(&app, "192.0.2.1", "bob", "wrong horse").await.status, StatusCode::UNAUTHORIZED);
    let slowed = login_from(&app, "192.0.2.2", "bob", "wrong horse").await;
    assert_eq!(slowed.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = slowed.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    // ...while the owner from an address that never failed for bob is not slowed.
    assert_eq!(login_from(&app, B, "bob", "correct horse").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_successful_login_does_not_count_against_the_address() {
    // An office behind one address: many people signing in is not an attack.
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    for _ in 0..40 {
        app.login(&alice).await;
    }
}
