use super::audit::record;
use crate::App;
use crate::error::{AppError, AppResult};
use hubbub_domain::{AuditAction, Username};

/// Makes a user a server administrator (`hubbub admin grant USERNAME`) or takes it back
/// (`revoke`). Only the command line does this: whoever runs it already holds the server.
pub async fn set_admin(app: &App, username: &str, admin: bool) -> AppResult<()> {
    let username = Username::parse(username)?;
    if !app.store.set_server_admin(&username, admin).await? {
        return Err(AppError::NotFound("user"));
    }
    let action = if admin { AuditAction::AdminGranted } else { AuditAction::AdminRevoked };
    record(app, None, action, Some(username.as_str().to_owned()), None, serde_json::json!({})).await;
    Ok(())
}
