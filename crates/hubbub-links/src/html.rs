//! A small scanner for what a preview needs from a page's HTML: `<title>` and the `<meta>`
//! tags' `property`/`name` and `content`. It builds no tree and runs no script; whatever it
//! cannot make sense of it skips.

/// What a page says about itself.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PageMeta {
    pub title: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    /// As written in the page (possibly relative).
    pub image: Option<String>,
}

const TITLE_MAX: usize = 300;
const DESCRIPTION_MAX: usize = 1000;
const SITE_NAME_MAX: usize = 100;
const IMAGE_URL_MAX: usize = 2048;

pub fn parse(html: &str) -> PageMeta {
    let mut og_title = None;
    let mut og_description = None;
    let mut description = None;
    let mut site_name = None;
    let mut image = None;
    let mut title = None;
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(found) = lower[at..].find('<') {
        let start = at + found;
        let rest = &lower[start + 1..];
        if rest.starts_with("!--") {
            at = lower[start..].find("-->").map_or(lower.len(), |end| start + end + 3);
            continue;
        }
        let end = match tag_end(&lower, start) {
            Some(end) => end,
            None => break,
        };
        if is_tag(rest, "meta") {
            let attrs = attributes(&html[start + 5..end]);
            let get = |name: &str| attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
            if let Some(content) = get("content") {
                let mut ignored = None;
                let key = get("property").or_else(|| get("name")).unwrap_or("").to_ascii_lowercase();
                let slot = match key.as_str() {
                    "og:title" | "twitter:title" => &mut og_title,
                    "og:description" | "twitter:description" => &mut og_description,
                    "description" => &mut description,
                    "og:site_name" => &mut site_name,
                    "og:image" | "og:image:url" | "og:image:secure_url" | "twitter:image" => &mut image,
                    _ => &mut ignored,
                };
                if slot.is_none() {
                    *slot = Some(content.to_owned());
                }
            }
        } else if is_tag(rest, "title") && title.is_none() {
            let text_start = end + 1;
            if let Some(close) = lower[text_start..].find("</title") {
                title = Some(html[text_start..text_start + close].to_owned());
            }
        } else if is_tag(rest, "script") || is_tag(rest, "style") {
            // Their text is not markup: skip to the closing tag.
            let name = if is_tag(rest, "script") { "</script" } else { "</style" };
            at = lower[end..].find(name).map_or(lower.len(), |close| end + close);
            continue;
        }
        at = end + 1;
    }
    PageMeta {
        title: clean(og_title.or(title), TITLE_MAX),
        description: clean(og_description.or(description), DESCRIPTION_MAX),
        site_name: clean(site_name, SITE_NAME_MAX),
        image: clean(image, IMAGE_URL_MAX),
    }
}

fn is_tag(rest: &str, name: &str) -> bool {
    rest.starts_with(name) && rest[name.len()..].starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
}

/// The `>` closing the tag that opens at `start`, outside quoted attribute values.
fn tag_end(lower: &str, start: usize) -> Option<usize> {
    let mut quote = None;
    for (i, c) in lower[start..].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(start + i),
            _ => {}
        }
    }
    None
}

/// `key=value` pairs of a tag's inside (keys lowercased, values decoded).
fn attributes(inside: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = inside.char_indices().peekable();
    let bytes = inside;
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() || c == '/' {
            chars.next();
            continue;
        }
        let key_start = i;
        while chars.peek().is_some_and(|&(_, c)| !c.is_whitespace() && c != '=' && c != '/') {
            chars.next();
        }
        let key_end = chars.peek().map_or(bytes.len(), |&(j, _)| j);
        let key = bytes[key_start..key_end].to_ascii_lowercase();
        while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none_or(|&(_, c)| c != '=') {
            out.push((key, String::new()));
            continue;
        }
        chars.next();
        while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let value = match chars.peek() {
            Some(&(j, q)) if q == '"' || q == '\'' => {
                chars.next();
                let mut end = bytes.len();
                for (k, c) in chars.by_ref() {
                    if c == q {
                        end = k;
                        break;
                    }
                }
                &bytes[j + 1..end]
            }
            Some(&(j, _)) => {
                let mut end = bytes.len();
                while let Some(&(k, c)) = chars.peek() {
                    if c.is_whitespace() {
                        end = k;
                        break;
                    }
                    chars.next();
                }
                &bytes[j..end]
            }
            None => "",
        };
        out.push((key, decode_entities(value)));
    }
    out
}

/// Entities decoded, whitespace collapsed, trimmed, cut to `max` characters; `None` if empty.
fn clean(text: Option<String>, max: usize) -> Option<String> {
    let decoded = decode_entities(&text?);
    let collapsed = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = collapsed.chars().filter(|c| !c.is_control()).take(max).collect();
    (!cut.is_empty()).then_some(cut)
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity_end = rest[1..].find(';').map(|i| i + 1).filter(|&i| i <= 10);
        let decoded = entity_end.and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ if name.starts_with("#x") || name.starts_with("#X") => {
                    u32::from_str_radix(&name[2..], 16).ok().and_then(char::from_u32)
                }
                _ if name.starts_with('#') => name[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_graph_tags_win_over_title_and_description() {
        let page = r#"<!doctype html><html><head><title>Plain title</title>
            <meta name="description" content="plain description">
            <meta property="og:title" content="The &amp; OG title">
            <META PROPERTY='og:description' CONTENT='OG   description'>
            <meta property="og:site_name" content=Example>
            <meta property="og:image" content="/img/a.png" />
            </head><body></body></html>"#;
        assert_eq!(
            parse(page),
            PageMeta {
                title: Some("The & OG title".into()),
                description: Some("OG description".into()),
                site_name: Some("Example".into()),
                image: Some("/img/a.png".into()),
            }
        );
    }

    #[test]
    fn title_and_description_without_open_graph() {
        let page =
            "<html><head><title>\n  Hello &#8212; world </title><meta content=\"d\" name=\"description\"></head>";
        let meta = parse(page);
        assert_eq!(meta.title.as_deref(), Some("Hello \u{2014} world"));
        assert_eq!(meta.description.as_deref(), Some("d"));
        assert_eq!(meta.image, None);
    }

    #[test]
    fn scripts_comments_and_garbage_are_skipped() {
        let page = "<script>var s = '<meta property=\"og:title\" content=\"no\">';</script>\
            <!-- <title>no</title> --><title>yes</title><meta property=\"og:image\" content=\"x\"<<<";
        let meta = parse(page);
        assert_eq!(meta.title.as_deref(), Some("yes"));
        assert_eq!(parse("<<<>>><meta"), PageMeta::default());
        assert_eq!(parse("<title>never closed"), PageMeta::default());
        assert_eq!(parse("<title>  </title>").title, None);
    }

    #[test]
    fn long_texts_are_cut() {
        let page = format!("<title>{}</title>", "é".repeat(1000));
        assert_eq!(parse(&page).title.unwrap().chars().count(), TITLE_MAX);
    }
}
