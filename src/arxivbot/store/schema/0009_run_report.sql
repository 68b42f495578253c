-- The rest of a run's report, so the stored run is the same record the CLI printed and /health serves.
ALTER TABLE runs ADD COLUMN backfilled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN summary_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';    -- JSON list of one-line warnings
ALTER TABLE runs ADD COLUMN deliveries TEXT NOT NULL DEFAULT '[]';  -- JSON list of {channel, ok, message}
