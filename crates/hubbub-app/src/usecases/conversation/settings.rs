use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, BusMessage, SettingsChange, SettingsPatch, StoreError};
use crate::usecases::any_membership;
use hubbub_domain::events::SettingsUpdatedData;
use hubbub_domain::{ChatSettings, ConversationId, Event, EventData, Timestamp};

/// Changes the caller's own settings of a conversation they are or were in: archive, pin
/// (at most `rules::settings::PINNED_MAX`, 409 beyond), mute until a time (`MUTED_FOREVER`
/// for ever, null to unmute). Every device of the caller hears `settings.updated`.
pub async fn update(app: &App, actor: Actor, id: ConversationId, patch: SettingsPatch) -> AppResult<ChatSettings> {
    any_membership(app, actor.user_id, id).await?;
    let settings = app.store.update_settings(actor.user_id, id, patch, Timestamp::now()).await.map_err(not_found)?;
    announce(app, &[SettingsChange { user: actor.user_id, conversation: id, settings }]).await;
    Ok(settings)
}

/// Clears the caller's history of a conversation up to now (what they see, replay and
/// count as unread starts after it); with `hide`, the conversation also leaves their list
/// until the next message ("delete this chat for me"). Nobody else is affected.
pub async fn clear(app: &App, actor: Actor, id: ConversationId, hide: bool) -> AppResult<()> {
    any_membership(app, actor.user_id, id).await?;
    app.store.clear_history(actor.user_id, id, hide).await.map_err(not_found)
}

/// Tells each user's devices, on every node, of their new settings. Ephemeral, and to that
/// user only: settings are nobody else's business.
pub(crate) async fn announce(app: &App, changes: &[SettingsChange]) {
    for change in changes {
        let data = SettingsUpdatedData { conversation_id: change.conversation, settings: change.settings };
        let event = Event::ephemeral(Some(change.conversation), EventData::SettingsUpdated(data));
        app.publish(BusMessage::Ephemeral {
            payload: event.to_json().into(),
            audience: vec![change.user].into(),
            except_user: None,
        })
        .await;
    }
}

fn not_found(error: StoreError) -> AppError {
    match error {
        StoreError::NotFound => AppError::NotFound("conversation"),
        other => other.into(),
    }
}
