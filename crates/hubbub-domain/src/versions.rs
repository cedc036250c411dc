//! Edit history: the earlier texts of a message, kept by each edit.

use crate::Timestamp;
use serde::Serialize;

/// One earlier version of a message's text, as the message was before an edit replaced it:
/// its text and its `edited_at` then (null for the text as first sent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageVersion {
    pub text: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub edited_at: Option<Timestamp>,
}
