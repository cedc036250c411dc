pub mod get;
pub mod search;
pub mod set_photo;
pub mod update_profile;

use crate::App;
use crate::error::AppResult;
use hubbub_domain::{Conversation, Event, EventData, User, UserId};

/// Who blocks `viewer`: their presence is hidden from the viewer wherever users are shown
/// (`rules::blocking::mask_presence`).
pub(crate) async fn blockers_of(app: &App, viewer: UserId) -> AppResult<Vec<UserId>> {
    Ok(app.store.blockers_of(viewer).await?)
}

/// Hides, in a conversation shown to a viewer, the presence of the members who block them.
pub(crate) fn mask_members(conversation: &mut Conversation, blockers: &[UserId]) {
    if blockers.is_empty() {
        return;
    }
    for member in &mut conversation.members {
        crate::rules::blocking::mask_presence(&mut member.user, blockers);
    }
}

/// Tells the user's contacts (and the user's own other devices) about a changed profile.
pub(crate) async fn announce(app: &App, user: &User) {
    let contacts = match app.store.contacts(user.id, None).await {
        Ok(contacts) => contacts,
        Err(error) => {
            tracing::warn!(%error, "could not load contacts to announce a profile change");
            return;
        }
    };
    let event = Event::ephemeral(None, EventData::UserUpdated(user.clone()));
    app.publish(crate::ports::BusMessage::Ephemeral {
        payload: event.to_json().into(),
        audience: contacts.into(),
        except_user: None,
    })
    .await;
}
