//! The text side of search, shared by the use case and both store adapters: how a text is
//! cut into words and each word folded (lower case, diacritics removed: what SQLite's
//! `unicode61 remove_diacritics 2` and PostgreSQL's `unaccent` + `simple` do to the index),
//! the snippet with the matched words marked, and the opaque page cursor.

use crate::ports::SearchCursor;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hubbub_domain::{MessageId, Timestamp};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use uuid::Uuid;

/// At most this many words of a query are used (the rest are ignored): each one is a
/// prefix scan of the index.
pub const MAX_TERMS: usize = 8;

/// About how many characters a snippet shows.
pub const SNIPPET_CHARS: usize = 160;

/// One word folded for matching: decomposed, combining marks dropped, lower-cased.
pub fn fold(word: &str) -> String {
    word.nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// The words of a text (runs of letters and digits), with their byte ranges.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(move |w| {
        // `split` hands out subslices of `text`, so the offset is their distance.
        (w.as_ptr() as usize - text.as_ptr() as usize, w)
    })
}

/// The folded words of a query, de-duplicated, at most `MAX_TERMS`; empty when it has no
/// letter or digit at all.
pub fn terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, word) in words(query) {
        let folded = fold(word);
        if !folded.is_empty() && !out.contains(&folded) {
            out.push(folded);
        }
        if out.len() == MAX_TERMS {
            break;
        }
    }
    out
}

/// The FTS5 query for `terms`: each term a quoted prefix (`"hel"*`), all required. Terms
/// hold only letters and digits, but quotes are doubled anyway so no term can be syntax.
pub fn fts5_query(terms: &[String]) -> String {
    terms.iter().map(|t| format!("\"{}\"*", t.replace('"', "\"\""))).collect::<Vec<_>>().join(" ")
}

/// The `to_tsquery('simple', ...)` text for `terms`: each term a quoted prefix lexeme
/// (`'hel':*`), all required (`&`); quotes and backslashes escaped as tsquery wants.
pub fn tsquery(terms: &[String]) -> String {
    terms.iter().map(|t| format!("'{}':*", t.replace('\\', "\\\\").replace('\'', "''"))).collect::<Vec<_>>().join(" & ")
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// The text HTML-escaped with every word that starts with a term (folded, so `cafe`
/// marks `Café`) wrapped in `<mark>…</mark>`, cut to about `SNIPPET_CHARS` characters
/// around the first match (an ellipsis where it was cut).
pub fn snippet(text: &str, terms: &[String]) -> String {
    let matched: Vec<(usize, usize)> = words(text)
        .filter(|(_, w)| {
            let folded = fold(w);
            terms.iter().any(|t| folded.starts_with(t.as_str()))
        })
        .map(|(start, w)| (start, start + w.len()))
        .collect();
    let (from, to) = window(text, matched.first().map(|m| m.0));
    let mut out = String::with_capacity(to - from + 32);
    if from > 0 {
        out.push('…');
    }
    let mut at = from;
    for &(start, end) in matched.iter().filter(|(s, e)| *s >= from && *e <= to) {
        escape_into(&mut out, &text[at..start]);
        out.push_str("<mark>");
        escape_into(&mut out, &text[start..end]);
        out.push_str("</mark>");
        at = end;
    }
    escape_into(&mut out, &text[at..to]);
    if to < text.len() {
        out.push('…');
    }
    out
}

/// The byte range to show: the whole text when short, else `SNIPPET_CHARS` characters
/// starting a quarter of the way before the first match, moved to word boundaries.
fn window(text: &str, first: Option<usize>) -> (usize, usize) {
    let chars: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    if chars.len() <= SNIPPET_CHARS {
        return (0, text.len());
    }
    let first_char = first.map(|b| chars.partition_point(|&i| i < b)).unwrap_or(0);
    let mut start = first_char.saturating_sub(SNIPPET_CHARS / 4).min(chars.len() - SNIPPET_CHARS);
    // Start on a word: back to after the previous space, if one is near.
    while start > 0
        && start > first_char.saturating_sub(SNIPPET_CHARS / 3)
        && !text[chars[start - 1]..].starts_with(char::is_whitespace)
    {
        start -= 1;
    }
    let end_char = (start + SNIPPET_CHARS).min(chars.len());
    let mut end = end_char;
    // End after a word: forward to the next space, if one is near.
    while end < chars.len() && end < end_char + 20 && !text[chars[end]..].starts_with(char::is_whitespace) {
        end += 1;
    }
    let to = if end >= chars.len() { text.len() } else { chars[end] };
    (chars[start], to)
}

/// The cursor as clients see it: base64url of `<created_at millis>.<message uuid>`.
pub fn encode_cursor(cursor: SearchCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", cursor.created_at.millis(), cursor.message.0))
}

/// A cursor this server gave out, or `None` for anything else.
pub fn decode_cursor(text: &str) -> Option<SearchCursor> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (millis, id) = text.split_once('.')?;
    Some(SearchCursor {
        created_at: Timestamp::from_millis(millis.parse().ok()?),
        message: MessageId(Uuid::parse_str(id).ok()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(q: &str) -> Vec<String> {
        terms(q)
    }

    #[test]
    fn terms_are_folded_words() {
        assert_eq!(t("  Café, CRÈME-brûlée! "), vec!["cafe", "creme", "brulee"]);
        assert_eq!(t("hello hello HELLO"), vec!["hello"]);
        assert!(t(" -- !! ").is_empty());
        assert_eq!(t("a b c d e f g h i j").len(), MAX_TERMS);
        assert_eq!(t("naïve Ångström"), vec!["naive", "angstrom"]);
    }

    #[test]
    fn queries_quote_every_term_as_a_prefix() {
        let terms = vec!["hel".to_string(), "wo\"r'ld".to_string()];
        assert_eq!(fts5_query(&terms), "\"hel\"* \"wo\"\"r'ld\"*");
        assert_eq!(tsquery(&terms), "'hel':* & 'wo\"r''ld':*");
    }

    #[test]
    fn snippets_escape_the_text_and_mark_prefix_and_diacritic_matches() {
        let terms = t("hel cafe");
        assert_eq!(
            snippet("<b>Hello</b> & welcome to the Café", &terms),
            "&lt;b&gt;<mark>Hello</mark>&lt;/b&gt; &amp; welcome to the <mark>Café</mark>"
        );
        assert_eq!(snippet("nothing here", &terms), "nothing here");
        assert_eq!(snippet("shell", &terms), "shell", "a match is a word's prefix, not any part of it");
    }

    #[test]
    fn long_texts_are_cut_around_the_first_match() {
        let text = format!("{} needle {}", "lorem ipsum ".repeat(40), "dolor sit ".repeat(40));
        let s = snippet(&text, &t("needle"));
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>needle</mark>"));
        let shown = s.replace("<mark>", "").replace("</mark>", "");
        assert!(shown.chars().count() <= SNIPPET_CHARS + 24, "{}", shown.chars().count());
        let at = shown.find("needle").unwrap();
        assert!(at > 10, "some text before the match is shown");
        // No match: the start of the text.
        assert!(snippet(&text, &t("zzz")).starts_with("lorem"));
    }

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let cursor =
            SearchCursor { created_at: Timestamp::from_millis(1_700_000_000_123), message: MessageId(Uuid::now_v7()) };
        assert_eq!(decode_cursor(&encode_cursor(cursor)), Some(cursor));
        for junk in ["", "!!!", "bm9wZQ", &URL_SAFE_NO_PAD.encode("12.nope"), &URL_SAFE_NO_PAD.encode("x.0190")] {
            assert_eq!(decode_cursor(junk), None, "{junk}");
        }
    }
}
