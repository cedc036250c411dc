//! Changing a space: its name and description, roles, removals and leaving, deletion.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, RemoveOutcome, StoreError};
use hubbub_domain::events::{SpaceDeletedData, SpaceMemberRemovedData};
use hubbub_domain::{EventData, GroupName, Role, Space, SpaceId, Timestamp, UserId, policy};

fn not_found(what: &'static str) -> impl Fn(StoreError) -> AppError {
    move |e| match e {
        StoreError::NotFound => AppError::NotFound(what),
        other => other.into(),
    }
}

/// Renames a space or changes its description (`policy::may_manage_space`); its members
/// hear `space.updated`.
pub async fn update(
    app: &App,
    actor: Actor,
    id: SpaceId,
    name: Option<&str>,
    description: Option<&str>,
) -> AppResult<Space> {
    let space = super::my_space(app, actor.user_id, id).await?;
    policy::may_manage_space(space.my_role)?;
    let name = name.map(GroupName::parse).transpose()?;
    let description = description.map(super::create::parse_description).transpose()?;
    app.store.update_space(id, name, description, Timestamp::now()).await.map_err(not_found("space"))?;
    let space = super::my_space(app, actor.user_id, id).await?;
    let audience = super::member_ids(app, id).await?;
    super::announce(app, audience, EventData::SpaceUpdated(super::data(&space))).await;
    Ok(space)
}

/// Changes a member's space role (`policy::may_change_space_role`). Giving `owner` hands
/// ownership over: the giver becomes an admin. The owner cannot give up their role
/// otherwise (409: a space always has an owner). Members hear `space.updated`, after which
/// each reads their own role.
pub async fn set_role(app: &App, actor: Actor, id: SpaceId, user: UserId, role: Role) -> AppResult<()> {
    let space = super::my_space(app, actor.user_id, id).await?;
    let members = app.store.space_members(id).await?;
    let target = members.iter().find(|m| m.user.id == user).ok_or(AppError::NotFound("member"))?;
    policy::may_change_space_role(space.my_role, target.role, role)?;
    if target.role == role {
        return Ok(());
    }
    let changes = if role == Role::Owner {
        vec![(user, Role::Owner), (actor.user_id, Role::Admin)]
    } else if target.role == Role::Owner {
        return Err(AppError::Conflict("a space needs its owner: give ownership to someone else instead".into()));
    } else {
        vec![(user, role)]
    };
    app.store.set_space_roles(id, changes).await.map_err(not_found("member"))?;
    let details = serde_json::json!({"user_id": user, "role": role.as_str()});
    let action = hubbub_domain::AuditAction::RoleChanged;
    crate::usecases::admin::audit::record(app, Some(actor.user_id), action, Some(id.to_string()), None, details).await;
    let space = super::my_space(app, actor.user_id, id).await?;
    let audience = members.iter().map(|m| m.user.id).collect();
    super::announce(app, audience, EventData::SpaceUpdated(super::data(&space))).await;
    Ok(())
}

/// Takes someone out of a space (`policy::may_remove_space_member`), or the caller out
/// (leaving; the owner must hand ownership over first, 409). They are removed from every
/// channel of the space they are in, one channel at a time (each channel's members hear
/// `member.removed`); the space's members, the removed one included, hear
/// `space.member_removed`.
pub async fn remove(app: &App, actor: Actor, id: SpaceId, user: UserId) -> AppResult<()> {
    let space = super::my_space(app, actor.user_id, id).await?;
    let members = app.store.space_members(id).await?;
    let target = members.iter().find(|m| m.user.id == user).ok_or(AppError::NotFound("member"))?;
    if user == actor.user_id {
        if space.my_role == Role::Owner {
            return Err(AppError::Conflict("the owner cannot leave the space: give ownership to someone first".into()));
        }
    } else {
        policy::may_remove_space_member(space.my_role, target.role)?;
    }
    let channels = app.store.remove_space_member(id, user).await.map_err(not_found("member"))?;
    for channel in channels {
        match app.store.remove_member(channel, user, actor.user_id, Timestamp::now()).await {
            // A channel deleted or left meanwhile: nothing more to do there.
            Ok(RemoveOutcome::Removed { .. } | RemoveOutcome::NotAMember) | Err(StoreError::NotFound) => {}
            Err(other) => return Err(other.into()),
        }
    }
    if user != actor.user_id {
        let details = serde_json::json!({"user_id": user});
        let action = hubbub_domain::AuditAction::MemberRemoved;
        crate::usecases::admin::audit::record(app, Some(actor.user_id), action, Some(id.to_string()), None, details)
            .await;
    }
    let audience = members.iter().map(|m| m.user.id).collect();
    let data = SpaceMemberRemovedData { space_id: id, user_id: user };
    super::announce(app, audience, EventData::SpaceMemberRemoved(data)).await;
    Ok(())
}

/// Deletes a space (`policy::may_delete_space`: its owner) and every channel of it, one
/// channel at a time (each channel's members hear `conversation.deleted`); its members hear
/// `space.deleted`. From then on everything of it is 404.
pub async fn delete(app: &App, actor: Actor, id: SpaceId) -> AppResult<()> {
    let space = super::my_space(app, actor.user_id, id).await?;
    policy::may_delete_space(space.my_role)?;
    let audience = super::member_ids(app, id).await?;
    let channels = app.store.delete_space(id, Timestamp::now()).await.map_err(not_found("space"))?;
    for channel in channels {
        match app.store.delete_conversation(channel, actor.user_id, Timestamp::now()).await {
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(other) => return Err(other.into()),
        }
    }
    let details = serde_json::json!({"kind": "space"});
    let action = hubbub_domain::AuditAction::ConversationDeleted;
    crate::usecases::admin::audit::record(app, Some(actor.user_id), action, Some(id.to_string()), None, details).await;
    let data = SpaceDeletedData { space_id: id, deleted_by: actor.user_id };
    super::announce(app, audience, EventData::SpaceDeleted(data)).await;
    Ok(())
}
