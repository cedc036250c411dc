//! Hubbub's web app, served from the binary itself.
//!
//! [`router`] answers every path that is not under `/api` or `/media` (the main router mounts it
//! as its fallback): files of the Vite build with long-lived caching for hashed assets, and
//! `index.html` (never cached) for every other path so client-side routes survive a reload.
//! Every response carries the app's security headers.
//!
//! The files are embedded at compile time from `web/dist` (see `build.rs`), each JS, CSS, HTML
//! and SVG file with its `.br` and `.gz` made by `npm run build`: the answer is the Brotli one
//! when the client accepts `br`, else the gzip one when it accepts `gzip`, else the file as it
//! is, with `Content-Encoding`, `Vary: Accept-Encoding`, the variant's own `Content-Length` and
//! `ETag` (HEAD answers the same headers). When the web app was not built, the crate still
//! compiles and every page says how to build it.

use axum::{
    Router,
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// One file of the build, with its precompressed variants where the build made them.
pub(crate) struct Embedded {
    pub path: &'static str,
    pub raw: &'static [u8],
    pub br: Option<&'static [u8]>,
    pub gz: Option<&'static [u8]>,
}

/// The content coding of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Identity,
    Brotli,
    Gzip,
}

impl Encoding {
    fn token(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
        }
    }
}

/// Whether `Accept-Encoding` accepts `coding` (a q-value of 0 refuses it; `*` stands for
/// every coding the header does not name).
fn accepts(accept_encoding: Option<&HeaderValue>, coding: &str) -> bool {
    let Some(value) = accept_encoding.and_then(|v| v.to_str().ok()) else { return false };
    let mut wildcard = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            return q > 0.0;
        }
        if name == "*" {
            wildcard = Some(q > 0.0);
        }
    }
    wildcard.unwrap_or(false)
}

/// The variant to send: Brotli first, then gzip, then the file as it is.
fn choose(file: &Embedded, accept_encoding: Option<&HeaderValue>) -> (Encoding, &'static [u8]) {
    match (file.br, file.gz) {
        (Some(br), _) if accepts(accept_encoding, "br") => (Encoding::Brotli, br),
        (_, Some(gz)) if accepts(accept_encoding, "gzip") => (Encoding::Gzip, gz),
        _ => (Encoding::Identity, file.raw),
    }
}

/// The Content-Security-Policy of the app: scripts only from this origin (no inline scripts, no
/// eval), images from this origin plus `data:`/`blob:` (upload previews), no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

/// The command that builds the web app, as shown on the "not built" page.
pub const BUILD_HINT: &str = "npm --prefix web ci && npm --prefix web run build";

/// Whether `web/dist` was embedded when this crate was compiled.
pub fn is_built() -> bool {
    lookup("/index.html").is_some()
}

/// The router that serves the web app. Mount it as the fallback of the main router.
pub fn router() -> Router {
    Router::new().fallback(serve)
}

fn lookup(path: &str) -> Option<&'static Embedded> {
    embedded::FILES.iter().find(|file| file.path == path)
}

async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    // HEAD: hyper sends the headers of the GET answer (Content-Length included) without the body.
    let request = Conditions {
        if_none_match: headers.get(header::IF_NONE_MATCH),
        accept_encoding: headers.get(header::ACCEPT_ENCODING),
    };
    let mut res = respond(&method, path, request);
    security_headers(res.headers_mut());
    res
}

/// A strong validator for an embedded file (FNV-1a 64 of its bytes).
fn etag(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("\"{h:016x}\"")
}

/// What of the request shapes the answer to a file.
#[derive(Clone, Copy, Default)]
struct Conditions<'a> {
    if_none_match: Option<&'a HeaderValue>,
    accept_encoding: Option<&'a HeaderValue>,
}

fn respond(method: &Method, path: &str, request: Conditions<'_>) -> Response {
    if is_backend_path(path) {
        return api_not_found();
    }
    if method != Method::GET && method != Method::HEAD {
        let mut res = (StatusCode::METHOD_NOT_ALLOWED, "method not allowed").into_response();
        res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    if !is_built() {
        return not_built();
    }
    if path != "/" && path != "/index.html" {
        if let Some(embedded) = lookup(path) {
            let cache = if path.starts_with("/assets/") { IMMUTABLE } else { NO_CACHE };
            return file(embedded, content_type(path), cache, request);
        }
        // A missing hashed asset is a 404, not the app: a stale tab asking for an old chunk must
        // see an error, not HTML parsed as JavaScript.
        if path.starts_with("/assets/") {
            return (StatusCode::NOT_FOUND, "not found").into_response();
        }
    }
    let index = lookup("/index.html").expect("built");
    file(index, "text/html; charset=utf-8", NO_CACHE, request)
}

/// `/api`, `/api/...`, `/media`, `/media/...` belong to the server, never to the app.
fn is_backend_path(path: &str) -> bool {
    ["/api", "/media"].iter().any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

fn api_not_found() -> Response {
    let body = r#"{"error":{"code":"not_found","message":"no such endpoint"}}"#;
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body).into_response()
}

fn file(embedded: &Embedded, content_type: &'static str, cache: &'static str, request: Conditions<'_>) -> Response {
    let (encoding, bytes) = choose(embedded, request.accept_encoding);
    // Each variant is its own representation, so its own strong validator.
    let tag = match encoding.token() {
        None => etag(embedded.raw),
        Some(token) => format!("{}-{token}\"", etag(embedded.raw).trim_end_matches('"')),
    };
    let matches = request
        .if_none_match
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::ETAG, HeaderValue::from_str(&tag).expect("hex is a valid header"));
    if embedded.br.is_some() || embedded.gz.is_some() {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Some(token) = encoding.token() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
    }
    if matches {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    (StatusCode::OK, headers, bytes).into_response()
}

fn not_built() -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Hubbub</title></head>\
<body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\"><h1>Hubbub: web app not built</h1>\
<p>This binary was compiled without the web app. The API works (<a href=\"/api/health\">/api/health</a>).</p>\
<p>To include the app, run <code>{BUILD_HINT}</code> in the repository, then rebuild the binary \
(<code>cargo build -p hubbub</code>).</p></body></html>"
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
        body,
    )
        .into_response()
}

fn security_headers(h: &mut HeaderMap) {
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    h.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "map" => "application/json",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use tower::ServiceExt;

    async fn get(path: &str) -> Response {
        router().oneshot(axum::http::Request::get(path).body(Body::empty()).unwrap()).await.unwrap()
    }

    #[test]
    fn backend_paths() {
        assert!(is_backend_path("/api"));
        assert!(is_backend_path("/api/users"));
        assert!(is_backend_path("/media/abc"));
        assert!(!is_backend_path("/apis"));
        assert!(!is_backend_path("/mediator"));
        assert!(!is_backend_path("/c/123"));
    }

    #[tokio::test]
    async fn api_paths_are_json_404() {
        let res = get("/api/nope").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
        let res = get("/media/x.jpg").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn security_headers_everywhere() {
        for path in ["/", "/c/123", "/api/x"] {
            let res = get(path).await;
            let h = res.headers();
            let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(csp.contains("script-src 'self'"), "{path}");
            assert!(!csp.contains("script-src 'self' 'unsafe-inline'"));
            assert!(csp.contains("frame-ancestors 'none'"));
            assert!(csp.contains("img-src 'self' data: blob:"));
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert!(h.contains_key(header::REFERRER_POLICY));
        }
    }

    #[tokio::test]
    async fn post_is_not_allowed() {
        let res = router().oneshot(axum::http::Request::post("/c/1").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[tokio::test]
    async fn index_fallback_or_not_built_page() {
        let res = get("/some/client/route").await;
        if is_built() {
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers()[header::CACHE_CONTROL], NO_CACHE);
            let body = to_bytes(res.into_body(), usize::MAX).await.unwrap();
            assert_eq!(&body[..], lookup("/index.html").unwrap().raw);
        } else {
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
            let body = to_bytes(res.into_body(), usize::MAX).await.unwrap();
            let body = String::from_utf8(body.to_vec()).unwrap();
            assert!(body.contains("web app not built"));
            assert!(body.contains(BUILD_HINT));
        }
    }

    /// The service worker (web/public/sw.js) is served from the root, so its scope is the whole
    /// app without a `Service-Worker-Allowed` header; browsers refuse a worker whose type is not
    /// JavaScript, and it must never be the immutable kind (an update has to reach the browser).
    #[tokio::test]
    async fn service_worker_at_the_root() {
        if !is_built() {
            return;
        }
        assert!(lookup("/sw.js").is_some(), "web/dist/sw.js is part of the build");
        let res = get("/sw.js").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(res.headers()[header::CACHE_CONTROL], NO_CACHE);
        let body = to_bytes(res.into_body(), usize::MAX).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("addEventListener('push'"));
    }

    #[tokio::test]
    async fn hashed_assets_are_immutable() {
        let Some(embedded) = embedded::FILES.iter().find(|f| f.path.starts_with("/assets/")) else {
            return; // not built
        };
        let res = get(embedded.path).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CACHE_CONTROL], IMMUTABLE);
        let body = to_bytes(res.into_body(), usize::MAX).await.unwrap();
        assert_eq!(&body[..], embedded.raw, "no Accept-Encoding: the file as it is");
        let res = get("/assets/does-not-exist.js").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn index_revalidates_with_etag() {
        if !is_built() {
            return;
        }
        let res = get("/").await;
        let tag = res.headers()[header::ETAG].clone();
        let res = router()
            .oneshot(axum::http::Request::get("/c/x").header(header::IF_NONE_MATCH, tag).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert!(res.headers().contains_key(header::CONTENT_SECURITY_POLICY));
    }

    static FAKE: Embedded =
        Embedded { path: "/assets/app.js", raw: b"raw bytes, long", br: Some(b"br!"), gz: Some(b"gzip:") };
    static PLAIN: Embedded = Embedded { path: "/logo.png", raw: b"png", br: None, gz: None };

    fn answer(file: &Embedded, accept: Option<&'static str>, if_none_match: Option<&str>) -> Response {
        let accept = accept.map(HeaderValue::from_static);
        let tag = if_none_match.map(|t| HeaderValue::from_str(t).unwrap());
        super::file(
            file,
            "text/javascript",
            IMMUTABLE,
            Conditions { if_none_match: tag.as_ref(), accept_encoding: accept.as_ref() },
        )
    }

    async fn body(res: Response) -> Vec<u8> {
        to_bytes(res.into_body(), usize::MAX).await.unwrap().to_vec()
    }

    #[test]
    fn accept_encoding_is_read_with_its_q_values() {
        let v = |s: &'static str| Some(HeaderValue::from_static(s));
        assert!(accepts(v("gzip, deflate, br, zstd").as_ref(), "br"));
        assert!(accepts(v("gzip;q=0.5").as_ref(), "gzip"));
        assert!(!accepts(v("br;q=0, gzip").as_ref(), "br"));
        assert!(!accepts(v("br; q=0.0").as_ref(), "br"));
        assert!(accepts(v("*").as_ref(), "br"));
        assert!(!accepts(v("*;q=0").as_ref(), "gzip"));
        assert!(!accepts(v("identity").as_ref(), "gzip"));
        assert!(!accepts(None, "gzip"));
        assert!(accepts(v("BR").as_ref(), "br"));
    }

    #[tokio::test]
    async fn brotli_is_preferred_then_gzip_then_the_file_itself() {
        let res = answer(&FAKE, Some("gzip, deflate, br"), None);
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(res.headers()[header::VARY], "accept-encoding");
        assert_eq!(res.headers()[header::CONTENT_LENGTH], "3");
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/javascript");
        assert_eq!(body(res).await, b"br!");

        let res = answer(&FAKE, Some("gzip"), None);
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(res.headers()[header::CONTENT_LENGTH], "5");
        assert_eq!(body(res).await, b"gzip:");
        let res = answer(&FAKE, Some("br;q=0, gzip;q=0.8"), None);
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");

        for accept in [None, Some("identity"), Some("deflate")] {
            let res = answer(&FAKE, accept, None);
            assert!(!res.headers().contains_key(header::CONTENT_ENCODING), "{accept:?}");
            assert_eq!(res.headers()[header::VARY], "accept-encoding", "a cache must still tell them apart");
            assert_eq!(res.headers()[header::CONTENT_LENGTH], "15");
            assert_eq!(body(res).await, b"raw bytes, long");
        }

        // Without variants (an image): as it is, and nothing to vary on.
        let res = answer(&PLAIN, Some("br, gzip"), None);
        assert!(!res.headers().contains_key(header::CONTENT_ENCODING));
        assert!(!res.headers().contains_key(header::VARY));
        assert_eq!(body(res).await, b"png");
    }

    #[tokio::test]
    async fn each_variant_has_its_own_etag() {
        let tags: Vec<String> = [Some("br"), Some("gzip"), None]
            .into_iter()
            .map(|a| answer(&FAKE, a, None).headers()[header::ETAG].to_str().unwrap().to_owned())
            .collect();
        assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2], "{tags:?}");
        let res = answer(&FAKE, Some("br"), Some(&tags[0]));
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "br");
        let res = answer(&FAKE, Some("gzip"), Some(&tags[0]));
        assert_eq!(res.status(), StatusCode::OK, "the gzip variant is not the one the client holds");
    }

    #[tokio::test]
    async fn head_and_get_of_a_built_asset_agree() {
        let Some(embedded) = embedded::FILES.iter().find(|f| f.path.starts_with("/assets/") && f.br.is_some()) else {
            return; // not built
        };
        for method in [Method::GET, Method::HEAD] {
            let request = axum::http::Request::builder()
                .method(method.clone())
                .uri(embedded.path)
                .header(header::ACCEPT_ENCODING, "gzip, br")
                .body(Body::empty())
                .unwrap();
            let res = router().oneshot(request).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers()[header::CONTENT_ENCODING], "br", "{method}");
            assert_eq!(res.headers()[header::CONTENT_LENGTH], embedded.br.unwrap().len().to_string().as_str());
            assert_eq!(res.headers()[header::VARY], "accept-encoding");
        }
    }

    #[test]
    fn etag_is_stable_and_quoted() {
        assert_eq!(etag(b"abc"), etag(b"abc"));
        assert_ne!(etag(b"abc"), etag(b"abd"));
        assert!(etag(b"").starts_with('"') && etag(b"").ends_with('"'));
    }
}
