//! The search port: full text over the messages a viewer may see, one adapter per
//! database (SQLite FTS5, PostgreSQL `tsvector`). `Store: Search`, so `App::store` serves it
//! and both adapters run the same contract tests (`tests/it/contract/search.rs`).

use super::*;

/// One search, as the use case validated it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// Who searches: only what they may see is found (their membership windows, former
    /// ones included, after what they cleared; no deleted message or conversation).
    pub viewer: UserId,
    /// The words, already normalised by `crate::search::terms` (lower case, diacritics
    /// removed, letters and digits only); each must match a word of the text by prefix.
    /// Never empty.
    pub terms: Vec<String>,
    pub conversation: Option<ConversationId>,
    pub sender: Option<UserId>,
    /// Created at or after this time.
    pub after: Option<Timestamp>,
    /// Created strictly before this time.
    pub before: Option<Timestamp>,
    /// Only messages with a photo.
    pub has_photo: bool,
    /// Only messages older than the last one of the previous page.
    pub cursor: Option<SearchCursor>,
    pub limit: u32,
}

/// Where a page of results ends: the last message given (newest first, so the next page is
/// everything older). Opaque to clients (`crate::search::encode_cursor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchCursor {
    pub created_at: Timestamp,
    pub message: MessageId,
}

/// A page of results, newest first, and where the next one starts (`None`: no more).
#[derive(Clone, Debug)]
pub struct SearchPage {
    pub messages: Vec<Message>,
    pub next: Option<SearchCursor>,
}

#[async_trait]
pub trait Search: Send + Sync {
    /// The messages matching every term, newest first, at most `limit`. A cursor naming a
    /// message that does not exist is `StoreError::UnknownReference("cursor")`.
    async fn search_messages(&self, query: &SearchQuery) -> StoreResult<SearchPage>;
}
