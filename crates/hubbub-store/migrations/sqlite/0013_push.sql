-- Notifications (issue 12). (0012 belongs to search.)
-- members.notify: the member's choice of which messages notify ('all', 'mentions', 'none');
-- NULL until they choose, so the kind's default (policy::default_notify) applies.
ALTER TABLE members ADD COLUMN notify TEXT;

-- Web Push subscriptions: one row per browser endpoint (a device), owned by whoever
-- subscribed it last; the keys as the browser gave them (base64url).
CREATE TABLE push_subscriptions (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    endpoint    TEXT    NOT NULL UNIQUE,
    p256dh      TEXT    NOT NULL,
    auth        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);

-- The durable outbox: work for after a commit (pushes now, webhooks later), retried with
-- backoff. A worker leases a job (lease_until) so that one node works on it at a time; a
-- lease that runs out (a crashed node) makes it claimable again. failed_at: given up.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    kind             TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER,
    failed_at        INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (kind, next_attempt_at) WHERE failed_at IS NULL;
