use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, EventPage};
use crate::usecases::any_membership;
use hubbub_domain::ConversationId;

/// Every persisted change after `after`, in seq order, as the same JSON the sockets carried,
/// limited to what the caller may see (from joining, up to leaving). At most one page of
/// `events_page_max`; `has_more` says to ask again from the last seq.
pub async fn events_after(app: &App, actor: Actor, id: ConversationId, after: i64) -> AppResult<EventPage> {
    if after < 0 {
        return Err(AppError::validation("after", "must not be negative"));
    }
    let membership = any_membership(app, actor.user_id, id).await?;
    Ok(app.store.events_after(id, membership, after, app.limits.events_page_max).await?)
}
