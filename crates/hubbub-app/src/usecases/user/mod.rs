pub mod get;
pub mod search;
pub mod set_photo;
pub mod update_profile;

use crate::App;
use hubbub_domain::{Event, EventData, User};

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
