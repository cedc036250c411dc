//! File attachments: the name a file is shown and downloaded under, and the content type it
//! may be served with.
//!
//! A file's bytes are never looked at (unlike a photo, nothing decodes them), so everything
//! the client says about them is only a label: the name is cleaned of what could escape a
//! directory or fool a terminal, and the declared type is normalised and, when served, only
//! trusted if it is one a browser cannot run (HTML, SVG, JavaScript, XML all become
//! `application/octet-stream`).

use crate::values::ValidationError;

/// The longest name kept, in bytes (what most file systems allow for one component).
pub const FILE_NAME_MAX_BYTES: usize = 255;
/// The name given to a file whose name was nothing but what cleaning removes.
pub const FALLBACK_FILE_NAME: &str = "file";
/// What a file of unknown or unsafe type is served as.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// A file's display name, cleaned: the last path component only (both `/` and `\` are
/// separators, since uploads come from every OS), no control or bidirectional-override
/// characters, no leading/trailing white space or dots, at most 255 bytes (cut on a
/// character boundary). Unicode, quotes and spaces inside are kept: this is what people see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    /// Cleans a client-supplied name; never fails (a name that cleans to nothing is `file`).
    pub fn sanitize(raw: &str) -> FileName {
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        let cleaned: String = last.chars().filter(|c| !c.is_control() && !is_format_trick(*c)).collect();
        let trimmed = cleaned.trim().trim_matches('.').trim();
        let mut name = String::with_capacity(trimmed.len().min(FILE_NAME_MAX_BYTES));
        for c in trimmed.chars() {
            if name.len() + c.len_utf8() > FILE_NAME_MAX_BYTES {
                break;
            }
            name.push(c);
        }
        let name = name.trim_end().to_owned();
        if name.is_empty() { FileName(FALLBACK_FILE_NAME.to_owned()) } else { FileName(name) }
    }

    /// A name read back from the database, cleaned when it was stored.
    pub fn from_stored(name: String) -> FileName {
        FileName(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Characters that change how the rest of a name is displayed (right-to-left overrides
/// make `evil\u{202e}gpj.exe` look like `evilexe.jpg`), and zero-width ones.
fn is_format_trick(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// The declared type, normalised: lower case, parameters dropped, `type/subtype` of RFC 6838
/// token characters, at most 127 bytes; anything else (or nothing) is
/// `application/octet-stream`. The result is a label, safe to store and show, not a promise
/// about the bytes.
pub fn normalize_content_type(declared: Option<&str>) -> String {
    let Some(declared) = declared else { return OCTET_STREAM.to_owned() };
    let essence = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b));
    match essence.split_once('/') {
        Some((kind, sub)) if essence.len() <= 127 && token(kind) && token(sub) => essence,
        _ => OCTET_STREAM.to_owned(),
    }
}

/// The `Content-Type` a file is served with: its (normalised) declared type when that is
/// one no browser renders as a document or runs, else `application/octet-stream`. An
/// allow-list, so an unknown type can never be the one that turns out to be active.
pub fn served_content_type(stored: &str) -> &'static str {
    const SAFE: &[&str] = &[
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-7z-compressed",
        "application/x-tar",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/webm",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/csv",
        "text/plain",
        "video/mp4",
        "video/webm",
    ];
    SAFE.iter().copied().find(|safe| *safe == stored).unwrap_or(OCTET_STREAM)
}

/// A message carries a photo or a file, never both.
pub fn one_attachment(has_photo: bool, has_file: bool) -> Result<(), ValidationError> {
    if has_photo && has_file {
        Err(ValidationError::new("file", "a message has a photo or a file, not both"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_paths_controls_and_tricks_and_keep_the_rest() {
        let clean = |raw: &str| FileName::sanitize(raw).into_string();
        assert_eq!(clean("../../etc/passwd"), "passwd");
        assert_eq!(clean("C:\\Users\\me\\report \"final\".pdf"), "report \"final\".pdf");
        assert_eq!(clean("naïve résumé 📄.txt"), "naïve résumé 📄.txt");
        assert_eq!(clean("a\u{0}b\r\nc.txt"), "abc.txt");
        assert_eq!(clean("evil\u{202e}gpj.exe"), "evilgpj.exe");
        assert_eq!(clean(".."), FALLBACK_FILE_NAME);
        assert_eq!(clean("dir/"), FALLBACK_FILE_NAME);
        assert_eq!(clean("  .hidden  "), "hidden");
        assert_eq!(clean(""), FALLBACK_FILE_NAME);
    }

    #[test]
    fn long_names_are_cut_to_255_bytes_on_a_character_boundary() {
        let name = FileName::sanitize(&"é".repeat(200)).into_string();
        assert_eq!(name.len(), 254);
        assert!(name.chars().all(|c| c == 'é'));
        assert_eq!(FileName::sanitize(&"a".repeat(300)).as_str().len(), 255);
    }

    #[test]
    fn declared_types_are_labels_and_only_safe_ones_are_served() {
        assert_eq!(normalize_content_type(Some("Text/Plain; charset=utf-8")), "text/plain");
        assert_eq!(normalize_content_type(Some("nonsense")), OCTET_STREAM);
        assert_eq!(normalize_content_type(Some("text/html\r\nX-Evil: 1")), OCTET_STREAM);
        assert_eq!(normalize_content_type(None), OCTET_STREAM);
        assert_eq!(served_content_type("application/pdf"), "application/pdf");
        for active in ["text/html", "image/svg+xml", "application/javascript", "text/xml", "application/xhtml+xml"] {
            assert_eq!(served_content_type(active), OCTET_STREAM, "{active}");
        }
    }

    #[test]
    fn a_photo_or_a_file_not_both() {
        assert!(one_attachment(true, false).is_ok());
        assert!(one_attachment(false, true).is_ok());
        assert!(one_attachment(false, false).is_ok());
        assert_eq!(one_attachment(true, true).unwrap_err().field, "file");
    }
}
