use crate::error::{AppError, AppResult};
use crate::ports::{Actor, BusMessage};
use crate::{App, security};
use hubbub_domain::{AuditAction, Password};

/// Changes the password after checking the current one. Every other session of the user
/// ends (their tokens stop working and their sockets close); the caller's stays signed in.
pub async fn change_password(app: &App, actor: Actor, current: &str, new: &str) -> AppResult<()> {
    let new = Password::parse(new, "new_password")?;
    let hash = app.store.password_hash(actor.user_id).await?;
    if !security::verify_password(current, Some(hash)).await? {
        return Err(AppError::validation("current_password", "is not the current password"));
    }
    let new_hash = security::hash_password(&new).await?;
    let ended = app.store.change_password(actor.user_id, new_hash, actor.session_id).await?;
    let details = serde_json::json!({"sessions_ended": ended.len()});
    crate::usecases::admin::audit::record(app, Some(actor.user_id), AuditAction::PasswordChanged, None, None, details)
        .await;
    if !ended.is_empty() {
        // As for logout: every node, this one before `publish` returns.
        app.publish(BusMessage::ForgetSessions(ended.clone())).await;
        app.publish(BusMessage::CloseSessions(ended)).await;
    }
    Ok(())
}
