use crate::App;
use crate::error::AppResult;
use crate::ports::Actor;
use hubbub_domain::Contact;

/// The caller's contacts, by the name the caller sees (their alias, else the display name),
/// case-insensitively.
pub async fn list(app: &App, actor: Actor) -> AppResult<Vec<Contact>> {
    let mut contacts = app.store.contact_list(actor.user_id).await?;
    let blockers = crate::usecases::user::blockers_of(app, actor.user_id).await?;
    for contact in &mut contacts {
        contact.user = app.present_user(contact.user.clone());
        crate::rules::blocking::mask_presence(&mut contact.user, &blockers);
    }
    contacts.sort_by_cached_key(|c| (c.alias.as_deref().unwrap_or(&c.user.display_name).to_lowercase(), c.user.id));
    Ok(contacts)
}
