//! The event log: taking a conversation's next seq and storing the event of a change.

use super::load::ConvRef;
use super::{PgStore, Tenant, db};
use bytes::Bytes;
use hubbub_app::ports::*;
use hubbub_app::rules::audience;
use hubbub_domain::{ConversationId, Event, Timestamp, UserId};
use sqlx::PgConnection;
use uuid::Uuid;

/// Appends a persisted event to its conversation's log.
pub(super) const INSERT_EVENT: &str = "INSERT INTO events (tenant_id, conversation_id, seq, kind, payload, created_at, audience) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Allocates the next seq of a conversation inside the current transaction.
pub(super) async fn next_seq(conn: &mut PgConnection, conv: i64, now: Timestamp) -> StoreResult<i64> {
    sqlx::query_scalar(
        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = $1 WHERE id = $2 RETURNING last_seq",
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
    conn: &mut PgConnection,
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
    let audience = crate::common::audience_text(&recipients);
    sqlx::query(INSERT_EVENT)
        .bind(tenant.0)
        .bind(conv.key)
        .bind(seq)
        .bind(kind)
        .bind(&json)
        .bind(now.millis())
        .bind(audience)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(Committed { conversation_id: conv.id, seq, json: Bytes::from(json), recipients: recipients.into() })
}

/// The stored events of a conversation above `after_seq`, in seq order (for a node filling a
/// gap in what the bus brought it). An unknown conversation has none.
pub(super) async fn committed_after(
    store: &PgStore,
    id: ConversationId,
    after_seq: i64,
    limit: u32,
) -> StoreResult<Vec<Committed>> {
    let mut conn = store.read().await?;
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT e.seq, e.payload, e.audience FROM events e JOIN conversations c ON c.id = e.conversation_id
         WHERE c.uuid = $1 AND c.tenant_id = $2 AND e.seq > $3 ORDER BY e.seq LIMIT $4",
    )
    .bind(id.0)
    .bind(store.tenant.0)
    .bind(after_seq)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(rows.into_iter().map(|(seq, json, audience)| committed(id, seq, json, &audience)).collect())
}

/// Every conversation's stored events created at or after `since`, ordered by
/// (conversation, seq) (for a node replaying what it missed while its bus was down).
pub(super) async fn committed_since(store: &PgStore, since: Timestamp, limit: u32) -> StoreResult<Vec<Committed>> {
    let mut conn = store.read().await?;
    let rows: Vec<(Uuid, i64, String, String)> = sqlx::query_as(
        "SELECT c.uuid, e.seq, e.payload, e.audience FROM events e JOIN conversations c ON c.id = e.conversation_id
         WHERE e.tenant_id = $1 AND e.created_at >= $2 ORDER BY e.conversation_id, e.seq LIMIT $3",
    )
    .bind(store.tenant.0)
    .bind(since.millis())
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(conv, seq, json, audience)| committed(ConversationId(conv), seq, json, &audience))
        .collect())
}

fn committed(conversation_id: ConversationId, seq: i64, json: String, audience: &str) -> Committed {
    Committed { conversation_id, seq, json: Bytes::from(json), recipients: crate::common::parse_audience(audience) }
}
