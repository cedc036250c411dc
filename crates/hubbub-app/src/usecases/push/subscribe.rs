//! The caller's push subscriptions (one per browser) and the key browsers subscribe with.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, PushSubscription};
use hubbub_domain::Timestamp;

/// Longest endpoint URL accepted.
pub const ENDPOINT_MAX: usize = 2048;

fn sender(app: &App) -> AppResult<&std::sync::Arc<dyn crate::ports::PushSender>> {
    app.push.sender().ok_or(AppError::NotFound("push"))
}

/// The VAPID public key (base64url): the `applicationServerKey` of `pushManager.subscribe`.
pub fn public_key(app: &App) -> AppResult<String> {
    Ok(sender(app)?.public_key())
}

/// Stores a subscription of the caller's browser; again with the same endpoint, it replaces
/// the keys (and the owner: whoever signed in on that browser last). Refused (400) when it
/// could never be sent to (`PushSender::check`).
pub async fn subscribe(app: &App, actor: Actor, subscription: PushSubscription) -> AppResult<()> {
    if subscription.endpoint.len() > ENDPOINT_MAX {
        return Err(AppError::BadRequest { message: format!("endpoint: at most {ENDPOINT_MAX} bytes") });
    }
    sender(app)?.check(&subscription).map_err(|message| AppError::BadRequest { message })?;
    app.store.save_push_subscription(actor.user_id, subscription, Timestamp::now()).await?;
    Ok(())
}

/// Removes the caller's subscription of `endpoint`; removing one that is not there is fine
/// (the browser may have been unsubscribed already).
pub async fn unsubscribe(app: &App, actor: Actor, endpoint: &str) -> AppResult<()> {
    sender(app)?;
    app.store.delete_push_subscription(actor.user_id, endpoint).await?;
    Ok(())
}
