use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, StoreError};
use hubbub_domain::events::SpaceMemberAddedData;
use hubbub_domain::{EventData, SpaceId, SpaceMember, Timestamp, UserId, policy};

/// The members of a space the caller is in, oldest first.
pub async fn list(app: &App, me: UserId, id: SpaceId) -> AppResult<Vec<SpaceMember>> {
    super::my_space(app, me, id).await?;
    let mut members = app.store.space_members(id).await?;
    // Someone who blocks the caller is shown to them as everywhere else (never seen).
    let blockers = crate::usecases::user::blockers_of(app, me).await?;
    for member in &mut members {
        member.user.online = app.is_online(member.user.id);
        crate::rules::blocking::mask_presence(&mut member.user, &blockers);
    }
    Ok(members)
}

/// Adds people to a space (`policy::may_manage_space`: its owner and admins) as members,
/// and to its `general` channel; those already in it are left as they are, an unknown id
/// is 422. Everyone in the space hears `space.member_added` for each newcomer, and the
/// newcomers `conversation.created` of `general`.
pub async fn add(app: &App, actor: Actor, id: SpaceId, user_ids: Vec<UserId>) -> AppResult<()> {
    let space = super::my_space(app, actor.user_id, id).await?;
    policy::may_manage_space(space.my_role)?;
    if user_ids.is_empty() {
        return Err(AppError::validation("user_ids", "must name at least one user"));
    }
    let outcome =
        app.store.add_space_members(id, user_ids, actor.user_id, Timestamp::now()).await.map_err(|e| match e {
            StoreError::UnknownReference(field) => AppError::validation(field, "unknown user"),
            StoreError::NotFound => AppError::NotFound("space"),
            other => other.into(),
        })?;
    if let Some(general) = outcome.general {
        crate::usecases::media::delete_unreferenced(app, general.unreferenced).await;
    }
    if outcome.added.is_empty() {
        return Ok(());
    }
    let members = app.store.space_members(id).await?;
    let audience: Vec<UserId> = members.iter().map(|m| m.user.id).collect();
    for member in members.into_iter().filter(|m| outcome.added.contains(&m.user.id)) {
        let data = SpaceMemberAddedData { space_id: id, member };
        super::announce(app, audience.clone(), EventData::SpaceMemberAdded(data)).await;
    }
    Ok(())
}
