//! Photos through the API, with the real pipeline and the shared sample files.

use crate::helpers::{TestApp, photo_form, sample, spawn_app, upload};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::path::PathBuf;

/// Every file under the media directory, temp and staging files included.
fn stored_files(app: &TestApp) -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() { walk(&path, out) } else { out.push(path) }
        }
    }
    let mut out = Vec::new();
    walk(&app.data_dir.path().join("media"), &mut out);
    out
}

#[tokio::test]
async fn a_large_phone_photo_arrives_small_upright_and_private() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let chat = app.direct(&alice, &bob).await;
    let form =
        photo_form(sample("photo-large.jpg"), "IMG_0001.jpg").text("text", "the forest").text("client_id", "p-1");
    let (status, message) =
        upload(&app, reqwest::Method::POST, &format!("/api/conversations/{chat}/messages"), &alice, form).await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    assert_eq!(message["text"], "the forest");
    assert_eq!((message["photo"]["width"].as_u64(), message["photo"]["height"].as_u64()), (Some(1600), Some(900)));
    let url = message["photo"]["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/media/") && url.ends_with(".jpg"));

    let response = app.http.get(app.url(&url)).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "private, max-age=31536000, immutable");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("inline"));
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.len() < 600_000, "a 7 MB photo should shrink, got {} bytes", bytes.len());
    assert!(bytes.starts_with(&[0xFF, 0xD8]));
    assert!(!bytes.windows(6).any(|w| w == b"Exif\0\0"), "no EXIF survives");

    let head = app.http.head(app.url(&url)).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-length"].to_str().unwrap(), bytes.len().to_string());
    let partial =
        app.http.get(app.url(&url)).bearer_auth(&bob.token).header("range", "bytes=0-99").send().await.unwrap();
    assert_eq!(partial.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(partial.bytes().await.unwrap().len(), 100);
    let cached =
        app.http.get(app.url(&url)).bearer_auth(&bob.token).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    // Only those who can see the message may fetch its photo.
    assert_eq!(
        app.http.get(app.url(&url)).bearer_auth(&eve.token).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.http.get(app.url(&url)).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // Deleting the message removes the file once nothing references it.
    assert_eq!(stored_files(&app).iter().filter(|p| !p.to_string_lossy().contains(".staging")).count(), 1);
    app.delete(&format!("/api/conversations/{chat}/messages/{}", message["id"].as_str().unwrap()), &alice).await;
    assert_eq!(
        app.http.get(app.url(&url)).bearer_auth(&bob.token).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert!(stored_files(&app).is_empty(), "left behind: {:?}", stored_files(&app));
}

#[tokio::test]
async fn hostile_and_broken_uploads_are_refused_and_leave_nothing_behind() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let chat = app.direct(&alice, &bob).await;
    let path = format!("/api/conversations/{chat}/messages");
    for (file, expected) in [
        ("empty.jpg", StatusCode::UNPROCESSABLE_ENTITY),
        ("html-as.jpg", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("text-as.png", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("script.svg", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("truncated.jpg", StatusCode::UNPROCESSABLE_ENTITY),
        ("bomb.png", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, body) = upload(&app, reqwest::Method::POST, &path, &alice, photo_form(sample(file), file)).await;
        assert_eq!(status, expected, "{file}: {body}");
        assert!(body["error"]["code"].is_string(), "{file}: JSON error expected, got {body}");
    }
    let (missing, _) = upload(&app, reqwest::Method::POST, &path, &alice, Form::new().text("text", "no photo")).await;
    assert_eq!(missing, StatusCode::UNPROCESSABLE_ENTITY);
    let two = photo_form(sample("photo-medium.jpg"), "a.jpg")
        .part("photo", Part::bytes(sample("photo-medium.jpg")).file_name("b.jpg"));
    let (twice, _) = upload(&app, reqwest::Method::POST, &path, &alice, two).await;
    assert_eq!(twice, StatusCode::UNPROCESSABLE_ENTITY);
    let (stranger, _) =
        upload(&app, reqwest::Method::POST, &path, &eve, photo_form(sample("photo-medium.jpg"), "x.jpg")).await;
    assert_eq!(stranger, StatusCode::NOT_FOUND);
    let huge = vec![0xFFu8; 21 * 1024 * 1024];
    let (too_big, body) = upload(&app, reqwest::Method::POST, &path, &alice, photo_form(huge, "big.jpg")).await;
    assert_eq!(too_big, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(stored_files(&app).is_empty(), "left behind: {:?}", stored_files(&app));
    let history = app.get(&path, &alice).await;
    assert_eq!(history.body["messages"], json!([]), "nothing was sent");
}

#[tokio::test]
async fn profile_and_group_photos() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let (status, user) = upload(
        &app,
        reqwest::Method::PUT,
        "/api/users/me/photo",
        &alice,
        photo_form(sample("photo-medium.jpg"), "me.jpg"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let url = user["photo_url"].as_str().unwrap().to_owned();
    let avatar = app.http.get(app.url(&url)).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(avatar.status(), StatusCode::OK, "any signed-in user may see avatars");

    // Replacing the photo deletes the old file.
    let (_, user) = upload(
        &app,
        reqwest::Method::PUT,
        "/api/users/me/photo",
        &alice,
        photo_form(sample("orient-6.jpg"), "me2.jpg"),
    )
    .await;
    assert_ne!(user["photo_url"].as_str().unwrap(), url);
    assert_eq!(
        app.http.get(app.url(&url)).bearer_auth(&bob.token).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let removed = app.delete("/api/users/me/photo", &alice).await;
    assert!(removed.body["photo_url"].is_null());
    assert!(stored_files(&app).is_empty());

    let group = app.group(&alice, "g", &[&bob]).await;
    let path = format!("/api/conversations/{group}/photo");
    let (by_member, _) =
        upload(&app, reqwest::Method::PUT, &path, &bob, photo_form(sample("photo-medium.jpg"), "g.jpg")).await;
    assert_eq!(by_member, StatusCode::FORBIDDEN);
    let (status, conversation) =
        upload(&app, reqwest::Method::PUT, &path, &alice, photo_form(sample("screenshot.png"), "g.png")).await;
    assert_eq!(status, StatusCode::OK, "{conversation}");
    assert!(conversation["photo_url"].is_string());
    let cleared = app.delete(&path, &alice).await;
    assert!(cleared.body["photo_url"].is_null());
    assert!(stored_files(&app).is_empty());
}

#[tokio::test]
async fn a_former_member_keeps_photos_from_before_leaving_only() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let group = app.group(&alice, "g", &[&bob]).await;
    let path = format!("/api/conversations/{group}/messages");
    let (_, before) =
        upload(&app, reqwest::Method::POST, &path, &alice, photo_form(sample("photo.webp"), "a.webp")).await;
    app.delete(&format!("/api/conversations/{group}/members/{}", bob.id), &bob).await;
    let (_, after) =
        upload(&app, reqwest::Method::POST, &path, &alice, photo_form(sample("photo-medium.jpg"), "b.jpg")).await;
    let get = |url: &Value| app.http.get(app.url(url.as_str().unwrap())).bearer_auth(&bob.token).send();
    assert_eq!(get(&before["photo"]["url"]).await.unwrap().status(), StatusCode::OK);
    assert_eq!(get(&after["photo"]["url"]).await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn who_may_read_each_kind_of_media() {
    // alice runs a group with bob (member) and dave (removed after the first photos); eve
    // was never in it. Each file is fetched by a member, the former member, the stranger
    // and an anonymous client.
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let dave = app.register("dave").await;
    let eve = app.register("eve").await;
    let (status, me) =
        upload(&app, reqwest::Method::PUT, "/api/users/me/photo", &alice, photo_form(sample("orient-6.jpg"), "a.jpg"))
            .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let avatar = me["photo_url"].as_str().unwrap().to_owned();
    let group = app.group(&alice, "g", &[&bob, &dave]).await;
    let messages = format!("/api/conversations/{group}/messages");
    let message_photo = |file: &'static str| {
        let (app, alice, messages) = (&app, &alice, &messages);
        async move {
            let (status, message) =
                upload(app, reqwest::Method::POST, messages, alice, photo_form(sample(file), file)).await;
            assert_eq!(status, StatusCode::CREATED, "{message}");
            message["photo"]["url"].as_str().unwrap().to_owned()
        }
    };
    let old_group_photo = app.set_group_photo(&alice, &group, "photo-medium.jpg").await;
    let photo_before = message_photo("photo.webp").await;
    let removed = app.delete(&format!("/api/conversations/{group}/members/{}", dave.id), &alice).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let new_group_photo = app.set_group_photo(&alice, &group, "screenshot.png").await;
    let photo_after = message_photo("photo-medium.jpg").await;

    const OK: StatusCode = StatusCode::OK;
    const NOT_FOUND: StatusCode = StatusCode::NOT_FOUND;
    const ANONYMOUS: StatusCode = StatusCode::UNAUTHORIZED;
    //                         member     former     stranger   anonymous
    let cases = [
        ("avatar", &avatar, [OK, OK, OK, ANONYMOUS]),
        ("group photo the former member saw", &old_group_photo, [NOT_FOUND, OK, NOT_FOUND, ANONYMOUS]),
        ("group photo set after the removal", &new_group_photo, [OK, NOT_FOUND, NOT_FOUND, ANONYMOUS]),
        ("message photo before the removal", &photo_before, [OK, OK, NOT_FOUND, ANONYMOUS]),
        ("message photo after the removal", &photo_after, [OK, NOT_FOUND, NOT_FOUND, ANONYMOUS]),
    ];
    let mut wrong = Vec::new();
    for (what, url, expected) in cases {
        let got = [
            app.status_of(url, Some(&bob)).await,
            app.status_of(url, Some(&dave)).await,
            app.status_of(url, Some(&eve)).await,
            app.status_of(url, None).await,
        ];
        if got != expected {
            wrong.push(format!("{what}: got {got:?}, expected {expected:?}"));
        }
    }
    assert!(wrong.is_empty(), "as member, former member, stranger, anonymous:\n{}", wrong.join("\n"));

    // Added back, dave sees the group as it is; the photo kept for his old view is no
    // longer used anywhere, so its file goes.
    let added = app.post(&format!("/api/conversations/{group}/members"), &alice, json!({"user_ids": [dave.id]})).await;
    assert_eq!(added.status, StatusCode::OK);
    assert_eq!(app.status_of(&new_group_photo, Some(&dave)).await, OK);
    assert_eq!(app.status_of(&old_group_photo, Some(&dave)).await, NOT_FOUND);
    let old_name = old_group_photo.rsplit('/').next().unwrap();
    assert!(
        !stored_files(&app).iter().any(|p| p.to_string_lossy().contains(old_name)),
        "the unreferenced file is deleted"
    );
}

/// The stored files, without the staging directory.
fn photo_files(app: &TestApp) -> Vec<PathBuf> {
    stored_files(app).into_iter().filter(|p| !p.to_string_lossy().contains(".staging")).collect()
}

#[tokio::test]
async fn a_photo_the_send_refuses_after_storing_it_is_deleted() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let path = format!("/api/conversations/{chat}/messages");
    // Both pass the upload's checks and the pipeline; the send use case refuses them.
    let long_client_id = photo_form(sample("photo-medium.jpg"), "a.jpg").text("client_id", "x".repeat(65));
    let (status, body) = upload(&app, reqwest::Method::POST, &path, &alice, long_client_id).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let long_text = photo_form(sample("photo-medium.jpg"), "b.jpg").text("text", "x".repeat(5000));
    let (status, body) = upload(&app, reqwest::Method::POST, &path, &alice, long_text).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(stored_files(&app).is_empty(), "left behind: {:?}", stored_files(&app));
    assert_eq!(app.get(&path, &alice).await.body["messages"], json!([]), "nothing was sent");
}

#[tokio::test]
async fn a_retried_photo_send_keeps_the_first_file_only() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let path = format!("/api/conversations/{chat}/messages");
    let send = || photo_form(sample("photo-medium.jpg"), "a.jpg").text("client_id", "retry-1");
    let (first, sent) = upload(&app, reqwest::Method::POST, &path, &alice, send()).await;
    assert_eq!(first, StatusCode::CREATED, "{sent}");
    let (again, repeated) = upload(&app, reqwest::Method::POST, &path, &alice, send()).await;
    assert_eq!(again, StatusCode::OK, "{repeated}");
    assert_eq!(repeated["photo"]["url"], sent["photo"]["url"], "the stored message is returned");
    let files = photo_files(&app);
    assert_eq!(files.len(), 1, "the retry's upload is not kept: {files:?}");
    let name = sent["photo"]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    assert!(files[0].to_string_lossy().ends_with(&name));
}

#[tokio::test]
async fn a_replaced_group_photo_is_deleted() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let group = app.group(&alice, "g", &[&bob]).await;
    let first = app.set_group_photo(&alice, &group, "photo-medium.jpg").await;
    let second = app.set_group_photo(&alice, &group, "screenshot.png").await;
    assert_ne!(first, second);
    assert_eq!(app.status_of(&first, Some(&bob)).await, StatusCode::NOT_FOUND);
    let files = photo_files(&app);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].to_string_lossy().ends_with(second.rsplit('/').next().unwrap()));
}
