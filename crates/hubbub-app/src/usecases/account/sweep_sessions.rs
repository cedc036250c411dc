use crate::App;
use crate::error::AppResult;

/// Closes this node's sockets whose session no longer exists, and forgets those sessions.
///
/// A logout or a password change reaches every node at once over the bus; when the bus
/// lost that message (NATS was away), the other nodes would otherwise keep the ended
/// session's sockets open for as long as they stay connected. `App::start` runs this every
/// `Limits::session_sweep_interval` (30 s): one store query for every session with a socket
/// here, whatever the number of sockets. Returns how many sessions it ended.
pub async fn sweep_sessions(app: &App) -> AppResult<usize> {
    let open = app.hub.sessions().await;
    if open.is_empty() {
        return Ok(0);
    }
    let ended = app.store.missing_sessions(&open).await?;
    if !ended.is_empty() {
        app.sessions.forget(&ended);
        app.hub.close_sessions(ended.clone());
    }
    Ok(ended.len())
}
