-- How many announcements each digest was selected from, so the page can say "8 selected from 12
-- announced". NULL for digests saved before this column existed: the page then gives the count alone.
ALTER TABLE digests ADD COLUMN announced INTEGER;
