//! One use case per file. Each takes the `App`, the caller (`Actor`) and validated or raw
//! input, enforces the business rules, calls the store once or a few times, publishes what
//! was committed, and returns domain objects for the caller to render.

pub mod account;
pub mod admin;
pub mod contact;
pub mod conversation;
pub mod media;
pub mod message;
pub mod ops;
pub mod push;
pub mod realtime;
pub mod space;
pub mod user;

use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Membership;
use hubbub_domain::policy::{self, Standing};
use hubbub_domain::{ConversationId, UserId};

/// The caller's membership, current or past; a stranger gets 404 (no existence oracle).
pub(crate) async fn any_membership(app: &App, me: UserId, id: ConversationId) -> AppResult<Membership> {
    app.store.membership(me, id).await?.ok_or(AppError::NotFound("conversation"))
}

/// The caller's current membership: former members may read, but not act.
pub(crate) async fn current_membership(app: &App, me: UserId, id: ConversationId) -> AppResult<Membership> {
    let membership = any_membership(app, me, id).await?;
    if membership.is_current() { Ok(membership) } else { Err(AppError::NotFound("conversation")) }
}

/// Whether a message at `seq` lies inside what this membership may see (after the addition
/// and any clear of the history, up to the leaving).
pub(crate) fn can_see(membership: &Membership, seq: i64) -> bool {
    seq > crate::rules::history::visible_from(membership) && membership.left_seq.is_none_or(|left| seq <= left)
}

/// The caller as the role rules see them (`policy::Standing`): their role in the
/// conversation and, for a channel of a space, whether they administer the space (whose
/// owner and admins manage every channel of it).
pub(crate) async fn standing(
    app: &App,
    me: UserId,
    id: ConversationId,
    membership: &Membership,
) -> AppResult<Standing> {
    let mut standing = Standing::member(membership.role);
    if let Some(access) = app.store.conversation_access(id).await? {
        standing.space_admin = space_role(app, me, &access).await?.is_some_and(policy::is_space_admin);
    }
    Ok(standing)
}

/// What the caller may see of a conversation. Seeing is not being a member: a public room
/// may be seen (and joined) by anyone signed in, while its history is for members.
pub(crate) enum Sight {
    /// A current or former member: their own view.
    Member,
    /// Not a member, but the conversation is open (`policy::is_open`).
    Open,
}

/// What the caller may see of `id`, or 404 when nothing (no existence oracle).
pub(crate) async fn sight(app: &App, me: UserId, id: ConversationId) -> AppResult<Sight> {
    if app.store.membership(me, id).await?.is_some() {
        return Ok(Sight::Member);
    }
    match app.store.conversation_access(id).await? {
        Some(access) if policy::is_open(access.shape()) && in_its_space(app, me, &access).await? => Ok(Sight::Open),
        _ => Err(AppError::NotFound("conversation")),
    }
}

/// The caller's role in the space of a conversation: `None` when the conversation has no
/// space or the caller is not in it.
pub(crate) async fn space_role(
    app: &App,
    me: UserId,
    access: &crate::ports::Access,
) -> AppResult<Option<hubbub_domain::Role>> {
    match access.space_id {
        None => Ok(None),
        Some(space) => Ok(app.store.spaces(me, Some(hubbub_domain::SpaceId(space))).await?.first().map(|s| s.my_role)),
    }
}

/// Whether the caller is in the space of a conversation (true for one with no space):
/// a space's public channels are open to its members only.
pub(crate) async fn in_its_space(app: &App, me: UserId, access: &crate::ports::Access) -> AppResult<bool> {
    Ok(access.space_id.is_none() || space_role(app, me, access).await?.is_some())
}
