-- Spaces (issue 11): people with roles, holding channels.
--
-- A space's members have one row each in space_members with their role ('owner', 'admin',
-- 'member': text, and reading a value this build does not know is an error). Leaving or
-- being removed deletes that row: unlike a conversation's members, a space has no history
-- a former member may still read (its channels keep their own member rows, with left_seq).
-- A deleted space keeps its row with deleted_at set, and its channels are deleted with it.
CREATE TABLE spaces (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    uuid         BLOB    NOT NULL UNIQUE,
    name         TEXT    NOT NULL,
    -- '' when none is set.
    description  TEXT    NOT NULL DEFAULT '',
    photo_name   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER
);

CREATE TABLE space_members (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    space_id   INTEGER NOT NULL REFERENCES spaces (id) ON DELETE RESTRICT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    role       TEXT    NOT NULL,
    joined_at  INTEGER NOT NULL,
    UNIQUE (space_id, user_id)
);
-- A user's spaces.
CREATE INDEX space_members_by_user ON space_members (tenant_id, user_id);

-- The space a channel belongs to; NULL for standalone rooms, groups and direct chats.
ALTER TABLE conversations ADD COLUMN space_id INTEGER REFERENCES spaces (id) ON DELETE RESTRICT;
CREATE INDEX conversations_by_space ON conversations (tenant_id, space_id) WHERE space_id IS NOT NULL;
