-- Hubbub's core schema.
--
-- Every row has two ids: an integer primary key for ordering and joins, and a UUID for the
-- API (internal ids never leave the server). Every table carries tenant_id, and every query
-- filters by it, so the multi-tenant API that comes later cannot leak across tenants.
-- Foreign keys are ON DELETE RESTRICT: rows are soft-deleted (deleted_at, left_at), never
-- cascaded away. Times are integer milliseconds since the epoch (UTC).

CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY,
    uuid        BLOB    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
INSERT INTO tenants (id, uuid, name, created_at)
VALUES (1, X'00000000000000000000000000000001', 'default', 0);

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    tenant_id           INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    uuid                BLOB    NOT NULL UNIQUE,
    -- Stored folded to lower case, which makes uniqueness case-insensitive.
    username            TEXT    NOT NULL,
    display_name        TEXT    NOT NULL,
    display_name_lower  TEXT    NOT NULL,
    about               TEXT    NOT NULL DEFAULT '',
    password_hash       TEXT    NOT NULL,
    photo_name          TEXT,
    last_seen_at        INTEGER,
    created_at          INTEGER NOT NULL,
    deleted_at          INTEGER,
    UNIQUE (tenant_id, username)
);
CREATE INDEX users_by_display_name ON users (tenant_id, display_name_lower);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    uuid        BLOB    NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    -- SHA-256 of the bearer token; the token itself is never stored.
    token_hash  BLOB    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE ws_tickets (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE RESTRICT,
    token_hash  BLOB    NOT NULL UNIQUE,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX ws_tickets_by_session ON ws_tickets (session_id);

CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    uuid              BLOB    NOT NULL UNIQUE,
    -- Text, not an enum or a boolean, so that new kinds (rooms, channels) are just values.
    kind              TEXT    NOT NULL,
    name              TEXT,
    photo_name        TEXT,
    -- For direct conversations, the two users' UUIDs in order: one conversation per pair.
    direct_key        TEXT,
    -- The seq of the latest change; the next change takes last_seq + 1 in its transaction.
    last_seq          INTEGER NOT NULL DEFAULT 0,
    last_activity_at  INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    deleted_at        INTEGER,
    UNIQUE (tenant_id, direct_key)
);

CREATE TABLE members (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    conversation_id  INTEGER NOT NULL REFERENCES conversations (id) ON DELETE RESTRICT,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    role             TEXT    NOT NULL,
    -- Messages with seq > joined_seq are visible; up to left_seq once the member left.
    joined_seq       INTEGER NOT NULL,
    joined_at        INTEGER NOT NULL,
    left_seq         INTEGER,
    left_at          INTEGER,
    -- Watermarks: one row per member instead of one row per message per reader.
    delivered_seq    INTEGER NOT NULL DEFAULT 0,
    read_seq         INTEGER NOT NULL DEFAULT 0,
    UNIQUE (conversation_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id, left_seq);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    uuid             BLOB    NOT NULL UNIQUE,
    conversation_id  INTEGER NOT NULL REFERENCES conversations (id) ON DELETE RESTRICT,
    seq              INTEGER NOT NULL,
    sender_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    text             TEXT    NOT NULL,
    photo_name       TEXT,
    photo_width      INTEGER,
    photo_height     INTEGER,
    reply_to_id      INTEGER REFERENCES messages (id) ON DELETE RESTRICT,
    forwarded        INTEGER NOT NULL DEFAULT 0,
    client_id        TEXT,
    created_at       INTEGER NOT NULL,
    edited_at        INTEGER,
    deleted_at       INTEGER,
    UNIQUE (conversation_id, seq),
    -- A retried send with the same client_id is stored once.
    UNIQUE (sender_id, client_id)
);
CREATE INDEX messages_by_photo ON messages (photo_name) WHERE photo_name IS NOT NULL;

CREATE TABLE reactions (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    message_id  INTEGER NOT NULL REFERENCES messages (id) ON DELETE RESTRICT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    emoji       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (message_id, user_id)
);

-- The event log per conversation, so /events?after= replays every change in order, with
-- exactly the JSON that went to the sockets.
CREATE TABLE events (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    conversation_id  INTEGER NOT NULL REFERENCES conversations (id) ON DELETE RESTRICT,
    seq              INTEGER NOT NULL,
    kind             TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    UNIQUE (conversation_id, seq)
);

-- When each watermark moved, so receipts can say when a message was delivered and read
-- without a row per message per reader: the first mark at or above a seq is its time.
CREATE TABLE mark_moves (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    conversation_id  INTEGER NOT NULL REFERENCES conversations (id) ON DELETE RESTRICT,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    kind             TEXT    NOT NULL,
    seq              INTEGER NOT NULL,
    at               INTEGER NOT NULL
);
CREATE INDEX mark_moves_lookup ON mark_moves (conversation_id, user_id, kind, seq);

-- Stored files (photos) and their sizes, for the media pipeline's bookkeeping.
CREATE TABLE media (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    name          TEXT    NOT NULL UNIQUE,
    content_type  TEXT    NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    size_bytes    INTEGER NOT NULL,
    -- 'avatar' (fit to 640 px) or 'message' (fit to 1600 px).
    purpose       TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

-- One row the health check rewrites, to prove the database accepts writes.
CREATE TABLE health (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at  INTEGER NOT NULL
);
