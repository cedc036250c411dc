//! Spaces: people with roles (owner, admin, member) holding channels. Everything of a space
//! is 404 to someone not in it (no existence oracle); who may do what is
//! `hubbub_domain::policy` (`may_manage_space`, ...). Space events carry no seq: they are
//! ephemeral, sent to the space's members on every node through the bus.

pub mod channels;
pub mod create;
pub mod manage;
pub mod members;

use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::BusMessage;
use hubbub_domain::events::SpaceData;
use hubbub_domain::{Event, EventData, Space, SpaceId, UserId};

/// The caller's view of a space they are in; 404 otherwise.
pub(crate) async fn my_space(app: &App, me: UserId, id: SpaceId) -> AppResult<Space> {
    app.store.spaces(me, Some(id)).await?.into_iter().next().ok_or(AppError::NotFound("space"))
}

/// The spaces the caller is in, oldest first.
pub async fn list(app: &App, me: UserId) -> AppResult<Vec<Space>> {
    Ok(app.store.spaces(me, None).await?)
}

/// One space the caller is in.
pub async fn get(app: &App, me: UserId, id: SpaceId) -> AppResult<Space> {
    my_space(app, me, id).await
}

/// A space as its events carry it: the same for every recipient (no one's own role).
pub(crate) fn data(space: &Space) -> SpaceData {
    SpaceData {
        id: space.id,
        name: space.name.clone(),
        description: space.description.clone(),
        photo_url: space.photo_url.clone(),
        member_count: space.member_count,
        created_at: space.created_at,
    }
}

/// Tells every device of `audience`, on every node, of a change of a space.
pub(crate) async fn announce(app: &App, audience: Vec<UserId>, data: EventData) {
    let event = Event::ephemeral(None, data);
    app.publish(BusMessage::Ephemeral {
        payload: event.to_json().into(),
        audience: audience.into(),
        except_user: None,
    })
    .await;
}

/// The member ids of a space, for its events.
pub(crate) async fn member_ids(app: &App, id: SpaceId) -> AppResult<Vec<UserId>> {
    Ok(app.store.space_members(id).await?.into_iter().map(|m| m.user.id).collect())
}
