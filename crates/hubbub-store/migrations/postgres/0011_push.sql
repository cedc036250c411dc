-- Notifications (issue 12). (0010 belongs to search.)
-- members.notify: the member's choice of which messages notify ('all', 'mentions', 'none');
-- NULL until they choose, so the kind's default (policy::default_notify) applies.
ALTER TABLE members ADD COLUMN notify TEXT;
