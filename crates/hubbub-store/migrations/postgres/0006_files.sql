-- File attachments (issue 17): the same columns as the SQLite migration 0008_files, so
-- `hubbub migrate` copies them one to one. A message carries a photo or a file; the file's
-- stored (random) name, the sender's cleaned name, its declared type (normalised) and size
-- stay with the message; the `media` row (purpose 'file') is its record. A tombstone clears them.
ALTER TABLE messages ADD COLUMN file_name TEXT;
ALTER TABLE messages ADD COLUMN file_display_name TEXT;
ALTER TABLE messages ADD COLUMN file_content_type TEXT;
ALTER TABLE messages ADD COLUMN file_size BIGINT;
CREATE INDEX messages_by_file ON messages (file_name) WHERE file_name IS NOT NULL;
