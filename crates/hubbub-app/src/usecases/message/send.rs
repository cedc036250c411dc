use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, FileInput, NewMessage, PhotoInput, StoreError};
use crate::usecases::current_membership;
use crate::usecases::media::{discard_refused, stored_names};
use hubbub_domain::{ConversationId, Message, MessageId, MessageStatus, MessageText, Timestamp};

pub const CLIENT_ID_MAX: usize = 64;

pub struct SendInput {
    pub text: String,
    pub reply_to: Option<MessageId>,
    pub client_id: Option<String>,
    pub photo: Option<PhotoInput>,
    /// A file stored as uploaded; a message has a photo or a file, not both.
    pub file: Option<FileInput>,
}

pub struct Sent {
    pub message: Message,
    /// False when the same `client_id` had been sent before: the stored message is returned.
    pub created: bool,
}

/// Sends a message. The store assigns the next seq and records the event in the same
/// transaction; only after it commits do members' devices hear `message.created`. A retry
/// with the same `client_id` returns the stored message and changes nothing.
///
/// A photo or file comes already stored by the upload path; whenever this send does not end
/// up referencing it (refused, or a retry answered with the message stored before), it is
/// deleted here, so a refused upload leaves nothing behind.
pub async fn send(app: &App, actor: Actor, id: ConversationId, input: SendInput) -> AppResult<Sent> {
    let stored = stored_names(input.photo.as_ref(), input.file.as_ref());
    let result = store(app, actor, id, input).await;
    if !matches!(result, Ok(Sent { created: true, .. })) {
        discard_refused(app, &stored).await;
    }
    result
}

async fn store(app: &App, actor: Actor, id: ConversationId, input: SendInput) -> AppResult<Sent> {
    hubbub_domain::attachment::one_attachment(input.photo.is_some(), input.file.is_some())?;
    // A photo or a file may go without a caption.
    let attached = input.photo.is_some() || input.file.is_some();
    let text = MessageText::parse(&input.text, app.limits.message_text_max, attached)?;
    if let Some(client_id) = &input.client_id
        && (client_id.is_empty() || client_id.len() > CLIENT_ID_MAX)
    {
        return Err(AppError::validation("client_id", format!("must be 1 to {CLIENT_ID_MAX} bytes")));
    }
    // Membership is checked inside the store's transaction (the send is refused atomically
    // if the caller is not a current member), so this hot path reads nothing beforehand
    // (unless the text mentions someone: then who, `mentions::resolve`).
    let mentions = super::mentions::resolve(app, actor.user_id, id, None, text.as_str()).await?;
    let outcome = app
        .store
        .send_message(NewMessage {
            id: MessageId::generate(),
            conversation_id: id,
            sender: actor.user_id,
            text,
            photo: input.photo,
            file: input.file,
            reply_to: input.reply_to,
            client_id: input.client_id,
            forwarded: false,
            now: Timestamp::now(),
            mentions,
        })
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::NotFound("conversation"),
            other => other.into(),
        })?;
    // Recipients whose archived chat the message brought back (in its transaction).
    crate::usecases::conversation::settings::announce(app, &outcome.settings_changed).await;
    match outcome.committed {
        Some(_) => {
            let mut message = outcome.message;
            message.status = Some(MessageStatus::Sent);
            super::link_preview::schedule(app, &message);
            crate::usecases::push::enqueue(app, &message).await;
            Ok(Sent { message, created: true })
        }
        None => {
            let message = super::with_status(app, actor.user_id, id, outcome.message).await?;
            Ok(Sent { message, created: false })
        }
    }
}

/// Checks, before an upload is processed, that the caller may send to this conversation,
/// so a stranger's upload never costs an image decode.
pub async fn authorize(app: &App, actor: Actor, id: ConversationId) -> AppResult<()> {
    current_membership(app, actor.user_id, id).await.map(|_| ())
}
