use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, BusMessage, StoreError};
use hubbub_domain::events::PresenceData;
use hubbub_domain::{Event, EventData, Timestamp, User, UserId};

/// Blocks (`true`) or unblocks a user. A blocked user can no longer open or post in a
/// direct conversation with the caller, and hears nothing of the caller's presence or
/// typing (`rules::blocking`). Doing it twice changes nothing.
///
/// The blocked user's devices are told at once that the caller is offline (and, on unblock,
/// how the caller really is), so a presence they heard before the block does not linger.
pub async fn set_blocked(app: &App, actor: Actor, user: UserId, blocked: bool) -> AppResult<()> {
    super::other_user(app, actor.user_id, user).await?;
    app.store.set_blocked(actor.user_id, user, blocked, Timestamp::now()).await.map_err(|e| match e {
        StoreError::NotFound => AppError::NotFound("user"),
        other => other.into(),
    })?;
    let me = app.store.user(actor.user_id).await?.map(|u| app.present_user(u));
    let (online, last_seen_at) = match me {
        Some(me) if !blocked => (me.online, me.last_seen_at),
        _ => (false, None),
    };
    let event =
        Event::ephemeral(None, EventData::Presence(PresenceData { user_id: actor.user_id, online, last_seen_at }));
    app.publish(BusMessage::Ephemeral {
        payload: event.to_json().into(),
        audience: vec![user].into(),
        except_user: None,
    })
    .await;
    Ok(())
}

/// The users the caller blocks, in the order blocked.
pub async fn blocked(app: &App, actor: Actor) -> AppResult<Vec<User>> {
    let users = app.store.blocked_users(actor.user_id).await?;
    Ok(users.into_iter().map(|u| app.present_user(u)).collect())
}
