-- Full-text search over messages (issue 12). An FTS5 external-content table: the text
-- lives only in messages; the index holds the words of every message that is not deleted
-- and has text. Words are cut by unicode61 with diacritics removed (cafe finds café), and
-- 2- and 3-character prefix indexes make the short prefixes of type-ahead cheap.
-- The triggers keep it in the writing transaction, whichever path writes (the writer's
-- sqlx connection or the direct rusqlite jobs of hot sends): an edit re-indexes, a delete
-- (which empties the text and sets deleted_at) takes the message out at once.
-- Derived data: `hubbub migrate` does not copy it (PostgreSQL has its own index). Deleted
-- and empty messages are left out, so FTS5's 'rebuild' (which indexes every row) must not be used.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    text,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

INSERT INTO messages_fts (rowid, text)
SELECT id, text FROM messages WHERE deleted_at IS NULL AND text != '';

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.deleted_at IS NULL AND new.text != '' BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;

-- Only a change of the text or of deleted_at touches the index (not marks, pins, mentions
-- or link previews). One trigger, so the old words are removed (exactly as they were
-- indexed) before the new ones go in: the other order would take out the words an edit keeps.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, deleted_at ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text)
    SELECT 'delete', old.id, old.text WHERE old.deleted_at IS NULL AND old.text != '';
    INSERT INTO messages_fts (rowid, text)
    SELECT new.id, new.text WHERE new.deleted_at IS NULL AND new.text != '';
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.deleted_at IS NULL AND old.text != '' BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
