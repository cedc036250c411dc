-- Contacts with aliases, blocks, and each member's own settings of a conversation.
--
-- The settings are per (conversation, user), so they live on the member row: archived,
-- pinned (pin_order: pinned conversations are listed by it, lowest first; NULL unpinned),
-- muted_until (ms; NULL not muted), and the member's own clear of the history: nothing at
-- or below cleared_seq is theirs to see any more, and `hidden` (cleared with hide) keeps the
-- conversation out of their list until the next message. What these mean is decided in
-- hubbub-app (rules/settings.rs, rules/history.rs); the schema only keeps them.
ALTER TABLE members ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN pin_order INTEGER;
ALTER TABLE members ADD COLUMN muted_until INTEGER;
ALTER TABLE members ADD COLUMN cleared_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;

-- A user's address book: the people they added, with their own name for each (seen by the
-- owner only).
CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    owner_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    alias       TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (owner_id, user_id)
);

-- Who blocks whom. Looked up both ways: by the blocker (their list, their presence and
-- typing audiences) and by the blocked (a send into a direct conversation).
CREATE TABLE blocks (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    blocker_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    blocked_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    created_at  INTEGER NOT NULL,
    UNIQUE (blocker_id, blocked_id)
);
CREATE INDEX blocks_by_blocked ON blocks (blocked_id, blocker_id);
