//! Link previews end to end: a local site on 127.0.0.1 (reachable only with the test-only
//! `allow_private`), the preview arriving as `message.updated` and in the history, and the
//! pages that must give none without breaking anything.

use crate::helpers::*;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A small website: one route per kind of page, counting every request it gets.
struct Site {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Site {
    async fn start() -> Site {
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        let router = axum::Router::new()
            .route("/og", get(|| async { html(OG_PAGE.to_owned()) }))
            .route(
                "/plain",
                get(|| async { html("<title>Just a title</title><meta name=description content=plain>".into()) }),
            )
            .route(
                "/photo.jpg",
                get(|| async { ([(header::CONTENT_TYPE, "image/jpeg")], sample("gps-and-camera.jpg")) }),
            )
            .route("/big", get(|| async { html(format!("<title>Big</title>{}", "x".repeat(600 * 1024))) }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(8)).await;
                    html("<title>Slow</title>".into())
                }),
            )
            .route(
                "/late",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    html(OG_PAGE.to_owned())
                }),
            )
            .route(
                "/latin1",
                get(|| async {
                    let body: &[u8] = b"<title>Caf\xe9 cr\xe8me</title><meta name=description content=\"na\xefve\">";
                    ([(header::CONTENT_TYPE, "text/html; charset=ISO-8859-1")], body)
                }),
            )
            .route(
                "/meta-1252",
                get(|| async {
                    let body: &[u8] = b"<meta charset=windows-1252><title>\x93Quoted\x94</title>";
                    ([(header::CONTENT_TYPE, "text/html")], body)
                }),
            )
            .route("/json", get(|| async { ([(header::CONTENT_TYPE, "application/json")], "{\"title\":\"no\"}") }))
            .route("/hop/{n}", get(|n: axum::extract::Path<u32>| async move { redirect(n.0) }))
            .route(
                "/to-file",
                get(|| async { (axum::http::StatusCode::FOUND, [(header::LOCATION, "file:///etc/passwd")]) }),
            )
            .layer(axum::middleware::from_fn(move |request, next: axum::middleware::Next| {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    next.run(request).await
                }
            }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Site { addr, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

const OG_PAGE: &str = r#"<!doctype html><html><head><title>Fallback</title>
<meta property="og:title" content="Hubbub &amp; friends">
<meta property="og:description" content="A self-hosted messenger">
<meta property="og:site_name" content="Example">
<meta property="og:image" content="/photo.jpg">
</head><body>hello</body></html>"#;

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// `/hop/n` redirects to `/hop/n-1`, and `/hop/0` to the OG page.
fn redirect(n: u32) -> Response {
    let to = if n == 0 { "/og".to_owned() } else { format!("/hop/{}", n - 1) };
    (axum::http::StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

async fn app_with(allow_private: bool, on: bool) -> TestApp {
    let links = hubbub_links::LinkConfig { allow_private, ..Default::default() };
    spawn_app_with(TestConfig { link_previews: on.then_some(links), ..TestConfig::default() }).await
}

/// Alice and Bob in a direct chat, Bob's socket listening.
async fn chat(app: &TestApp) -> (TestUser, TestUser, String, Ws) {
    static PAIRS: AtomicUsize = AtomicUsize::new(0);
    let n = PAIRS.fetch_add(1, Ordering::SeqCst);
    let alice = app.register(&format!("alice{n}")).await;
    let bob = app.register(&format!("bob{n}")).await;
    let chat = app.direct(&alice, &bob).await;
    let ws = app.ws(&bob).await;
    (alice, bob, chat, ws)
}

/// The history's copy of a message.
async fn listed(app: &TestApp, user: &TestUser, chat: &str, id: &str) -> Value {
    let page = app.get(&format!("/api/conversations/{chat}/messages"), user).await;
    let messages = page.body["messages"].as_array().cloned().unwrap_or_default();
    messages.into_iter().find(|m| m["id"] == id).expect("the message is listed")
}

/// Sends a link and asserts that no preview comes: no `message.updated` within `wait`, and
/// none in the history.
async fn assert_no_preview(app: &TestApp, url: &str, wait: Duration) {
    let (alice, bob, chat, mut ws) = chat(app).await;
    let sent = app.send(&alice, &chat, &format!("look {url}")).await;
    assert!(sent["link_preview"].is_null());
    let created = ws.next_of("message.created").await;
    assert_eq!(created["data"]["id"], sent["id"]);
    if let Some(event) = ws.next_within(wait).await {
        panic!("no event expected, got {event}");
    }
    assert!(listed(app, &bob, &chat, sent["id"].as_str().unwrap()).await["link_preview"].is_null());
    // Nothing broke: the chat goes on.
    app.send(&bob, &chat, "still here").await;
    assert_eq!(ws.next_of("message.created").await["data"]["text"], "still here");
}

#[tokio::test]
async fn an_open_graph_page_gives_a_preview_as_message_updated_and_in_the_history() {
    let site = Site::start().await;
    let app = app_with(true, true).await;
    let (alice, bob, chat, mut ws) = chat(&app).await;
    let url = site.url("/og");
    let sent = app.send(&alice, &chat, &format!("have a look: {url}.")).await;
    assert!(sent["link_preview"].is_null(), "sending does not wait for the fetch");

    let created = ws.next_of("message.created").await;
    let updated = ws.next_of("message.updated").await;
    assert_eq!(updated["seq"].as_i64().unwrap(), created["seq"].as_i64().unwrap() + 1, "a change with its own seq");
    let message = &updated["data"];
    assert_eq!(message["id"], sent["id"]);
    assert!(message["edited_at"].is_null(), "not an edit");
    let preview = &message["link_preview"];
    assert_eq!(preview["url"], url);
    assert_eq!(preview["title"], "Hubbub & friends");
    assert_eq!(preview["description"], "A self-hosted messenger");
    assert_eq!(preview["site_name"], "Example");

    // The image went through the pipeline: stored under a media URL, re-encoded (no EXIF).
    let image_url = preview["image"]["url"].as_str().expect("an image").to_owned();
    assert!(image_url.starts_with("/media/"), "{image_url}");
    assert!(preview["image"]["width"].as_u64().unwrap() > 0);
    let bytes = app.http.get(app.url(&image_url)).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(bytes.status(), reqwest::StatusCode::OK);
    let bytes = bytes.bytes().await.unwrap();
    let original = sample("gps-and-camera.jpg");
    assert_ne!(bytes.as_ref(), original.as_slice());
    assert!(!bytes.windows(4).any(|w| w == b"Exif"), "metadata stripped");

    // Readable by the conversation's members only.
    let eve = app.register("eve").await;
    assert_eq!(app.status_of(&image_url, Some(&eve)).await, reqwest::StatusCode::NOT_FOUND);
    assert_eq!(app.status_of(&image_url, Some(&alice)).await, reqwest::StatusCode::OK);

    let in_history = listed(&app, &bob, &chat, sent["id"].as_str().unwrap()).await;
    assert_eq!(in_history["link_preview"], *preview);
    let events = app.get(&format!("/api/conversations/{chat}/events?after={}", created["seq"]), &bob).await;
    assert_eq!(events.body["events"][0]["type"], "message.updated", "{}", events.body);

    // The same URL again is served from the cache: no request reaches the site.
    let hits = site.hits();
    app.send(&bob, &chat, &url).await;
    ws.next_of("message.created").await;
    let again = ws.next_of("message.updated").await;
    assert_eq!(again["data"]["link_preview"]["image"]["url"], image_url.as_str(), "the image is shared");
    assert_eq!(site.hits(), hits);
}

#[tokio::test]
async fn a_page_without_open_graph_uses_its_title_and_redirects_are_followed_up_to_three() {
    let site = Site::start().await;
    let app = app_with(true, true).await;
    let (alice, _bob, chat, mut ws) = chat(&app).await;
    app.send(&alice, &chat, &site.url("/plain")).await;
    let preview = ws.next_of("message.updated").await["data"]["link_preview"].clone();
    assert_eq!((preview["title"].as_str(), preview["description"].as_str()), (Some("Just a title"), Some("plain")));
    assert!(preview["image"].is_null() && preview["site_name"].is_null());

    app.send(&alice, &chat, &site.url("/hop/2")).await;
    assert_eq!(ws.next_of("message.updated").await["data"]["link_preview"]["title"], "Hubbub & friends");
    app.send(&alice, &chat, &site.url("/hop/3")).await;
    ws.next_of("message.created").await;
    assert!(ws.next_within(Duration::from_secs(2)).await.is_none(), "a fourth redirect is one too many");
}

#[tokio::test]
async fn a_page_is_read_in_the_charset_it_declares_in_its_header_or_its_meta() {
    let site = Site::start().await;
    let app = app_with(true, true).await;
    let (alice, _bob, chat, mut ws) = chat(&app).await;
    app.send(&alice, &chat, &site.url("/latin1")).await;
    let preview = ws.next_of("message.updated").await["data"]["link_preview"].clone();
    assert_eq!((preview["title"].as_str(), preview["description"].as_str()), (Some("Café crème"), Some("naïve")));
    app.send(&alice, &chat, &site.url("/meta-1252")).await;
    assert_eq!(ws.next_of("message.updated").await["data"]["link_preview"]["title"], "\u{201c}Quoted\u{201d}");
}

#[tokio::test]
async fn a_redirect_is_checked_like_the_first_url() {
    let site = Site::start().await;
    let app = app_with(true, true).await;
    assert_no_preview(&app, &site.url("/to-file"), Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_page_over_the_size_limit_gives_no_preview() {
    let site = Site::start().await;
    let app = app_with(true, true).await;
    assert_no_preview(&app, &site.url("/big"), Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_slow_page_gives_no_preview_after_the_time_limit() {
    let site = Site::start().await;
    let app = app_with(true, true).await;
    let started = std::time::Instant::now();
    assert_no_preview(&app, &site.url("/slow"), Duration::from_secs(6)).await;
    assert!(started.elapsed() < Duration::from_secs(12));
}

#[tokio::test]
async fn a_page_that_is_not_html_gives_no_preview() {
    let site = Site::start().await;
    let app = app_with(true, true).await;
    assert_no_preview(&app, &site.url("/json"), Duration::from_secs(2)).await;
}

#[tokio::test]
async fn the_ssrf_guard_refuses_loopback_without_the_test_flag() {
    let site = Site::start().await;
    let app = app_with(false, true).await;
    for url in [
        site.url("/og"),
        format!("http://localhost:{}/og", site.addr.port()),
        "http://127.0.0.1/og".into(),
        "http://[::ffff:127.0.0.1]/og".into(),
    ] {
        assert_no_preview(&app, &url, Duration::from_millis(700)).await;
    }
    assert_eq!(site.hits(), 0, "nothing reached the local site");
}

#[tokio::test]
async fn with_previews_off_nothing_is_fetched() {
    let site = Site::start().await;
    let app = app_with(true, false).await;
    assert_no_preview(&app, &site.url("/og"), Duration::from_secs(1)).await;
    assert_eq!(site.hits(), 0);
}

#[tokio::test]
async fn an_edit_that_changes_the_link_replaces_the_preview_and_one_that_removes_it_clears_it() {
    let site = Site::start().await;
    let app = app_with(true, true).await;
    let (alice, bob, chat, mut ws) = chat(&app).await;
    let sent = app.send(&alice, &chat, &format!("see {}", site.url("/og"))).await;
    let id = sent["id"].as_str().unwrap().to_owned();
    let base = format!("/api/conversations/{chat}/messages/{id}");
    let first = ws.next_of("message.updated").await;
    assert_eq!(first["data"]["link_preview"]["title"], "Hubbub & friends");

    // Another link: the edit, then the old preview taken away, then the new one, each a change.
    let edited = app.patch(&base, &alice, serde_json::json!({"text": format!("no, {}", site.url("/plain"))})).await;
    assert_eq!(edited.status, reqwest::StatusCode::OK);
    assert!(edited.body["link_preview"].is_null(), "the old preview is gone from the answer");
    let edit = ws.next_of("message.updated").await;
    assert!(edit["data"]["edited_at"].is_string());
    let cleared = ws.next_of("message.updated").await;
    assert_eq!(cleared["seq"].as_i64().unwrap(), edit["seq"].as_i64().unwrap() + 1, "a change with its own seq");
    assert!(cleared["data"]["link_preview"].is_null());
    let replaced = ws.next_of("message.updated").await;
    assert_eq!(replaced["data"]["link_preview"]["title"], "Just a title");
    assert_eq!(replaced["data"]["link_preview"]["url"], site.url("/plain"));

    // The same link with other words keeps its preview, without fetching.
    let hits = site.hits();
    let kept = app.patch(&base, &alice, serde_json::json!({"text": format!("yes: {}", site.url("/plain"))})).await;
    assert_eq!(kept.body["link_preview"]["title"], "Just a title");
    ws.next_of("message.updated").await;
    ws.assert_quiet().await;
    assert_eq!(site.hits(), hits);

    // No link any more: the preview goes, and nothing is fetched.
    app.patch(&base, &alice, serde_json::json!({"text": "never mind"})).await;
    ws.next_of("message.updated").await;
    assert!(ws.next_of("message.updated").await["data"]["link_preview"].is_null());
    ws.assert_quiet().await;
    assert!(listed(&app, &bob, &chat, &id).await["link_preview"].is_null(), "nor in the history");
    let log = app.get(&format!("/api/conversations/{chat}/events?after={}", cleared["seq"]), &bob).await;
    let last = log.body["events"].as_array().unwrap().last().unwrap().clone();
    assert!(last["data"]["link_preview"].is_null() && last["type"] == "message.updated", "{last}");
}

#[tokio::test]
async fn a_forwarded_copy_gets_the_originals_preview_without_fetching_again() {
    let site = Site::start().await;
    let app = app_with(true, true).await;
    let (alice, bob, chat, mut ws) = chat(&app).await;
    let sent = app.send(&alice, &chat, &format!("see {}", site.url("/og"))).await;
    let preview = ws.next_of("message.updated").await["data"]["link_preview"].clone();
    assert!(preview["image"]["url"].is_string());
    let group = app.group(&alice, "Fwd", &[&bob]).await;
    let hits = site.hits();

    let base = format!("/api/conversations/{chat}/messages/{}", sent["id"].as_str().unwrap());
    let forwarded =
        app.post(&format!("{base}/forward"), &alice, serde_json::json!({"conversation_ids": [group]})).await;
    assert_eq!(forwarded.status, reqwest::StatusCode::CREATED);
    let copy = &forwarded.body["messages"][0];
    assert_eq!(
        (copy["forwarded"].as_bool(), &copy["link_preview"]),
        (Some(true), &preview),
        "the same preview at once"
    );
    assert_eq!(site.hits(), hits, "copied, not fetched");
    let listed_copy = listed(&app, &bob, &group, copy["id"].as_str().unwrap()).await;
    assert_eq!(listed_copy["link_preview"], preview);
    let image = preview["image"]["url"].as_str().unwrap();
    assert_eq!(app.status_of(image, Some(&bob)).await, reqwest::StatusCode::OK);

    // The original's delete leaves the copy its image.
    app.delete(&base, &alice).await;
    assert_eq!(app.status_of(image, Some(&bob)).await, reqwest::StatusCode::OK);
}

#[tokio::test]
async fn a_copy_forwarded_before_its_originals_preview_came_fetches_its_own() {
    let site = Site::start().await;
    let app = app_with(true, true).await;
    let (alice, bob, chat, mut ws) = chat(&app).await;
    let sent = app.send(&alice, &chat, &format!("see {}", site.url("/late"))).await;
    let group = app.group(&alice, "Fwd", &[&bob]).await;
    let base = format!("/api/conversations/{chat}/messages/{}", sent["id"].as_str().unwrap());
    let forwarded =
        app.post(&format!("{base}/forward"), &alice, serde_json::json!({"conversation_ids": [group]})).await;
    let copy = forwarded.body["messages"][0].clone();
    assert!(copy["link_preview"].is_null(), "the original has none yet");
    let mut copy_preview = None;
    while copy_preview.is_none() {
        let updated = ws.next_within(Duration::from_secs(8)).await.expect("the copy's preview comes");
        if updated["type"] == "message.updated" && updated["data"]["id"] == copy["id"] {
            copy_preview = Some(updated["data"]["link_preview"].clone());
        }
    }
    assert_eq!(copy_preview.unwrap()["title"], "Hubbub & friends");
}
