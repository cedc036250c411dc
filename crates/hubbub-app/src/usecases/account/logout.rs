use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;

/// Ends the caller's session: its token stops working and its sockets close now.
pub async fn logout(app: &App, actor: Actor) -> AppResult<()> {
    app.store.delete_session(actor.session_id).await?;
    app.sessions.forget(&[actor.session_id]);
    app.hub.close_sessions(vec![actor.session_id]);
    Ok(())
}
