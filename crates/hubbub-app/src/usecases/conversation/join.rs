use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, BusMessage};
use crate::security;
use hubbub_domain::policy;
use hubbub_domain::{Conversation, ConversationId, Timestamp};
use std::time::Instant;

/// Joins an open conversation (a public room, or a public channel of a space the caller is
/// in; for a space's admins, any channel of the space) without an invitation, as a member; a room
/// with a password asks for it: missing or wrong is 403, and after
/// `RateLimits::room_password_failures` wrong ones in the window the caller waits (429,
/// per user and room, counted on every node of a cluster). Joining what one is already in changes nothing. What may not be
/// joined is 404 as if it did not exist, also for its former members (a private room is
/// by invitation only). Existing members hear `member.added`, the joiner
/// `conversation.created`.
pub async fn join(app: &App, actor: Actor, id: ConversationId, password: Option<&str>) -> AppResult<Conversation> {
    let me = actor.user_id;
    if app.store.membership(me, id).await?.is_some_and(|m| m.is_current()) {
        return super::load(app, me, id).await;
    }
    let access = app.store.conversation_access(id).await?.ok_or(AppError::NotFound("conversation"))?;
    let space_role = crate::usecases::space_role(app, me, &access).await?;
    let space_admin = space_role.is_some_and(policy::is_space_admin);
    let in_its_space = access.space_id.is_none() || space_role.is_some();
    if policy::may_join(access.shape(), space_admin).is_err() || !in_its_space {
        return Err(AppError::NotFound("conversation"));
    }
    if let Some(hash) = access.password_hash.clone() {
        // A missing password is the client asking what the room needs: refused, not counted.
        let Some(given) = password else {
            return Err(AppError::Forbidden("this room asks for a password"));
        };
        let attempt = app
            .room_passwords
            .admit(me, id, Instant::now())
            .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;
        if security::verify_password(given, Some(hash)).await? {
            attempt.succeeded();
        } else {
            attempt.failed();
            app.publish(BusMessage::RoomPasswordFailed { user: me, room: id }).await;
            return Err(AppError::Forbidden("wrong password"));
        }
    }
    if access.member_count as usize + 1 > app.limits.group_members_max {
        return Err(AppError::validation(
            "conversation",
            format!("a conversation has at most {} members", app.limits.group_members_max),
        ));
    }
    app.store.add_members(id, vec![me], me, Timestamp::now()).await?;
    super::load(app, me, id).await
}
