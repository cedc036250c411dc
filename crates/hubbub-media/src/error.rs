//! One error type for the whole crate, shaped so the HTTP layer can map it to a status with
//! [`MediaError::status_hint`] and to the contract's error codes with [`MediaError::code`].

use std::io;

/// Everything that can go wrong while receiving, optimising, storing or serving a file.
///
/// Client mistakes (413, 415, 422, 416, 404) are separate variants from server faults (500),
/// so the HTTP layer never has to inspect messages.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The upload body went over the size limit; the rest was not read. → 413.
    #[error("file is larger than the {limit} byte limit")]
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: u64,
    },

    /// A zero-byte file. → 422 (`validation_failed`, field `photo`).
    #[error("file is empty")]
    Empty,

    /// The bytes are not JPEG, PNG, WebP or GIF (SVG, HTML, text, anything else). → 415.
    #[error("unsupported file type: {detected}; only JPEG, PNG, WebP and GIF are accepted")]
    UnsupportedType {
        /// What the magic bytes looked like (for logs and the error message).
        detected: &'static str,
    },

    /// The header declares more pixels than allowed; nothing was decoded. → 422.
    #[error("image is {width}×{height}, more than the {max_pixels} pixel limit")]
    TooManyPixels {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// The configured limit.
        max_pixels: u64,
    },

    /// The decoder refused to allocate what the image needs (`image`'s limits). → 422.
    #[error("image exceeds the decoder's memory limits")]
    DecoderLimits,

    /// Truncated or corrupt image data. → 422.
    #[error("image could not be decoded: {0}")]
    Undecodable(String),

    /// The client's upload stream failed midway (connection reset, bad multipart). → 400.
    #[error("upload was interrupted: {0}")]
    UploadAborted(String),

    /// No file by that name. → 404.
    #[error("file not found")]
    NotFound,

    /// A name that could never have been issued by us (path traversal, odd characters).
    /// → 404, so nobody learns anything from the difference.
    #[error("invalid file name")]
    InvalidName,

    /// The requested byte range lies outside the file. → 416 with `Content-Range: bytes */len`.
    #[error("range not satisfiable for a file of {len} bytes")]
    RangeNotSatisfiable {
        /// Total file length, for the `Content-Range` header.
        len: u64,
    },

    /// A put would have overwritten an existing name. Names are random UUIDs, so this is a
    /// bug (or a one-in-2^122 collision), never a client mistake. → 500.
    #[error("a file with that name already exists")]
    AlreadyExists,

    /// Encoding failed. → 500.
    #[error("image could not be encoded: {0}")]
    Encode(String),

    /// The disk (or the quota) is full: the server cannot take files until an operator
    /// frees space. Not a bug and not the client's fault. → 503 (`unavailable`).
    #[error("the photo storage is full")]
    StorageFull(#[source] io::Error),

    /// Disk or other I/O failure. → 500.
    #[error("storage I/O error: {0}")]
    Io(io::Error),

    /// A worker task panicked or was cancelled. → 500.
    #[error("internal media error: {0}")]
    Internal(String),
}

impl MediaError {
    /// The HTTP status this error should be answered with.
    pub fn status_hint(&self) -> u16 {
        match self {
            MediaError::TooLarge { .. } => 413,
            MediaError::UnsupportedType { .. } => 415,
            MediaError::Empty
            | MediaError::TooManyPixels { .. }
            | MediaError::DecoderLimits
            | MediaError::Undecodable(_) => 422,
            MediaError::UploadAborted(_) => 400,
            MediaError::NotFound | MediaError::InvalidName => 404,
            MediaError::RangeNotSatisfiable { .. } => 416,
            MediaError::StorageFull(_) => 503,
            MediaError::AlreadyExists | MediaError::Encode(_) | MediaError::Io(_) | MediaError::Internal(_) => 500,
        }
    }

    /// The contract's error code for [`status_hint`](Self::status_hint) (416 has no contract
    /// code; it is only ever sent on `GET /media`, with an empty body).
    pub fn code(&self) -> &'static str {
        match self.status_hint() {
            400 => "bad_request",
            404 => "not_found",
            413 => "payload_too_large",
            415 => "unsupported_media_type",
            416 => "range_not_satisfiable",
            422 => "validation_failed",
            503 => "unavailable",
            _ => "internal",
        }
    }

    /// True when the client caused it (4xx): log at debug, not at error.
    pub fn is_client_error(&self) -> bool {
        (400..500).contains(&self.status_hint())
    }

    /// Maps `image`'s errors: limit errors and bad data are the client's problem, never 500s.
    pub(crate) fn from_image(err: image::ImageError) -> Self {
        use image::ImageError as E;
        match err {
            E::Limits(_) => MediaError::DecoderLimits,
            E::Decoding(e) => MediaError::Undecodable(e.to_string()),
            // An unsupported feature inside an accepted format (arithmetic-coded JPEG, 16-bit
            // WebP…) is bad input for us, not a server fault.
            E::Unsupported(e) => MediaError::Undecodable(e.to_string()),
            // Reading from an in-memory slice only fails on truncation.
            E::IoError(e) => MediaError::Undecodable(e.to_string()),
            E::Parameter(e) => MediaError::Undecodable(e.to_string()),
            E::Encoding(e) => MediaError::Encode(e.to_string()),
        }
    }
}

impl From<io::Error> for MediaError {
    /// Every I/O error of the crate passes through here, so "disk full" is recognised
    /// wherever it happens (spooling, encoding to a temp file, the final rename).
    fn from(error: io::Error) -> Self {
        if is_storage_full(&error) { MediaError::StorageFull(error) } else { MediaError::Io(error) }
    }
}

/// ENOSPC (no space left) and EDQUOT (quota exceeded).
fn is_storage_full(error: &io::Error) -> bool {
    if error.kind() == io::ErrorKind::StorageFull || error.kind() == io::ErrorKind::QuotaExceeded {
        return true;
    }
    #[cfg(target_os = "linux")]
    if let Some(code) = error.raw_os_error() {
        return code == 28 || code == 122;
    }
    false
}

/// Shorthand used throughout the crate.
pub type Result<T, E = MediaError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(MediaError::TooLarge { limit: 1 }.status_hint(), 413);
        assert_eq!(MediaError::UnsupportedType { detected: "svg" }.status_hint(), 415);
        assert_eq!(MediaError::Empty.status_hint(), 422);
        let bomb = MediaError::TooManyPixels { width: 50_000, height: 50_000, max_pixels: 50_000_000 };
        assert_eq!(bomb.status_hint(), 422);
        assert_eq!(bomb.code(), "validation_failed");
        assert_eq!(MediaError::Undecodable("x".into()).status_hint(), 422);
        assert_eq!(MediaError::InvalidName.status_hint(), 404);
        assert_eq!(MediaError::Io(io::Error::other("disk")).code(), "internal");
        let full = MediaError::from(io::Error::from_raw_os_error(28));
        assert!(matches!(full, MediaError::StorageFull(_)), "ENOSPC is a full disk: {full:?}");
        assert_eq!((full.status_hint(), full.code()), (503, "unavailable"));
        assert!(matches!(MediaError::from(io::Error::other("disk")), MediaError::Io(_)));
        assert!(!MediaError::Internal("x".into()).is_client_error());
    }
}
