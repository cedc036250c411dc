use crate::App;
use crate::error::AppResult;
use crate::ports::{Actor, BusMessage};
use crate::rules::blocking::without_blocked;
use crate::usecases::current_membership;
use hubbub_domain::events::TypingData;
use hubbub_domain::{ConversationId, Event, EventData};

/// Tells the other members' devices that the caller is typing, except those the caller
/// blocks (`rules::blocking`). Ephemeral: nothing stored. The audience is decided here, on
/// the typist's node, so the rule holds on every node of a cluster.
pub async fn typing(app: &App, actor: Actor, id: ConversationId) -> AppResult<()> {
    current_membership(app, actor.user_id, id).await?;
    let members = app.store.member_ids(id).await?;
    let blocked: Vec<_> = app.store.blocked_users(actor.user_id).await?.into_iter().map(|u| u.id).collect();
    let recipients = if blocked.is_empty() { members } else { without_blocked(&members, &blocked).into() };
    let event = Event::ephemeral(Some(id), EventData::Typing(TypingData { user_id: actor.user_id }));
    app.publish(BusMessage::Ephemeral {
        payload: event.to_json().into(),
        audience: recipients,
        except_user: Some(actor.user_id),
    })
    .await;
    Ok(())
}
