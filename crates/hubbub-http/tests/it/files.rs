//! Attached files through the API: stored as sent, private to those who can see the
//! message, always downloaded under a safely encoded name and a type that cannot run.

use crate::helpers::{TestApp, TestUser, photo_form, sample, spawn_app, upload};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// Every stored file under the media directory (the staging directory left out).
fn stored_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(app.data_dir.path().join("media")) else { return Vec::new() };
    entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect()
}

/// Staging leftovers (temp uploads), which a refused request must not leave.
fn staged_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(app.data_dir.path().join("media")) else { return out };
    for dir in entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
        out.extend(std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()));
    }
    out
}

fn file_form(bytes: Vec<u8>, file_name: &str, content_type: &str) -> Form {
    Form::new().part("file", Part::bytes(bytes).file_name(file_name.to_owned()).mime_str(content_type).unwrap())
}

async fn send_file(app: &TestApp, user: &TestUser, conversation: &str, form: Form) -> (StatusCode, Value) {
    upload(app, reqwest::Method::POST, &format!("/api/conversations/{conversation}/messages"), user, form).await
}

#[tokio::test]
async fn a_file_is_stored_as_sent_and_downloaded_by_members_with_safe_headers() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let mut ws = app.ws(&bob).await;
    let html = b"<!doctype html><script>alert(document.cookie)</script>".to_vec();
    let form = file_form(html.clone(), "page.html", "text/html; charset=utf-8").text("text", "see this");
    let (status, message) = send_file(&app, &alice, &chat, form).await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    assert_eq!(message["text"], "see this");
    assert!(message["photo"].is_null());
    let file = &message["file"];
    assert_eq!((file["name"].as_str(), file["size"].as_u64()), (Some("page.html"), Some(html.len() as u64)));
    assert_eq!(file["content_type"], "text/html", "the declared type, normalised, as a label");
    let url = file["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/media/"), "{url}");
    let event = ws.next_of("message.created").await;
    assert_eq!(event["data"]["file"], *file, "members hear of the file live");

    let response = app.http.get(app.url(&url)).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/octet-stream", "HTML is never served as HTML");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-security-policy"], "default-src 'none'");
    assert_eq!(headers["content-disposition"], "attachment; filename=\"page.html\"; filename*=UTF-8''page.html");
    assert_eq!(response.bytes().await.unwrap().as_ref(), html.as_slice(), "stored byte for byte");

    // A safe declared type is kept; HEAD and the ETag answer carry the same disposition.
    let (_, pdf) = send_file(&app, &alice, &chat, file_form(b"%PDF-1.4 x".to_vec(), "a.pdf", "application/pdf")).await;
    let pdf_url = pdf["file"]["url"].as_str().unwrap();
    let head = app.http.head(app.url(pdf_url)).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(head.headers()["content-type"], "application/pdf");
    let etag = head.headers()["etag"].clone();
    let cached = app.http.get(app.url(pdf_url)).bearer_auth(&bob.token).header("if-none-match", etag).send().await;
    let cached = cached.unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert!(cached.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));

    // The history shows it; a plain message has `file: null`.
    let history = app.get(&format!("/api/conversations/{chat}/messages"), &bob).await;
    assert_eq!(history.body["messages"][0]["file"], *file);
    assert!(app.send(&bob, &chat, "thanks").await["file"].is_null());
}

#[tokio::test]
async fn file_names_lose_paths_and_control_characters_and_are_encoded_for_the_download() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    // As a browser writes it: `"`, CR and LF as %22, %0D, %0A (raw ones break the part header).
    let raw = "../../etc/%22quoted%22; name=x%0D%0AX-Evil: 1\t résumé 📄.txt";
    let (status, message) = send_file(&app, &alice, &chat, file_form(b"hello".to_vec(), raw, "text/plain")).await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    let name = "\"quoted\"; name=xX-Evil: 1 résumé 📄.txt";
    assert_eq!(message["file"]["name"], name, "path and line breaks gone, the rest kept");
    let response = app.http.get(app.url(message["file"]["url"].as_str().unwrap())).bearer_auth(&bob.token).send();
    let response = response.await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/plain");
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert_eq!(
        disposition,
        "attachment; filename=\"_quoted_; name=xX-Evil: 1 r_sum_ _.txt\"; \
         filename*=UTF-8''%22quoted%22%3B%20name%3DxX-Evil%3A%201%20r%C3%A9sum%C3%A9%20%F0%9F%93%84.txt"
    );
    let encoded = disposition.split("UTF-8''").nth(1).unwrap();
    let decoded = percent_decode(encoded);
    assert_eq!(decoded, name, "filename* gives the name back exactly");

    // A name that is nothing but a path is `file`; one over 255 bytes is cut.
    let (_, bare) = send_file(&app, &alice, &chat, file_form(b"x".to_vec(), "../..", "text/plain")).await;
    assert_eq!(bare["file"]["name"], "file");
    let long = format!("{}.txt", "é".repeat(200));
    let (_, cut) = send_file(&app, &alice, &chat, file_form(b"x".to_vec(), &long, "text/plain")).await;
    assert!(cut["file"]["name"].as_str().unwrap().len() <= 255);
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn only_those_who_see_the_message_get_the_file() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let dave = app.register("dave").await;
    let eve = app.register("eve").await;
    let group = app.group(&alice, "g", &[&bob, &dave]).await;
    let (_, before) = send_file(&app, &alice, &group, file_form(b"one".to_vec(), "1.txt", "text/plain")).await;
    let removed = app.delete(&format!("/api/conversations/{group}/members/{}", dave.id), &alice).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let (_, after) = send_file(&app, &alice, &group, file_form(b"two".to_vec(), "2.txt", "text/plain")).await;
    let (before, after) = (before["file"]["url"].as_str().unwrap(), after["file"]["url"].as_str().unwrap());
    //                                   member            former              stranger             anonymous
    let expected_before = [StatusCode::OK, StatusCode::OK, StatusCode::NOT_FOUND, StatusCode::UNAUTHORIZED];
    let expected_after = [StatusCode::OK, StatusCode::NOT_FOUND, StatusCode::NOT_FOUND, StatusCode::UNAUTHORIZED];
    for (url, expected) in [(before, expected_before), (after, expected_after)] {
        let got = [
            app.status_of(url, Some(&bob)).await,
            app.status_of(url, Some(&dave)).await,
            app.status_of(url, Some(&eve)).await,
            app.status_of(url, None).await,
        ];
        assert_eq!(got, expected, "{url}: as member, former member, stranger, anonymous");
    }
    // A stranger cannot send one either (404 before the upload is read).
    let (status, _) = send_file(&app, &eve, &group, file_form(b"x".to_vec(), "x.txt", "text/plain")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_file_uploads_are_clear_errors_and_leave_nothing_behind() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let huge = vec![0u8; 20 * 1024 * 1024 + 1];
    let (status, body) = send_file(&app, &alice, &chat, file_form(huge, "big.bin", "application/zip")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["error"]["code"].is_string(), "{body}");

    let both =
        photo_form(sample("photo-medium.jpg"), "a.jpg").part("file", Part::bytes(b"x".to_vec()).file_name("x.txt"));
    let (status, body) = send_file(&app, &alice, &chat, both).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "file", "{body}");

    let two = file_form(b"a".to_vec(), "a.txt", "text/plain").part("file", Part::bytes(b"b".to_vec()).file_name("b"));
    let (status, _) = send_file(&app, &alice, &chat, two).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    assert!(stored_files(&app).is_empty(), "left behind: {:?}", stored_files(&app));
    assert!(staged_files(&app).is_empty(), "staging left behind: {:?}", staged_files(&app));
    let history = app.get(&format!("/api/conversations/{chat}/messages"), &alice).await;
    assert_eq!(history.body["messages"], json!([]), "nothing was sent");
}

#[tokio::test]
async fn deleting_a_file_message_tombstones_it_and_its_file_goes_with_the_last_copy() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice, &bob).await;
    let group = app.group(&alice, "g", &[&bob]).await;
    let (_, message) = send_file(&app, &alice, &chat, file_form(b"data".to_vec(), "d.csv", "text/csv")).await;
    let url = message["file"]["url"].as_str().unwrap().to_owned();
    let id = message["id"].as_str().unwrap();

    // A forward keeps the file (the same stored file, under the same name).
    let forwarded = app
        .post(&format!("/api/conversations/{chat}/messages/{id}/forward"), &alice, json!({"conversation_ids": [group]}))
        .await;
    assert_eq!(forwarded.status, StatusCode::CREATED, "{}", forwarded.body);
    let copy = &forwarded.body["messages"][0];
    assert_eq!(copy["file"], message["file"]);
    let copy_id = copy["id"].as_str().unwrap().to_owned();

    let deleted = app.delete(&format!("/api/conversations/{chat}/messages/{id}"), &alice).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let history = app.get(&format!("/api/conversations/{chat}/messages"), &bob).await;
    let tombstone = &history.body["messages"][0];
    assert_eq!((tombstone["deleted"].as_bool(), tombstone["file"].is_null()), (Some(true), true), "{tombstone}");
    assert_eq!(app.status_of(&url, Some(&bob)).await, StatusCode::OK, "the copy in the group still uses it");
    assert_eq!(stored_files(&app).len(), 1);

    app.delete(&format!("/api/conversations/{group}/messages/{copy_id}"), &alice).await;
    assert_eq!(app.status_of(&url, Some(&bob)).await, StatusCode::NOT_FOUND);
    assert!(stored_files(&app).is_empty(), "left behind: {:?}", stored_files(&app));
}
