pub mod add_members;
pub mod create_group;
pub mod get;
pub mod list;
pub mod mark;
pub mod open_direct;
pub mod remove_member;
pub mod rename;
pub mod set_photo;
pub mod settings;

use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{ConversationView, Membership};
use hubbub_domain::{Conversation, ConversationId, ConversationKind, Role, UserId};

/// Renders a conversation for one viewer: a direct conversation is named after (or by the
/// viewer's alias for), and shows the photo of, the other person; the viewer's own messages
/// get their status, and the conversation the viewer's own settings.
pub(crate) fn present(app: &App, me: UserId, view: ConversationView) -> Conversation {
    let mut last_message = view.last_message.clone();
    if let Some(message) = last_message.as_mut() {
        message.status = view.status_for(me, message);
    }
    let snapshot = view.snapshot;
    let (name, photo_url) = match snapshot.kind {
        ConversationKind::Direct => {
            let other = crate::rules::view::other_person(&snapshot, me);
            (
                crate::rules::view::direct_name(other, view.alias.as_deref()),
                other.and_then(|m| m.user.photo_url.clone()),
            )
        }
        ConversationKind::Group => (snapshot.name.clone().unwrap_or_default(), snapshot.photo_url.clone()),
    };
    let mut conversation = Conversation {
        id: snapshot.id,
        kind: snapshot.kind,
        name,
        photo_url,
        members: snapshot.members,
        last_message,
        last_seq: snapshot.last_seq,
        unread_count: view.unread_count,
        my_role: view.my_role,
        created_at: snapshot.created_at,
        updated_at: snapshot.updated_at,
        settings: view.settings,
    };
    app.present_members(&mut conversation);
    conversation
}

/// Loads and renders one conversation for a current member.
pub(crate) async fn load(app: &App, me: UserId, id: ConversationId) -> AppResult<Conversation> {
    let view = app.store.conversation(me, id).await?.ok_or(AppError::NotFound("conversation"))?;
    let mut conversation = present(app, me, view);
    crate::usecases::user::mask_members(&mut conversation, &crate::usecases::user::blockers_of(app, me).await?);
    Ok(conversation)
}

/// The rule shared by every change to a group's settings or membership.
pub(crate) fn require_group_admin(membership: &Membership) -> AppResult<()> {
    if membership.kind != ConversationKind::Group {
        return Err(AppError::validation(
            "conversation",
            "direct conversations have no name, photo or member list to change",
        ));
    }
    if membership.role != Role::Admin {
        return Err(AppError::Forbidden("only group admins may do this"));
    }
    Ok(())
}
