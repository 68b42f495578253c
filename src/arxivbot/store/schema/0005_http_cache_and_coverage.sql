-- Validators for conditional GET, and which days have been fetched (so a window is never fetched twice).
CREATE TABLE http_cache (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    announced     TEXT,                         -- the day the cached response announced
    fetched_at    TEXT NOT NULL
);

CREATE TABLE coverage (
    day        TEXT NOT NULL,                   -- an announcement/submission day fully fetched
    source     TEXT NOT NULL,                   -- rss | api
    run_id     INTEGER REFERENCES runs(id),
    covered_at TEXT NOT NULL,
    PRIMARY KEY (day, source)
);
