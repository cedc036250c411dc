//! A page's text from its bytes, in the encoding the page declares: the `charset` of its
//! `Content-Type` first, then a byte-order mark, then a `<meta charset>` (or `http-equiv`)
//! in its first 1,024 bytes, the places and order a browser looks (WHATWG encoding
//! sniffing, without the guess from content). A page that declares nothing is read as
//! UTF-8, the web's default today; bytes that do not decode become U+FFFD, never an error.

use encoding_rs::{Encoding, UTF_8};

/// How far into the page a `<meta>` declaration is looked for (as browsers do).
const PRESCAN: usize = 1024;

pub fn decode(body: &[u8], content_type: Option<&str>) -> String {
    let declared = content_type.and_then(charset_param).and_then(|label| Encoding::for_label(label.as_bytes()));
    let encoding = declared
        .or_else(|| Encoding::for_bom(body).map(|(encoding, _)| encoding))
        .or_else(|| meta_charset(&body[..body.len().min(PRESCAN)]))
        .unwrap_or(UTF_8);
    // `decode` also strips a BOM and lets it override a declaration, as browsers do.
    encoding.decode(body).0.into_owned()
}

/// The `charset` parameter of a media type (`text/html; charset="ISO-8859-1"`).
fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim().eq_ignore_ascii_case("charset").then(|| value.trim().trim_matches(['"', '\'']).to_owned())
    })
}

/// The encoding named by `charset=` inside a `<meta` tag of the first bytes. The bytes are
/// scanned as ASCII (every encoding a page may declare this way is ASCII-compatible).
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let text: String = head.iter().map(|&b| if b.is_ascii() { b.to_ascii_lowercase() as char } else { ' ' }).collect();
    let mut at = 0;
    while let Some(found) = text[at..].find("<meta") {
        let start = at + found;
        let end = text[start..].find('>').map_or(text.len(), |e| start + e);
        let tag = &text[start..end];
        if let Some(position) = tag.find("charset") {
            let rest = tag[position + "charset".len()..].trim_start();
            if let Some(value) = rest.strip_prefix('=') {
                let label: String = value
                    .trim_start()
                    .trim_start_matches(['"', '\''])
                    .chars()
                    .take_while(|c| !matches!(c, '"' | '\'' | ';' | ' ' | '/' | '>'))
                    .collect();
                if let Some(encoding) = Encoding::for_label(label.as_bytes()) {
                    return Some(encoding);
                }
            }
        }
        at = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn the_header_charset_decodes_latin1() {
        let body = b"<title>Caf\xe9 cr\xe8me</title>";
        assert_eq!(decode(body, Some("text/html; charset=ISO-8859-1")), "<title>Café crème</title>");
        assert_eq!(decode(body, Some("text/html; Charset=\"windows-1252\"")), "<title>Café crème</title>");
    }

    #[test]
    fn a_meta_charset_is_found_in_the_first_bytes() {
        let page = b"<html><head><meta charset=\"windows-1252\"><title>\x93quoted\x94</title>";
        assert_eq!(
            decode(page, Some("text/html")),
            "<html><head><meta charset=\"windows-1252\"><title>\u{201c}quoted\u{201d}</title>"
        );
        let page =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"><title>na\xefve</title>";
        assert!(decode(page, None).ends_with("<title>naïve</title>"));
    }

    #[test]
    fn the_header_wins_over_the_meta_and_utf8_is_the_default() {
        let page = "<meta charset=\"iso-8859-1\"><title>Café</title>".as_bytes();
        assert!(decode(page, Some("text/html; charset=utf-8")).ends_with("<title>Café</title>"));
        assert_eq!(decode("<title>日本</title>".as_bytes(), Some("text/html")), "<title>日本</title>");
        // Bytes that are not UTF-8 in an undeclared page become U+FFFD, not an error.
        assert_eq!(decode(b"<title>\xff</title>", None), "<title>\u{fffd}</title>");
    }

    #[test]
    fn a_byte_order_mark_decodes_utf16() {
        let mut page = vec![0xff, 0xfe];
        for unit in "<title>é</title>".encode_utf16() {
            page.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode(&page, None), "<title>é</title>");
    }
}
