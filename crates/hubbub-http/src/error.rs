//! `ApiError`: the one error type of every handler, rendered in the contract's shape
//! `{"error": {"code": "...", "message": "...", "field"?: "..."}}` with a stable code per
//! status. A 500 says `internal` and nothing more; its cause goes to the log, inside the
//! request's span (which carries the request id), never to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubbub_app::AppError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub field: Option<&'static str>,
    pub retry_after: Option<u64>,
    /// Logged, never sent.
    pub cause: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// One of bad_request, unauthorized, forbidden, not_found, conflict, gone,
    /// payload_too_large, unsupported_media_type, validation_failed, rate_limited,
    /// unavailable, internal.
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), field: None, retry_after: None, cause: None }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self { field: Some(field), ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, message) }
    }

    pub fn internal(cause: impl Into<String>) -> Self {
        Self { cause: Some(cause.into()), ..Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal") }
    }

    pub fn code(&self) -> &'static str {
        match self.status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::CONFLICT => "conflict",
            StatusCode::GONE => "gone",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
            StatusCode::TOO_MANY_REQUESTS => "rate_limited",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            _ => "internal",
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::BadRequest { message } => ApiError::bad_request(message),
            AppError::BadParameter { field, message } => {
                ApiError { field: Some(field), ..ApiError::bad_request(format!("{field}: {message}")) }
            }
            AppError::Unauthorized(message) => ApiError::unauthorized(message),
            AppError::Forbidden(message) => ApiError::forbidden(message),
            AppError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            AppError::Conflict(message) => ApiError::new(StatusCode::CONFLICT, message),
            AppError::Gone(message) => ApiError::new(StatusCode::GONE, message),
            AppError::PayloadTooLarge(message) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message),
            AppError::UnsupportedMediaType(message) => ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message),
            AppError::Validation(v) => ApiError::validation(v.field, v.message),
            AppError::RateLimited { retry_after_secs } => ApiError {
                retry_after: Some(retry_after_secs),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("too many attempts; retry in {retry_after_secs} s"),
                )
            },
            AppError::Unavailable(cause) => ApiError {
                cause: Some(cause),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the service is temporarily unavailable")
            },
            AppError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause
            && self.status.is_server_error()
        {
            tracing::error!(status = self.status.as_u16(), %cause, "request failed");
        }
        let code = self.code();
        let message =
            if self.status == StatusCode::INTERNAL_SERVER_ERROR { "internal".to_owned() } else { self.message };
        let body = ErrorBody { error: ErrorDetail { code, message, field: self.field } };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
