-- Link previews (issue 17): what the server found at the first http(s) link of a message,
-- attached after the send as a change of its own (a message.updated, edited_at untouched).
-- link_url is set when a preview is attached (and cleared with the rest when the message is
-- deleted); link_image_name is a stored media file, a use of it like photo_name.
-- (0006 belongs to file attachments.)
ALTER TABLE messages ADD COLUMN link_url TEXT;
ALTER TABLE messages ADD COLUMN link_title TEXT;
ALTER TABLE messages ADD COLUMN link_description TEXT;
ALTER TABLE messages ADD COLUMN link_site_name TEXT;
ALTER TABLE messages ADD COLUMN link_image_name TEXT;
ALTER TABLE messages ADD COLUMN link_image_width BIGINT;
ALTER TABLE messages ADD COLUMN link_image_height BIGINT;
CREATE INDEX messages_by_link_image ON messages (link_image_name) WHERE link_image_name IS NOT NULL;
