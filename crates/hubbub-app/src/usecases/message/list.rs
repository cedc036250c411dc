use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, HistoryCursor};
use crate::usecases::any_membership;
use hubbub_domain::{ConversationId, Message, MessageStatus};

pub const DEFAULT_PAGE: u32 = 50;

pub struct Page {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

/// A page of history in ascending seq order. No cursor is the newest page; `before` pages
/// back, `after` pages forward; `limit` above the maximum is clamped. Former members see
/// what they could see while they were members.
pub async fn list(
    app: &App,
    actor: Actor,
    id: ConversationId,
    before: Option<i64>,
    after: Option<i64>,
    limit: Option<u32>,
) -> AppResult<Page> {
    let cursor = match (before, after) {
        (Some(_), Some(_)) => {
            return Err(AppError::BadRequest { message: "use either before or after, not both".into() });
        }
        (Some(before), None) => HistoryCursor::Before(before),
        (None, Some(after)) => HistoryCursor::After(after),
        (None, None) => HistoryCursor::Latest,
    };
    let limit = match limit {
        None => DEFAULT_PAGE,
        Some(0) => return Err(AppError::validation("limit", "must be at least 1")),
        Some(n) => n.min(app.limits.history_page_max),
    };
    if before.is_some_and(|s| s < 0) || after.is_some_and(|s| s < 0) {
        return Err(AppError::validation("before", "cursors are seqs and never negative"));
    }
    let membership = any_membership(app, actor.user_id, id).await?;
    let page = app.store.list_messages(actor.user_id, id, membership, cursor, limit).await?;
    let messages = page
        .messages
        .into_iter()
        .map(|mut m| {
            if m.sender_id == actor.user_id {
                m.status = Some(MessageStatus::for_seq(m.seq, page.others_min_delivered, page.others_min_read));
            }
            m
        })
        .collect();
    Ok(Page { messages, has_more: page.has_more })
}
