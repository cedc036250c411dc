use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use crate::{App, security};
use hubbub_domain::Timestamp;

/// How long a WebSocket ticket may wait before it is redeemed.
pub const TICKET_TTL_MILLIS: i64 = 60_000;

/// Issues a single-use ticket for clients that cannot set headers on a WebSocket upgrade.
/// The ticket is bound to the caller's session, so logging out also voids it.
pub async fn issue(app: &App, actor: Actor) -> AppResult<String> {
    let ticket = security::issue_token();
    let expires_at = Timestamp::now().plus_millis(TICKET_TTL_MILLIS);
    app.store.create_ws_ticket(actor, ticket.digest, expires_at).await?;
    Ok(ticket.text)
}

/// Redeems a ticket once; a second use, an expired ticket or a stranger's string is 401.
pub async fn redeem(app: &App, ticket: &str) -> AppResult<Actor> {
    let digest = security::digest_token(ticket);
    app.store
        .redeem_ws_ticket(&digest, Timestamp::now())
        .await?
        .ok_or(AppError::Unauthorized("invalid or expired ticket"))
}
