-- Mentions, pins and edit history (issue 12). (0010 belongs to search.)
-- mentions: the resolved user ids as Message.mentions lists them (a JSON array of UUID
-- strings); mentions_all: the text said @channel or @all where the kind allows it, so an
-- unread mention is counted from the read watermark with no row per member.
-- message_mentions: one row per member mentioned by name, for counting and /api/mentions.
-- message_versions: the text a message had before each edit (and its edited_at then).
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN mentions_all INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN pinned_at INTEGER;
CREATE INDEX messages_pinned ON messages (conversation_id, pinned_at) WHERE pinned_at IS NOT NULL;
CREATE INDEX messages_mentioning_all ON messages (conversation_id, seq) WHERE mentions_all = 1;

CREATE TABLE message_mentions (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    message_id  INTEGER NOT NULL REFERENCES messages (id) ON DELETE RESTRICT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    UNIQUE (message_id, user_id)
);
CREATE INDEX message_mentions_by_user ON message_mentions (user_id, message_id);

CREATE TABLE message_versions (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    message_id   INTEGER NOT NULL REFERENCES messages (id) ON DELETE RESTRICT,
    text         TEXT    NOT NULL,
    edited_at    INTEGER,
    replaced_at  INTEGER NOT NULL
);
CREATE INDEX message_versions_by_message ON message_versions (message_id, id);
