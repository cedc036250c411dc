use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, BusMessage, MarksChange};
use crate::usecases::current_membership;
use hubbub_domain::{ConversationId, Event, EventData, Marks, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    Delivered,
    Read,
}

/// Moves the caller's delivered or read mark forward. A mark at or below the current one is
/// ignored (not an error), and a mark beyond the conversation's last seq is clamped to it.
/// When a mark moves, every member's devices hear `receipt.updated`.
pub async fn mark(app: &App, actor: Actor, id: ConversationId, kind: MarkKind, seq: i64) -> AppResult<()> {
    if seq < 0 {
        return Err(AppError::validation("seq", "must not be negative"));
    }
    current_membership(app, actor.user_id, id).await?;
    let (delivered, read) = match kind {
        MarkKind::Delivered => (Some(seq), None),
        MarkKind::Read => (None, Some(seq)),
    };
    let change = app.store.advance_marks(actor.user_id, id, delivered, read, Timestamp::now()).await?;
    if let MarksChange::Moved { delivered_seq, read_seq, recipients } = change {
        let event = Event::ephemeral(
            Some(id),
            EventData::ReceiptUpdated(Marks { user_id: actor.user_id, delivered_seq, read_seq }),
        );
        app.publish(BusMessage::Ephemeral { payload: event.to_json().into(), audience: recipients, except_user: None })
            .await;
    }
    Ok(())
}
