-- Channels and rooms, and the owner role (issue 11): the same columns as the SQLite
-- migration 0004_channels_roles, so `hubbub migrate` copies them one to one.
--
-- A channel with no space is a standalone room (spaces come later, with their own table
-- and conversations.space_id). Kinds and roles stay text: reading a value this build does
-- not know is an error, never a default.
ALTER TABLE conversations ADD COLUMN visibility TEXT NOT NULL DEFAULT 'private';
-- At most 250 characters; '' when none is set.
ALTER TABLE conversations ADD COLUMN topic TEXT NOT NULL DEFAULT '';
-- The Argon2id hash of a public room's join password; the password is never stored.
ALTER TABLE conversations ADD COLUMN password_hash TEXT;
-- What a member who left saw of the topic (with left_name and left_photo_name).
ALTER TABLE members ADD COLUMN left_topic TEXT;

-- The directory lists open rooms that are not deleted.
CREATE INDEX conversations_directory ON conversations (tenant_id, kind, visibility) WHERE deleted_at IS NULL;
