//! Hubbub's HTTP surface. `router(state)` builds everything the binary serves: the REST API
//! under `/api`, the WebSocket at `/api/ws`, `/metrics`, `/media/*`, and (as the fallback)
//! whatever front end the binary mounts. Handlers only extract, call one use case, and map
//! the result; every rule lives in `hubbub-app`.

pub mod error;
pub mod extract;
pub mod files;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod proxy;
pub mod routes;
pub mod server;
pub mod ws;

pub use server::{ServeConfig, serve};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::MatchedPath;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::response::IntoResponse;
use hubbub_app::App;
use std::sync::Arc;
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Settings of the HTTP layer.
#[derive(Clone, Debug, Default)]
pub struct HttpConfig {
    /// Origins besides this server's own from which cookie-authenticated changes are
    /// accepted (e.g. `https://chat.example.com` behind a proxy that rewrites Host).
    pub allowed_origins: Vec<String>,
    /// Mark the session cookie `Secure` (set when served over TLS, directly or by a proxy).
    pub secure_cookies: bool,
    /// Peers whose `X-Forwarded-For` names the client (see `proxy`); none by default, so
    /// the client is the peer.
    pub trusted_proxies: proxy::TrustedProxies,
}

/// What every handler can reach. Cheap to clone: everything is behind an `Arc`.
#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub config: Arc<HttpConfig>,
    pub media: Option<media::MediaState>,
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    pub fn new(app: Arc<App>, config: HttpConfig) -> Self {
        Self { app, config: Arc::new(config), media: None, metrics: Arc::new(metrics::Metrics::default()) }
    }
}

/// The JSON body limit of the contract.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

/// The API routes together with their OpenAPI description: both come from the same list,
/// so a route cannot exist without being documented. JSON routes take bodies up to
/// `JSON_BODY_LIMIT`; the routes that accept uploads take up to the upload limit and
/// enforce the JSON limit themselves on their JSON variant.
pub fn api(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use routes::{admin, contacts, conversations, messages, ops, rooms, session, settings, spaces, users};
    let json = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(session::register, users::search))
        .routes(routes!(session::login, session::logout))
        .routes(routes!(session::ws_ticket))
        .routes(routes!(session::change_password))
        .routes(routes!(users::me, users::update_me))
        .routes(routes!(users::get))
        .routes(routes!(conversations::list, conversations::create_group))
        .routes(routes!(conversations::open_direct))
        .routes(routes!(conversations::get, rooms::delete_conversation))
        .routes(routes!(conversations::rename))
        .routes(routes!(conversations::add_members))
        .routes(routes!(conversations::remove_member))
        .routes(routes!(conversations::mark_read))
        .routes(routes!(conversations::mark_delivered))
        .routes(routes!(admin::audit_log))
        .routes(routes!(rooms::list_rooms))
        .routes(routes!(rooms::join))
        .routes(routes!(rooms::set_topic))
        .routes(routes!(rooms::set_password))
        .routes(routes!(rooms::set_role))
        .routes(routes!(spaces::create, spaces::list))
        .routes(routes!(spaces::get, spaces::update, spaces::delete))
        .routes(routes!(spaces::remove_member))
        .routes(routes!(spaces::set_role))
        .routes(routes!(spaces::members, spaces::add_members))
        .routes(routes!(spaces::channels, spaces::create_channel))
        .routes(routes!(settings::update))
        .routes(routes!(settings::clear))
        .routes(routes!(contacts::list))
        .routes(routes!(contacts::set, contacts::remove))
        .routes(routes!(contacts::block, contacts::unblock))
        .routes(routes!(contacts::blocks))
        .routes(routes!(messages::edit, messages::delete))
        .routes(routes!(messages::forward))
        .routes(routes!(messages::receipts))
        .routes(routes!(messages::reactions, messages::react, messages::unreact))
        .routes(routes!(messages::events))
        .routes(routes!(ws::upgrade))
        .routes(routes!(ops::health))
        .routes(routes!(ops::openapi_json))
        .routes(routes!(routes::mentions::mentions))
        .routes(routes!(routes::mentions::pin, routes::mentions::unpin))
        .routes(routes!(routes::mentions::pins))
        .routes(routes!(routes::mentions::history))
        .routes(routes!(routes::search::search))
        .routes(routes!(routes::push::key))
        .routes(routes!(routes::push::subscribe_browser, routes::push::unsubscribe_browser))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(JSON_BODY_LIMIT, refuse_declared_oversize));
    let uploads = OpenApiRouter::new()
        .routes(routes!(media::set_my_photo, media::delete_my_photo))
        .routes(routes!(media::set_group_photo, media::delete_group_photo))
        .routes(routes!(messages::list, messages::send))
        .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(UPLOAD_BODY_LIMIT, refuse_declared_oversize));
    let (router, mut doc) = json.merge(uploads).split_for_parts();
    // The standard error responses are derived from the merged document: only now does it
    // hold every operation.
    utoipa::Modify::modify(&openapi::StandardErrors, &mut doc);
    let router = router
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::count_requests))
        // API answers are per-user data: never cached by a browser or a proxy, never sniffed.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")));
    (router, doc)
}

/// A multipart upload: the photo plus its small text fields.
const UPLOAD_BODY_LIMIT: usize = media::UPLOAD_LIMIT_BYTES + 64 * 1024;

/// Refuses a body whose declared `Content-Length` is over the route's limit before a byte
/// of it is read (the body limit alone would read up to the limit first, 20 MiB for an
/// upload). The server closes such a connection after the answer, since the body is unread.
async fn refuse_declared_oversize(
    axum::extract::State(limit): axum::extract::State<usize>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit as u64 => error::ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than the {} KiB this endpoint accepts", limit / 1024),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

/// The whole application router. `fallback` serves everything that is not API, media or
/// metrics (the embedded web app).
pub fn router(state: AppState, fallback: Router) -> Router {
    let (api, _) = api(&state);
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api)
        .route(
            "/media/{name}",
            // A stored photo is only ever an image: should a browser be tricked into
            // rendering one as a document, it may run nothing and load nothing.
            axum::routing::get(media::serve).layer(SetResponseHeaderLayer::overriding(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'"),
            )),
        )
        .route("/metrics", axum::routing::get(metrics::render))
        .fallback_service(fallback.into_service::<axum::body::Body>())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    // The route's template, not the URI: no ids of media, no query string
                    // (a WebSocket ticket travels there).
                    let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("(web)");
                    tracing::info_span!("request", method = %request.method(), route, request_id = %id)
                })
                // One line per request at the default level, so an operator sees traffic
                // and attacks (statuses, timings) without turning on debug logs.
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Millis)),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// For tests and API-only embedders: the router with a JSON 404 for everything else.
pub fn api_router(state: AppState) -> Router {
    router(state, Router::new().fallback(routes::ops::not_found))
}
