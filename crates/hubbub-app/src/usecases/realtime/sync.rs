use crate::App;
use crate::error::AppResult;
use crate::ports::ConversationSeq;
use hubbub_domain::UserId;

/// Where the user's list stands at the moment a socket starts receiving: each listed
/// conversation with the seq of its latest change the user may see (hidden ones are not in
/// the list, so not here either: `rules::settings::arrange` leaves them out the same way).
///
/// Why it is sound to read this after the socket is registered with the hub: every event
/// committed after this read reaches the hub after the registration (the hub applies its
/// commands in order, and the commit feed publishes after COMMIT), so the socket receives
/// it live; everything committed before is counted in these seqs. A client that fetched its
/// list *before* the socket opened compares the two and catches up on the difference
/// through `/events`, so it need not fetch the list a second time, nor wait for the socket
/// before its first fetch.
pub async fn sync_point(app: &App, me: UserId) -> AppResult<Vec<ConversationSeq>> {
    let mut seqs = app.store.conversation_seqs(me).await?;
    seqs.retain(|entry| !entry.hidden);
    Ok(seqs)
}
