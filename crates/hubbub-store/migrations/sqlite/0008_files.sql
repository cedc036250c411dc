-- File attachments (issue 17): a message carries a photo or a file. The file's stored
-- (random) name, the sender's cleaned name for it, its declared type (normalised) and size
-- are kept with the message, as a photo's dimensions are, so history reads need no join;
-- the `media` row (purpose 'file') is its record, as for photos. A tombstone clears them.
ALTER TABLE messages ADD COLUMN file_name TEXT;
ALTER TABLE messages ADD COLUMN file_display_name TEXT;
ALTER TABLE messages ADD COLUMN file_content_type TEXT;
ALTER TABLE messages ADD COLUMN file_size INTEGER;
CREATE INDEX messages_by_file ON messages (file_name) WHERE file_name IS NOT NULL;
