-- Who heard of each event when it was committed: the recipients' UUIDs, comma-separated
-- (lower-case, hyphenated), the format of the PostgreSQL schema. A node that missed an
-- envelope (a gap in a conversation's seqs, or NATS down for a while) replays the event from
-- here to the same audience, not to today's members. Events stored before this migration
-- have no recorded audience ('') and replay to nobody; clients fill those through `/events`.
ALTER TABLE events ADD COLUMN audience TEXT NOT NULL DEFAULT '';

-- The replay after a bus outage reads every conversation's events since a time.
CREATE INDEX events_by_created_at ON events (created_at);
