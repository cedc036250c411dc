use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, NewMessage};
use crate::rules::blocking;
use crate::usecases::{any_membership, current_membership};
use hubbub_domain::{
    ConversationId, ConversationKind, Message, MessageId, MessageStatus, MessageText, Timestamp, UserId,
};

pub const MAX_TARGETS: usize = 20;

/// Forwards a message the caller can see into conversations the caller is a member of.
/// Each copy is a new message marked `forwarded` that shares the original's photo or
/// attached file (the same stored file, and for a file the same name), and its link preview
/// (`link_preview::for_copy`).
/// Every target is checked before anything is sent, so a bad target sends nothing.
pub async fn forward(
    app: &App,
    actor: Actor,
    id: ConversationId,
    message: MessageId,
    targets: Vec<ConversationId>,
) -> AppResult<Vec<Message>> {
    if targets.is_empty() || targets.len() > MAX_TARGETS {
        return Err(AppError::validation("conversation_ids", format!("must name 1 to {MAX_TARGETS} conversations")));
    }
    let membership = any_membership(app, actor.user_id, id).await?;
    let meta = super::visible_meta(app, &membership, id, message).await?;
    if meta.deleted {
        return Err(AppError::Conflict("the message was deleted".into()));
    }
    let original = app.store.message_content(id, message).await?.ok_or(AppError::NotFound("message"))?;
    let mut unique = Vec::with_capacity(targets.len());
    let mut blockers: Option<Vec<UserId>> = None;
    for target in targets {
        if !unique.contains(&target) {
            let membership = current_membership(app, actor.user_id, target).await?;
            // The store refuses a blocked sender too, but only when that copy is sent: checked
            // here first, so a refused target sends nothing at all.
            if membership.kind == ConversationKind::Direct {
                if blockers.is_none() {
                    blockers = Some(app.store.blockers_of(actor.user_id).await?);
                }
                let blockers = blockers.as_deref().unwrap_or_default();
                let members = app.store.member_ids(target).await?;
                let blocked = members.iter().any(|m| blockers.contains(m));
                if !blocking::may_post(membership.kind, blocked) {
                    return Err(AppError::Forbidden(blocking::BLOCKED));
                }
            }
            unique.push(target);
        }
    }
    let mut sent = Vec::with_capacity(unique.len());
    for target in unique {
        let mut new = NewMessage {
            id: MessageId::generate(),
            conversation_id: target,
            sender: actor.user_id,
            text: MessageText::parse(&original.text, usize::MAX, true)?,
            photo: original.photo.clone(),
            file: original.file.clone(),
            reply_to: None,
            client_id: None,
            forwarded: true,
            now: Timestamp::now(),
            // A forwarded copy mentions nobody: it is not its sender's own words.
            mentions: Default::default(),
            outbox: None,
        };
        // It is a new message of its conversation all the same: it may notify.
        new.outbox = crate::usecases::push::job_for(app, &new);
        let outcome = app.store.send_message(new).await?;
        crate::usecases::conversation::settings::announce(app, &outcome.settings_changed).await;
        let mut message = super::link_preview::for_copy(app, outcome.message, original.link_preview.clone()).await?;
        crate::usecases::push::wake(app);
        message.status = Some(MessageStatus::Sent);
        sent.push(message);
    }
    Ok(sent)
}
