use crate::App;
use crate::error::AppResult;
use crate::ports::{Actor, BusMessage};
use hubbub_domain::AuditAction;

/// Ends the caller's session: its token stops working and its sockets close now, on every node.
pub async fn logout(app: &App, actor: Actor) -> AppResult<()> {
    app.store.delete_session(actor.session_id).await?;
    // Every node forgets the session and closes its sockets; this node does so before
    // `publish` returns, so the token is refused here from now on.
    app.publish(BusMessage::ForgetSessions(vec![actor.session_id])).await;
    app.publish(BusMessage::CloseSessions(vec![actor.session_id])).await;
    let details = serde_json::json!({"session_id": actor.session_id.0});
    crate::usecases::admin::audit::record(app, Some(actor.user_id), AuditAction::Logout, None, None, details).await;
    Ok(())
}
