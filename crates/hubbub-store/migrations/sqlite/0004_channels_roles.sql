-- Channels and rooms, and the owner role (issue 11).
--
-- A channel with no space is a standalone room (spaces come in a later migration, with
-- their own table and conversations.space_id). Kinds ('direct', 'group', 'channel') and
-- roles ('owner', 'admin', 'member') stay text: reading a value this build does not know
-- is an error, never a default.
--
-- visibility: 'public' rooms are listed in the directory and anyone signed in may join;
-- 'private' ones (and every group and direct chat) are by invitation.
ALTER TABLE conversations ADD COLUMN visibility TEXT NOT NULL DEFAULT 'private';
-- At most 250 characters; '' when none is set.
ALTER TABLE conversations ADD COLUMN topic TEXT NOT NULL DEFAULT '';
-- The Argon2id hash of a public room's join password; the password is never stored.
ALTER TABLE conversations ADD COLUMN password_hash TEXT;
-- What a member who left saw of the topic (with left_name and left_photo_name).
ALTER TABLE members ADD COLUMN left_topic TEXT;

-- The directory lists open rooms that are not deleted.
CREATE INDEX conversations_directory ON conversations (tenant_id, kind, visibility) WHERE deleted_at IS NULL;
