//! Hubbub's HTTP surface. `router(state)` builds everything the binary serves: the REST API
//! under `/api`, the WebSocket at `/api/ws`, `/metrics`, `/media/*`, and (as the fallback)
//! whatever front end the binary mounts. Handlers only extract, call one use case, and map
//! the result; every rule lives in `hubbub-app`.

pub mod error;
pub mod extract;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod proxy;
pub mod routes;
pub mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use hubbub_app::App;
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
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
    use routes::{conversations, messages, ops, session, users};
    let json = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(session::register, users::search))
        .routes(routes!(session::login, session::logout))
        .routes(routes!(session::ws_ticket))
        .routes(routes!(session::change_password))
        .routes(routes!(users::me, users::update_me))
        .routes(routes!(users::get))
        .routes(routes!(conversations::list, conversations::create_group))
        .routes(routes!(conversations::open_direct))
        .routes(routes!(conversations::get))
        .routes(routes!(conversations::rename))
        .routes(routes!(conversations::add_members))
        .routes(routes!(conversations::remove_member))
        .routes(routes!(conversations::mark_read))
        .routes(routes!(conversations::mark_delivered))
        .routes(routes!(messages::edit, messages::delete))
        .routes(routes!(messages::forward))
        .routes(routes!(messages::receipts))
        .routes(routes!(messages::reactions, messages::react, messages::unreact))
        .routes(routes!(messages::events))
        .routes(routes!(ws::upgrade))
        .routes(routes!(ops::health))
        .routes(routes!(ops::openapi_json))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT));
    let uploads = OpenApiRouter::new()
        .routes(routes!(media::set_my_photo, media::delete_my_photo))
        .routes(routes!(media::set_group_photo, media::delete_group_photo))
        .routes(routes!(messages::list, messages::send))
        .layer(DefaultBodyLimit::max(media::UPLOAD_LIMIT_BYTES + 64 * 1024));
    let (router, doc) = json.merge(uploads).split_for_parts();
    let router = router.route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::count_requests));
    (router, doc)
}

/// The whole application router. `fallback` serves everything that is not API, media or
/// metrics (the embedded web app).
pub fn router(state: AppState, fallback: Router) -> Router {
    let (api, _) = api(&state);
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api)
        .route("/media/{name}", axum::routing::get(media::serve))
        .route("/metrics", axum::routing::get(metrics::render))
        .fallback_service(fallback.into_service::<axum::body::Body>())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), uri = %request.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// For tests and API-only embedders: the router with a JSON 404 for everything else.
pub fn api_router(state: AppState) -> Router {
    router(state, Router::new().fallback(routes::ops::not_found))
}
