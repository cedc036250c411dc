-- Server administrators and the audit log of security-relevant actions.
--
-- `users.is_admin` is granted from the command line (`hubbub admin grant USERNAME`), never
-- through the API. The audit log is append-only: one row per action, who did it (NULL when
-- nobody signed in did, as for a failed login), what it was about, from which address, and
-- a JSON object of details. Rows are never updated or deleted by the server.
ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    uuid        BLOB    NOT NULL UNIQUE,
    at          INTEGER NOT NULL,
    actor_id    INTEGER REFERENCES users (id) ON DELETE RESTRICT,
    action      TEXT    NOT NULL,
    target      TEXT,
    ip          TEXT,
    details     TEXT    NOT NULL DEFAULT '{}'
);
-- Newest first, optionally for one actor or one action.
CREATE INDEX audit_by_time ON audit_log (tenant_id, id);
CREATE INDEX audit_by_actor ON audit_log (tenant_id, actor_id, id);
CREATE INDEX audit_by_action ON audit_log (tenant_id, action, id);
