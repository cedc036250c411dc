-- What a member who left could see of a group: its name and photo at their left_seq.
--
-- A former member's view of a conversation stays as it was when they left, so a rename or
-- a new photo afterwards must not reach them; these columns keep what they saw. They are set
-- by the removal (in its transaction) and cleared when the member is added back. A photo
-- named here counts as referenced, so its file stays while a former member's view shows it.
ALTER TABLE members ADD COLUMN left_name TEXT;
ALTER TABLE members ADD COLUMN left_photo_name TEXT;

-- Members who left before this migration: their name and photo at left_seq come from the
-- last snapshot event before it (every rename and photo change records one, and seq 1 is the
-- conversation's creation). Photo URLs are '/media/<name>'.
UPDATE members
SET left_name = COALESCE(
        (SELECT json_extract(e.payload, '$.data.name') FROM events e
         WHERE e.conversation_id = members.conversation_id AND e.seq < members.left_seq
           AND e.kind IN ('conversation.created', 'conversation.updated')
         ORDER BY e.seq DESC LIMIT 1),
        (SELECT c.name FROM conversations c WHERE c.id = members.conversation_id)),
    left_photo_name =
        (SELECT substr(json_extract(e.payload, '$.data.photo_url'), length('/media/') + 1) FROM events e
         WHERE e.conversation_id = members.conversation_id AND e.seq < members.left_seq
           AND e.kind IN ('conversation.created', 'conversation.updated')
         ORDER BY e.seq DESC LIMIT 1)
WHERE left_seq IS NOT NULL
  AND conversation_id IN (SELECT id FROM conversations WHERE kind = 'group');

-- A photo replaced before this migration may have had its file deleted already: it cannot
-- be shown, so the view shows none rather than a broken link.
UPDATE members SET left_photo_name = NULL
WHERE left_photo_name IS NOT NULL AND left_photo_name NOT IN (SELECT name FROM media);

-- Media reads look a file up by every place that may use it.
CREATE INDEX members_by_left_photo ON members (left_photo_name) WHERE left_photo_name IS NOT NULL;
CREATE INDEX users_by_photo ON users (photo_name) WHERE photo_name IS NOT NULL;
CREATE INDEX conversations_by_photo ON conversations (photo_name) WHERE photo_name IS NOT NULL;
