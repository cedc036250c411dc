use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use hubbub_domain::{Message, MessageId};

pub const DEFAULT_PAGE: u32 = 50;

pub struct Page {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

/// Recent messages of others that mention the caller (by name, or `@all`), newest first,
/// older than the message `before` when given: only what the caller may still see (each
/// membership's window and cleared history; deleted messages and conversations left out).
pub async fn mentions(app: &App, actor: Actor, before: Option<MessageId>, limit: Option<u32>) -> AppResult<Page> {
    let limit = match limit {
        None => DEFAULT_PAGE,
        Some(0) => return Err(AppError::validation("limit", "must be at least 1")),
        Some(n) => n.min(app.limits.history_page_max),
    };
    let mut messages = app.store.mentions_of(actor.user_id, before, limit + 1).await?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    Ok(Page { messages, has_more })
}
