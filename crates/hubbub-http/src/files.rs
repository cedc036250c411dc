//! Attached files: storing an upload as it came, and the headers a download is served with.
//!
//! Unlike a photo, a file is never decoded: its bytes are stored as uploaded (spooled with
//! the same hard limit) under a fresh random name, and nothing the client said about it is
//! trusted. Its name and type are labels, cleaned by `hubbub_domain::attachment`; what makes
//! serving it safe is here: it is always a download (`Content-Disposition: attachment`, the
//! name encoded per RFC 6266/8187), never sniffed (`nosniff`, set for every media answer),
//! typed only as what the use case allows (`application/octet-stream` for anything a
//! browser could run), and under the media routes' `Content-Security-Policy: default-src 'none'`.

use crate::error::ApiResult;
use crate::media::{MediaState, media_error};
use axum::http::HeaderValue;
use hubbub_app::ports::FileInput;
use hubbub_domain::FileName;
use hubbub_domain::attachment::normalize_content_type;
use hubbub_media::storage::{PutOptions, PutSource};
use hubbub_media::{MediaPurpose, TempUpload};

/// A spooled `file` field with what its part header said about it.
pub(crate) struct FileUpload {
    pub upload: TempUpload,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
}

/// Stores the spooled file as it is and describes it for the use case. On error the temp
/// file is gone (the storage removes it whatever the outcome).
pub(crate) async fn store_file(media: &MediaState, file: FileUpload) -> ApiResult<FileInput> {
    let name = FileName::sanitize(&decode_form_escapes(file.file_name.as_deref().unwrap_or_default()));
    let content_type = normalize_content_type(file.content_type.as_deref());
    // The raw storage, not the optimizer: nothing here is an image to re-encode.
    let stored = media
        .storage
        .put(PutSource::File(file.upload), PutOptions::new(MediaPurpose::Message))
        .await
        .map_err(media_error)?;
    Ok(FileInput {
        media_name: stored.name.as_str().to_owned(),
        file_name: name.into_string(),
        content_type,
        size_bytes: stored.size,
    })
}

/// Browsers write a form part's `filename` with `"`, CR and LF as `%22`, `%0D`, `%0A` (the
/// WHATWG form encoding); those three are turned back, so a quote in a name survives (the
/// control characters are then dropped by the cleaning).
fn decode_form_escapes(raw: &str) -> String {
    raw.replace("%22", "\"").replace("%0D", "\r").replace("%0A", "\n")
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`: the
/// fallback for old clients has every character outside printable ASCII, and `"`, `\`, `%`, `/`, as
/// `_`; `filename*` (RFC 8187) carries the name exactly, every byte outside `attr-char`
/// percent-encoded, so no quote, semicolon or line break can end the header's value early.
pub(crate) fn attachment_disposition(file_name: &str) -> HeaderValue {
    let fallback: String = file_name
        .chars()
        .map(|c| if (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%' | '/')) || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::with_capacity(file_name.len() * 3);
    for byte in file_name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let value = format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}");
    // Only printable ASCII went in, so this cannot fail; a bare `attachment` if it did.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_name_is_encoded_so_nothing_escapes_the_header() {
        let header = attachment_disposition("../a \"b\"; c=d\\é.txt");
        assert_eq!(
            header.to_str().unwrap(),
            "attachment; filename=\".._a _b_; c=d__.txt\"; filename*=UTF-8''..%2Fa%20%22b%22%3B%20c%3Dd%5C%C3%A9.txt"
        );
        assert_eq!(
            attachment_disposition("report.pdf").to_str().unwrap(),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
    }

    #[test]
    fn form_escapes_of_quotes_and_line_breaks_are_undone() {
        assert_eq!(decode_form_escapes("a%22b%22.txt"), "a\"b\".txt");
        assert_eq!(FileName::sanitize(&decode_form_escapes("x%0D%0Ay.txt")).as_str(), "xy.txt");
    }
}
