-- Full-text search over messages (issue 12). A generated tsvector column with a GIN index:
-- PostgreSQL computes it in the same statement as every insert and edit (hot sends
-- included), and a delete, which empties the text, empties it too.
-- The `simple` configuration (no stemming, no stop words: every language is cut the same
-- way), after `unaccent` (cafe finds café) and with punctuation turned into spaces, so the
-- words are those SQLite's unicode61 tokenizer and `hubbub_app::search::terms` see
-- (`bob@example.com` is three words, not one e-mail token). unaccent is a trusted
-- extension (PostgreSQL 13+): a database owner may create it without being a superuser.
CREATE EXTENSION IF NOT EXISTS unaccent;

-- unaccent() is only STABLE (its dictionary could change); a generated column needs an
-- IMMUTABLE expression, so the dictionary is named explicitly and the function declared
-- immutable, the usual way to index unaccented text.
CREATE FUNCTION hubbub_search_vector(body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN to_tsvector('simple'::regconfig,
    regexp_replace(unaccent('unaccent'::regdictionary, body), '[[:punct:]]+', ' ', 'g'));

ALTER TABLE messages ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (hubbub_search_vector(text)) STORED;

CREATE INDEX messages_search ON messages USING gin (search_vector);
