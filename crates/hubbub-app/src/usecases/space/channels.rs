use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Actor;
use crate::usecases::conversation::create_channel::NewRoom;
use hubbub_domain::{Conversation, SpaceChannel, SpaceId, policy};

/// The channels of a space the caller is in: its public channels and the private ones the
/// caller is a member of (for the space's admins, every private channel: they manage them
/// and may join them, `policy::listed_in_space`), oldest first (`general` first), each as
/// its directory entry with `joined` (whether the caller is a current member).
pub async fn list(app: &App, actor: Actor, id: SpaceId) -> AppResult<Vec<SpaceChannel>> {
    let space = super::my_space(app, actor.user_id, id).await?;
    let space_admin = policy::is_space_admin(space.my_role);
    let entries = app.store.space_channels(actor.user_id, id).await?;
    Ok(entries
        .into_iter()
        .filter(|entry| {
            let shape =
                policy::Shape { kind: entry.snapshot.kind, visibility: entry.snapshot.room.visibility, in_space: true };
            entry.my_role.is_some() || policy::listed_in_space(shape, space_admin)
        })
        .map(|entry| {
            let joined = entry.my_role.is_some();
            SpaceChannel { conversation: crate::usecases::conversation::present_entry(actor.user_id, entry), joined }
        })
        .collect())
}

/// Creates a channel in a space (`policy::may_manage_space`: its owner and admins), public
/// or private, with the caller as its owner. Its initial members must be in the space
/// (422 otherwise); a space's channels take no password.
pub async fn create(app: &App, actor: Actor, id: SpaceId, room: NewRoom) -> AppResult<Conversation> {
    let space = super::my_space(app, actor.user_id, id).await?;
    policy::may_manage_space(space.my_role)?;
    if room.password.is_some() {
        return Err(AppError::validation("password", "only public rooms have a password"));
    }
    let members = super::member_ids(app, id).await?;
    if room.member_ids.iter().any(|user| !members.contains(user)) {
        return Err(AppError::validation("member_ids", "every member of a space's channel must be in the space"));
    }
    crate::usecases::conversation::create_channel::create_in(app, actor, room, Some(id)).await
}
