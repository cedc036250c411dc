//! The one error type of the use cases. The HTTP layer maps each variant to a status and a
//! stable machine-readable code; `Internal` keeps its cause for the log only.

use crate::ports::StoreError;
use hubbub_domain::ValidationError;
use hubbub_domain::policy::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest { message: String },
    /// A query parameter that cannot be used (400, naming the parameter in `field`).
    #[error("{field}: {message}")]
    BadParameter { field: &'static str, message: String },
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Gone(&'static str),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Validation(#[from] ValidationError),
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn bad_parameter(field: &'static str, message: impl Into<String>) -> Self {
        AppError::BadParameter { field, message: message.into() }
    }

    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        AppError::Validation(ValidationError::new(field, message))
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => AppError::NotFound("resource"),
            StoreError::Conflict(what) => AppError::Conflict(format!("{what} already exists")),
            StoreError::UnknownReference(field) => AppError::validation(field, format!("unknown {field}")),
            StoreError::InvalidState(why) => AppError::Conflict(why.to_owned()),
            StoreError::Forbidden(why) => AppError::Forbidden(why),
            StoreError::Unavailable(why) => AppError::Unavailable(why),
            StoreError::Other(cause) => AppError::Internal(cause.to_string()),
        }
    }
}

/// A policy refusal: what the kind of conversation does not have is a validation error on
/// `conversation` (422), what the caller's role does not allow is 403.
impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Kind(why) => AppError::validation("conversation", why),
            Refusal::Role(why) => AppError::Forbidden(why),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
