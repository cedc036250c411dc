//! Extractors that turn every kind of bad input into the contract's errors instead of
//! axum's plain-text rejections: malformed JSON is 400, well-formed JSON of the wrong shape
//! is 422, a missing JSON content type is 415, an oversized body is 413, a path id that is
//! not a UUID is 400. And `Auth`, which resolves the caller, and `ClientAddr`, which says
//! where the request came from.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use hubbub_app::ports::Actor;
use hubbub_app::usecases::account::authenticate::authenticate;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

pub const SESSION_COOKIE: &str = "hubbub_session";

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// A JSON body that may be left out altogether (no body, no `Content-Type`): then `T`'s
/// default, for requests whose every field is optional (`POST .../clear`). A body that is
/// there is read exactly as `ApiJson` reads it.
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers();
        let no_body = !headers.contains_key(axum::http::header::CONTENT_TYPE)
            && headers
                .get(axum::http::header::CONTENT_LENGTH)
                .is_none_or(|length| length.to_str().is_ok_and(|l| l.trim() == "0"))
            && !headers.contains_key(axum::http::header::TRANSFER_ENCODING);
        if no_body {
            return Ok(OptionalJson(T::default()));
        }
        ApiJson::<T>::from_request(req, state).await.map(|ApiJson(value)| OptionalJson(value))
    }
}

/// Parses an already-read JSON body with the same error mapping as `ApiJson`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    axum::Json::<T>::from_bytes(bytes).map(|axum::Json(v)| v).map_err(json_rejection)
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            // serde's message names the offending field ("missing field `text`", "unknown
            // field `x`"); it is safe to show and tells the client exactly what to fix.
            let text = e.body_text();
            let detail = text.rsplit_once(": ").map(|(_, d)| d.to_owned()).unwrap_or(text);
            ApiError::validation("body", detail)
        }
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request("the body is not valid JSON"),
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "expected Content-Type: application/json")
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the body is too large")
        }
        other => ApiError::bad_request(other.body_text()),
    }
}

/// The media type a request declares for its body, lowercased and without parameters
/// (`charset`, `boundary`): `multipart/form-data`, `application/json`, ...
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    (!essence.is_empty()).then_some(essence)
}

/// What axum's `Json` accepts as a JSON body: `application/json` or `application/*+json`.
pub fn is_json_media_type(media_type: &str) -> bool {
    media_type == "application/json" || (media_type.starts_with("application/") && media_type.ends_with("+json"))
}

pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => {
                Err(ApiError::bad_request("invalid id in path (expected a UUID)"))
            }
            Err(other) => Err(ApiError::bad_request(other.body_text())),
        }
    }
}

pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::bad_request(e.body_text())),
            Err(other) => Err(ApiError::bad_request(other.body_text())),
        }
    }
}

/// Where a credential came from; cookie-authenticated changes must pass the Origin check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    Bearer,
    Cookie,
}

/// The bearer token or session cookie of a request, if any.
pub fn credential(parts: &Parts) -> Option<(String, CredentialSource)> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?;
        return Some((token.trim().to_owned(), CredentialSource::Bearer));
    }
    cookie(parts, SESSION_COOKIE).map(|token| (token, CredentialSource::Cookie))
}

pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// A browser's cross-site request carries a foreign Origin (or none we can trust); a
/// cookie would authenticate it anyway, so cookie-authenticated changes must come from
/// this origin or an allowed one.
pub fn origin_allowed(headers: &HeaderMap, state: &AppState) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if state.config.allowed_origins.iter().any(|allowed| allowed == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or_default();
    !host.is_empty() && origin_host == host
}

/// The authenticated caller. Rejects with 401 without credentials, and with 403 when a
/// cookie-authenticated state change fails the Origin check.
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (token, source) = credential(parts).ok_or_else(|| ApiError::unauthorized("sign in first"))?;
        let safe_method = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if source == CredentialSource::Cookie && !safe_method && !origin_allowed(&parts.headers, state) {
            return Err(ApiError::forbidden("cross-origin request refused"));
        }
        let actor = authenticate(&state.app, &token).await?;
        Ok(Auth(actor))
    }
}

/// The client's address: the peer, or behind a trusted proxy the address it forwarded for
/// (`proxy::TrustedProxies::client_ip`). Needs the router served with
/// `into_make_service_with_connect_info::<SocketAddr>()`; without it the request fails with
/// a logged 500, since guessing an address would put every client under one limit.
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Err(ApiError::internal(
                "no ConnectInfo<SocketAddr>: serve with into_make_service_with_connect_info",
            ));
        };
        let forwarded_for = parts.headers.get_all("x-forwarded-for");
        Ok(ClientAddr(state.config.trusted_proxies.client_ip(peer.ip(), forwarded_for)))
    }
}
