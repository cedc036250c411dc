use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, BusMessage};
use crate::security;
use hubbub_domain::policy;
use hubbub_domain::{Conversation, ConversationId, Timestamp};
use std::time::Instant;

/// Joins an open conversation (a public room, or a public channel of a space the caller is
/// in) without an invitation, as a member; a room
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
    if policy::may_join(access.shape()).is_err() || !crate::usecases::in_its_space(app, me, &access).await? {
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
    app.store.add_members(id, vec![me], Timestamp::now()).await?;
    super::load(app, me, id).await
}
