use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use hubbub_domain::{Contact, DisplayName, Timestamp, UserId};

/// Adds a user to the caller's contacts, or replaces the alias of one already there (a
/// missing or null alias removes it). An alias follows the display name's rules (1–64
/// characters after trimming); a blank one counts as none.
pub async fn set(app: &App, actor: Actor, user: UserId, alias: Option<String>) -> AppResult<Contact> {
    let alias = match alias.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(alias) => {
            Some(DisplayName::parse(alias).map_err(|e| AppError::validation("alias", e.message))?.into_string())
        }
    };
    super::other_user(app, actor.user_id, user).await?;
    let mut contact =
        app.store.set_contact(actor.user_id, user, alias, Timestamp::now()).await.map_err(|e| match e {
            crate::ports::StoreError::NotFound => AppError::NotFound("user"),
            other => other.into(),
        })?;
    contact.user = app.present_user(contact.user);
    Ok(contact)
}
