//! The event log: taking a conversation's next seq and storing the event of a change.

use super::load::ConvRef;
use super::{Tenant, db};
use bytes::Bytes;
use hubbub_app::ports::*;
use hubbub_app::rules::audience;
use hubbub_domain::{Event, Timestamp, UserId};
use sqlx::SqliteConnection;

/// Allocates the next seq of a conversation inside the current transaction.
pub(super) async fn next_seq(conn: &mut SqliteConnection, conv: i64, now: Timestamp) -> StoreResult<i64> {
    sqlx::query_scalar(
        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = ? WHERE id = ? RETURNING last_seq",
    )
    .bind(now.millis())
    .bind(conv)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)
}

/// Stores a persisted event in the conversation's log and returns its committed form, for
/// the audience the rule gives from the conversation's current members (loaded after the
/// change, in its transaction).
pub(super) async fn record_event(
    conn: &mut SqliteConnection,
    tenant: Tenant,
    conv: ConvRef,
    event: Event,
    current_members: Vec<UserId>,
    now: Timestamp,
) -> StoreResult<Committed> {
    let seq = event.seq.expect("persisted events carry a seq");
    let recipients = audience::recipients(&event.data, current_members);
    let json = event.to_json();
    let kind = event.data.type_name();
    sqlx::query(super::INSERT_EVENT)
        .bind(tenant.0)
        .bind(conv.key)
        .bind(seq)
        .bind(kind)
        .bind(&json)
        .bind(now.millis())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(Committed { conversation_id: conv.id, seq, json: Bytes::from(json), recipients: recipients.into() })
}
