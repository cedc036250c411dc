//! `GET /api/search`: full text over every message the caller may see, newest first, with
//! a snippet of each. The store applies who may see what (`ports::Search`); this file holds
//! what a valid search is and how results are shown.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, SearchQuery, StoreError};
use crate::search;
use hubbub_domain::{ConversationId, Message, MessageStatus, Timestamp, UserId};
use std::collections::HashMap;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 50;
/// Characters of a query, after trimming.
pub const MAX_QUERY_CHARS: usize = 200;

/// A search as the client asked for it, unparsed: every problem is a 400 naming the
/// parameter (`AppError::BadParameter`).
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    pub q: Option<&'a str>,
    pub conversation_id: Option<ConversationId>,
    pub sender_id: Option<UserId>,
    pub after: Option<&'a str>,
    pub before: Option<&'a str>,
    pub has: Option<&'a str>,
    pub limit: Option<u32>,
    pub cursor: Option<&'a str>,
}

pub struct Hit {
    pub message: Message,
    pub conversation_id: ConversationId,
    /// The text HTML-escaped, matched words in `<mark>`.
    pub snippet: String,
}

pub struct Results {
    pub hits: Vec<Hit>,
    /// Give it back as `cursor` for the next (older) page; `None` at the end.
    pub next_cursor: Option<String>,
}

fn time(field: &'static str, value: Option<&str>) -> AppResult<Option<Timestamp>> {
    value
        .map(|text| {
            Timestamp::parse_rfc3339(text.trim())
                .ok_or_else(|| AppError::bad_parameter(field, "must be an RFC 3339 time"))
        })
        .transpose()
}

/// What a valid request searches for.
pub fn parse(actor: Actor, request: &Request<'_>) -> AppResult<SearchQuery> {
    let q = request.q.unwrap_or("").trim();
    if q.is_empty() {
        return Err(AppError::bad_parameter("q", "must not be empty"));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::bad_parameter("q", format!("must be at most {MAX_QUERY_CHARS} characters")));
    }
    let limit = match request.limit {
        None => DEFAULT_LIMIT,
        Some(0) => return Err(AppError::bad_parameter("limit", "must be at least 1")),
        Some(n) => n.min(MAX_LIMIT),
    };
    let has_photo = match request.has {
        None | Some("") => false,
        Some("photo") => true,
        Some(_) => return Err(AppError::bad_parameter("has", "the only value is photo")),
    };
    let cursor = match request.cursor {
        None | Some("") => None,
        Some(text) => {
            Some(search::decode_cursor(text).ok_or_else(|| AppError::bad_parameter("cursor", "not a cursor of ours"))?)
        }
    };
    let after = time("after", request.after)?;
    let before = time("before", request.before)?;
    Ok(SearchQuery {
        viewer: actor.user_id,
        terms: search::terms(q),
        conversation: request.conversation_id,
        sender: request.sender_id,
        after,
        before,
        has_photo,
        cursor,
        limit,
    })
}

pub async fn search(app: &App, actor: Actor, request: Request<'_>) -> AppResult<Results> {
    let query = parse(actor, &request)?;
    // A query of punctuation only has no word to look for.
    if query.terms.is_empty() {
        return Ok(Results { hits: Vec::new(), next_cursor: None });
    }
    let page = app.store.search_messages(&query).await.map_err(|e| match e {
        StoreError::UnknownReference("cursor") => AppError::bad_parameter("cursor", "names no message"),
        other => other.into(),
    })?;
    let mut views = HashMap::new();
    let mut hits = Vec::with_capacity(page.messages.len());
    for mut message in page.messages {
        // The caller's own messages carry their status, as in history.
        if message.sender_id == actor.user_id {
            let id = message.conversation_id;
            let view = match views.entry(id) {
                std::collections::hash_map::Entry::Occupied(seen) => seen.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(app.store.conversation(actor.user_id, id).await?)
                }
            };
            message.status = Some(match view {
                Some(view) => MessageStatus::for_seq(message.seq, view.others_min_delivered, view.others_min_read),
                None => MessageStatus::Sent,
            });
        }
        let snippet = search::snippet(&message.text, &query.terms);
        hits.push(Hit { conversation_id: message.conversation_id, snippet, message });
    }
    Ok(Results { hits, next_cursor: page.next.map(search::encode_cursor) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::SessionId;
    use uuid::Uuid;

    fn actor() -> Actor {
        Actor { user_id: UserId(Uuid::now_v7()), session_id: SessionId(Uuid::now_v7()) }
    }

    fn field(request: Request<'_>) -> &'static str {
        match parse(actor(), &request) {
            Err(AppError::BadParameter { field, .. }) => field,
            other => panic!("expected a bad parameter, got {:?}", other.map(|q| q.terms)),
        }
    }

    #[test]
    fn bad_input_names_its_parameter() {
        assert_eq!(field(Request::default()), "q");
        assert_eq!(field(Request { q: Some("   "), ..Default::default() }), "q");
        let long = "x".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(field(Request { q: Some(&long), ..Default::default() }), "q");
        let q = Some("hello");
        assert_eq!(field(Request { q, limit: Some(0), ..Default::default() }), "limit");
        assert_eq!(field(Request { q, has: Some("video"), ..Default::default() }), "has");
        assert_eq!(field(Request { q, cursor: Some("nope!"), ..Default::default() }), "cursor");
        assert_eq!(field(Request { q, after: Some("yesterday"), ..Default::default() }), "after");
        assert_eq!(field(Request { q, before: Some("2026-13-01T00:00:00Z"), ..Default::default() }), "before");
    }

    #[test]
    fn a_valid_request_is_folded_and_bounded() {
        let exact = "é".repeat(MAX_QUERY_CHARS);
        assert!(parse(actor(), &Request { q: Some(&exact), ..Default::default() }).is_ok(), "characters, not bytes");
        let query = parse(
            actor(),
            &Request {
                q: Some(" Café  hel "),
                has: Some("photo"),
                limit: Some(500),
                after: Some("2026-01-01T00:00:00+01:00"),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(query.terms, vec!["cafe", "hel"]);
        assert_eq!((query.limit, query.has_photo), (MAX_LIMIT, true));
        assert_eq!(query.after, Timestamp::parse_rfc3339("2025-12-31T23:00:00Z"));
        assert_eq!(parse(actor(), &Request { q: Some("x"), ..Default::default() }).unwrap().limit, DEFAULT_LIMIT);
    }
}
