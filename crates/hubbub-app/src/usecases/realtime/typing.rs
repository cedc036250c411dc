use crate::App;
use crate::error::AppResult;
use crate::ports::{Actor, BusMessage};
use crate::usecases::current_membership;
use hubbub_domain::events::TypingData;
use hubbub_domain::{ConversationId, Event, EventData};

/// Tells the other members' devices that the caller is typing. Ephemeral: nothing stored.
pub async fn typing(app: &App, actor: Actor, id: ConversationId) -> AppResult<()> {
    current_membership(app, actor.user_id, id).await?;
    let recipients = app.store.member_ids(id).await?;
    let event = Event::ephemeral(Some(id), EventData::Typing(TypingData { user_id: actor.user_id }));
    app.publish(BusMessage::Ephemeral {
        payload: event.to_json().into(),
        audience: recipients,
        except_user: Some(actor.user_id),
    })
    .await;
    Ok(())
}
