pub mod add_members;
pub mod create;
pub mod create_channel;
pub mod create_group;
pub mod delete;
pub mod get;
pub mod join;
pub mod list;
pub mod mark;
pub mod open_direct;
pub mod remove_member;
pub mod rename;
pub mod rooms;
pub mod set_password;
pub mod set_photo;
pub mod set_role;
pub mod set_topic;
pub mod settings;

use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{ConversationView, RoomEntry};
use hubbub_domain::policy::has_settings;
use hubbub_domain::{ChatSettings, Conversation, ConversationId, ConversationSnapshot, Role, UserId};

/// Renders a conversation for one viewer: a direct conversation is named after (or by the
/// viewer's alias for), and shows the photo of, the other person; the viewer's own messages
/// get their status, and the conversation the viewer's own settings.
pub(crate) fn present(app: &App, me: UserId, view: ConversationView) -> Conversation {
    let mut last_message = view.last_message.clone();
    if let Some(message) = last_message.as_mut() {
        message.status = view.status_for(me, message);
    }
    let mut conversation =
        render(me, view.snapshot, Some(view.my_role), view.unread_count, view.alias.as_deref(), view.settings);
    conversation.last_message = last_message;
    conversation.unread_mentions = view.unread_mentions;
    app.present_members(&mut conversation);
    conversation
}

/// A directory entry: the room without its member list, for members and strangers alike
/// (`my_role` null for a stranger), with nothing unread, no last message and no settings.
pub(crate) fn present_entry(me: UserId, entry: RoomEntry) -> Conversation {
    render(me, entry.snapshot, entry.my_role, 0, None, ChatSettings::default())
}

fn render(
    me: UserId,
    snapshot: ConversationSnapshot,
    my_role: Option<Role>,
    unread_count: i64,
    alias: Option<&str>,
    settings: ChatSettings,
) -> Conversation {
    let (name, photo_url) = if has_settings(snapshot.kind) {
        (snapshot.name.clone().unwrap_or_default(), snapshot.photo_url.clone())
    } else {
        let other = crate::rules::view::other_person(&snapshot, me);
        (crate::rules::view::direct_name(other, alias), other.and_then(|m| m.user.photo_url.clone()))
    };
    Conversation {
        id: snapshot.id,
        kind: snapshot.kind,
        name,
        photo_url,
        members: snapshot.members,
        last_message: None,
        last_seq: snapshot.last_seq,
        unread_count,
        unread_mentions: 0,
        my_role,
        created_at: snapshot.created_at,
        updated_at: snapshot.updated_at,
        room: snapshot.room,
        settings,
    }
}

/// Loads and renders one conversation for a current member.
pub(crate) async fn load(app: &App, me: UserId, id: ConversationId) -> AppResult<Conversation> {
    let view = app.store.conversation(me, id).await?.ok_or(AppError::NotFound("conversation"))?;
    let mut conversation = present(app, me, view);
    crate::usecases::user::mask_members(&mut conversation, &crate::usecases::user::blockers_of(app, me).await?);
    Ok(conversation)
}
