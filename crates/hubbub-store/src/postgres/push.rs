//! Web Push subscriptions, who a message may notify, and the durable outbox (PostgreSQL).
//! Only stored and loaded here: `hubbub_app::rules::push` decides who is notified, and
//! `hubbub_app::usecases::push` runs the jobs.

use super::{PgStore, db, load};
use async_trait::async_trait;
use hubbub_app::ports::{
    Job, NewJob, Outbox, PushAudience, PushMember, PushStore, PushSubscription, StoreError, StoreResult,
};
use hubbub_domain::{ConversationId, ConversationKind, NotifyLevel, Timestamp, UserId};
use uuid::Uuid;

#[async_trait]
impl PushStore for PgStore {
    async fn save_push_subscription(
        &self,
        user: UserId,
        subscription: PushSubscription,
        now: Timestamp,
    ) -> StoreResult<()> {
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let owner = load::user_key(conn, tenant, user).await?.ok_or(StoreError::NotFound)?;
                    sqlx::query(
                        "INSERT INTO push_subscriptions (tenant_id, user_id, endpoint, p256dh, auth, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT (endpoint) DO UPDATE SET tenant_id = excluded.tenant_id,
                             user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth",
                    )
                    .bind(tenant.0)
                    .bind(owner)
                    .bind(&subscription.endpoint)
                    .bind(&subscription.p256dh)
                    .bind(&subscription.auth)
                    .bind(now.millis())
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                    Ok(())
                })
            })
            .await
    }

    async fn delete_push_subscription(&self, user: UserId, endpoint: &str) -> StoreResult<bool> {
        let tenant = self.tenant;
        let endpoint = endpoint.to_owned();
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let Some(owner) = load::user_key(conn, tenant, user).await? else { return Ok(false) };
                    let done = sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2")
                        .bind(&endpoint)
                        .bind(owner)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    Ok(done.rows_affected() > 0)
                })
            })
            .await
    }

    async fn drop_push_subscription(&self, endpoint: &str) -> StoreResult<()> {
        let endpoint = endpoint.to_owned();
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1")
                        .bind(&endpoint)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    Ok(())
                })
            })
            .await
    }

    async fn push_subscriptions(&self, user: UserId) -> StoreResult<Vec<PushSubscription>> {
        let mut conn = self.read().await?;
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT s.endpoint, s.p256dh, s.auth FROM push_subscriptions s JOIN users u ON u.id = s.user_id
             WHERE u.uuid = $1 AND u.tenant_id = $2 ORDER BY s.id",
        )
        .bind(user.0)
        .bind(self.tenant.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(|(endpoint, p256dh, auth)| PushSubscription { endpoint, p256dh, auth }).collect())
    }

    async fn push_audience(&self, conversation: ConversationId, sender: UserId) -> StoreResult<PushAudience> {
        let mut conn = self.read().await?;
        let head: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT kind, name FROM conversations WHERE uuid = $1 AND tenant_id = $2 AND deleted_at IS NULL",
        )
        .bind(conversation.0)
        .bind(self.tenant.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
        let (kind, name) = head.ok_or(StoreError::NotFound)?;
        let kind = ConversationKind::from_db(&kind).map_err(crate::common::unknown)?;
        let sender_name: String =
            sqlx::query_scalar("SELECT display_name FROM users WHERE uuid = $1 AND tenant_id = $2")
                .bind(sender.0)
                .bind(self.tenant.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?
                .ok_or(StoreError::NotFound)?;
        let rows: Vec<(Uuid, Option<String>, Option<i64>, bool)> = sqlx::query_as(
            "SELECT u.uuid, m.notify, m.muted_until,
                    EXISTS (SELECT 1 FROM blocks b JOIN users bu ON bu.id = b.blocked_id
                            WHERE b.blocker_id = m.user_id AND bu.uuid = $1) AS blocks_sender
             FROM members m JOIN users u ON u.id = m.user_id JOIN conversations c ON c.id = m.conversation_id
             WHERE c.uuid = $2 AND c.tenant_id = $3 AND m.left_seq IS NULL AND u.deleted_at IS NULL AND u.uuid != $4
               AND EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = m.user_id)
             ORDER BY m.id",
        )
        .bind(sender.0)
        .bind(conversation.0)
        .bind(self.tenant.0)
        .bind(sender.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        let mut members = Vec::with_capacity(rows.len());
        for (user, notify, muted_until, blocks_sender) in rows {
            members.push(PushMember {
                user: UserId(user),
                notify: notify.as_deref().map(NotifyLevel::from_db).transpose().map_err(crate::common::unknown)?,
                muted_until: muted_until.map(Timestamp::from_millis),
                blocks_sender,
            });
        }
        Ok(PushAudience { kind, name, sender_name, members })
    }
}

#[async_trait]
impl Outbox for PgStore {
    async fn enqueue_jobs(&self, jobs: Vec<NewJob>) -> StoreResult<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        let tenant = self.tenant;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let now = Timestamp::now();
                    for job in &jobs {
                        sqlx::query(
                            "INSERT INTO outbox (tenant_id, kind, payload, attempts, next_attempt_at, created_at)
                             VALUES ($1, $2, $3, 0, $4, $5)",
                        )
                        .bind(tenant.0)
                        .bind(&job.kind)
                        .bind(&job.payload)
                        .bind(job.run_at.millis())
                        .bind(now.millis())
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    }
                    Ok(())
                })
            })
            .await
    }

    async fn claim_jobs(
        &self,
        kind: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        let tenant = self.tenant;
        let kind = kind.to_owned();
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    // Nodes claim at once: SKIP LOCKED passes over the rows another claim holds, so
                    // each job goes to one of them, and nobody waits.
                    let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
                        "UPDATE outbox SET lease_until = $1, attempts = attempts + 1
                         WHERE id IN (SELECT id FROM outbox
                                      WHERE tenant_id = $2 AND kind = $3 AND failed_at IS NULL AND next_attempt_at <= $4
                                        AND (lease_until IS NULL OR lease_until <= $5)
                                      ORDER BY next_attempt_at, id LIMIT $6 FOR UPDATE SKIP LOCKED)
                         RETURNING id, kind, payload, attempts",
                    )
                    .bind(lease_until.millis())
                    .bind(tenant.0)
                    .bind(&kind)
                    .bind(now.millis())
                    .bind(now.millis())
                    .bind(i64::from(limit))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(db)?;
                    let mut jobs: Vec<Job> = rows
                        .into_iter()
                        .map(|(id, kind, payload, attempts)| Job { id, kind, payload, attempts })
                        .collect();
                    // RETURNING gives no order; ids follow the order jobs were enqueued.
                    jobs.sort_by_key(|job| job.id);
                    Ok(jobs)
                })
            })
            .await
    }

    async fn complete_job(&self, id: i64) -> StoreResult<()> {
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query("DELETE FROM outbox WHERE id = $1").bind(id).execute(&mut *conn).await.map_err(db)?;
                    Ok(())
                })
            })
            .await
    }

    async fn retry_job(&self, id: i64, next_attempt_at: Timestamp) -> StoreResult<()> {
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query("UPDATE outbox SET lease_until = NULL, next_attempt_at = $1 WHERE id = $2")
                        .bind(next_attempt_at.millis())
                        .bind(id)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    Ok(())
                })
            })
            .await
    }

    async fn fail_job(&self, id: i64, now: Timestamp) -> StoreResult<()> {
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query("UPDATE outbox SET lease_until = NULL, failed_at = $1 WHERE id = $2")
                        .bind(now.millis())
                        .bind(id)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    Ok(())
                })
            })
            .await
    }
}
