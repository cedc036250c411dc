//! Search's one query, written once for both adapters: which messages a viewer may see
//! (the rule history paging applies: after `MAX(joined_seq, cleared_seq)`, up to `left_seq`
//! for a former member; no deleted message, no deleted conversation), the filters and the
//! page bound. Only the full-text match differs (FTS5 `MATCH` on SQLite, a `tsvector` on
//! PostgreSQL) and the spelling of placeholders and `GREATEST`.

use hubbub_app::ports::SearchQuery;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A value bound to the query, in placeholder order.
#[derive(Clone, Debug)]
pub(crate) enum Bind {
    Int(i64),
    Text(String),
    Uuid(Uuid),
}

pub(crate) struct Built {
    pub sql: String,
    pub binds: Vec<Bind>,
}

struct Builder {
    dialect: Dialect,
    binds: Vec<Bind>,
}

impl Builder {
    /// Binds `value` and returns its placeholder.
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        match self.dialect {
            Dialect::Sqlite => format!("?{}", self.binds.len()),
            Dialect::Postgres => format!("${}", self.binds.len()),
        }
    }
}

/// The condition that `viewer` (a user key, as a placeholder) may see message `m` of
/// conversation `c`: the same window `rules::history::events_window` gives history paging.
pub(crate) fn visible_to(dialect: Dialect, viewer: &str) -> String {
    let greatest = match dialect {
        Dialect::Sqlite => "MAX",
        Dialect::Postgres => "GREATEST",
    };
    format!(
        "c.deleted_at IS NULL AND m.deleted_at IS NULL
         AND EXISTS (SELECT 1 FROM members mb WHERE mb.conversation_id = m.conversation_id AND mb.user_id = {viewer}
                     AND m.seq > {greatest}(mb.joined_seq, mb.cleared_seq)
                     AND (mb.left_seq IS NULL OR m.seq <= mb.left_seq))"
    )
}

/// The keys of up to `query.limit + 1` matching messages, newest first (by key: the order
/// they were stored in). `viewer` and `before` are keys the adapter looked up; `tenant`
/// scopes the sender filter.
pub(crate) fn matching_keys(
    dialect: Dialect,
    query: &SearchQuery,
    tenant: i64,
    viewer: i64,
    before: Option<i64>,
) -> Built {
    let mut b = Builder { dialect, binds: Vec::new() };
    let terms = match dialect {
        Dialect::Sqlite => hubbub_app::search::fts5_query(&query.terms),
        Dialect::Postgres => hubbub_app::search::tsquery(&query.terms),
    };
    let terms = b.bind(Bind::Text(terms));
    // SQLite: the FTS table drives the loop (CROSS JOIN keeps it outermost), read newest
    // first, so a page stops after its first visible matches.
    let (from, matched, key) = match dialect {
        Dialect::Sqlite => (
            "messages_fts CROSS JOIN messages m ON m.id = messages_fts.rowid".to_owned(),
            format!("messages_fts MATCH {terms}"),
            "messages_fts.rowid",
        ),
        Dialect::Postgres => (
            "messages m".to_owned(),
            format!("m.search_vector @@ to_tsquery('simple', unaccent('unaccent'::regdictionary, {terms}))"),
            "m.id",
        ),
    };
    let viewer = b.bind(Bind::Int(viewer));
    let mut conditions = vec![matched, visible_to(dialect, &viewer)];
    if let Some(conversation) = query.conversation {
        conditions.push(format!("c.uuid = {}", b.bind(Bind::Uuid(conversation.0))));
    }
    if let Some(sender) = query.sender {
        let sender = b.bind(Bind::Uuid(sender.0));
        let tenant = b.bind(Bind::Int(tenant));
        conditions.push(format!("m.sender_id = (SELECT id FROM users WHERE uuid = {sender} AND tenant_id = {tenant})"));
    }
    if let Some(after) = query.after {
        conditions.push(format!("m.created_at >= {}", b.bind(Bind::Int(after.millis()))));
    }
    if let Some(before) = query.before {
        conditions.push(format!("m.created_at < {}", b.bind(Bind::Int(before.millis()))));
    }
    if query.has_photo {
        conditions.push("m.photo_name IS NOT NULL".to_owned());
    }
    if let Some(before) = before {
        conditions.push(format!("{key} < {}", b.bind(Bind::Int(before))));
    }
    let limit = b.bind(Bind::Int(query.limit as i64 + 1));
    let sql = format!(
        "SELECT m.id FROM {from} JOIN conversations c ON c.id = m.conversation_id
         WHERE {} ORDER BY {key} DESC LIMIT {limit}",
        conditions.join("\n AND ")
    );
    Built { sql, binds: b.binds }
}

/// The page the adapter returns from the messages it loaded (in key order, newest first)
/// when it asked for `limit + 1`.
pub(crate) fn page(mut messages: Vec<hubbub_domain::Message>, limit: u32) -> hubbub_app::ports::SearchPage {
    let more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    let next = if more {
        messages.last().map(|m| hubbub_app::ports::SearchCursor { created_at: m.created_at, message: m.id })
    } else {
        None
    };
    hubbub_app::ports::SearchPage { messages, next }
}
