-- Each day's published digest and its ranked entries (the keyword columns became `reasons` in 0006).
CREATE TABLE digests (
    day          TEXT PRIMARY KEY,
    run_id       INTEGER REFERENCES runs(id),
    generated_at TEXT NOT NULL,
    window_start TEXT NOT NULL,                 -- first announcement day this digest considered
    categories   TEXT NOT NULL,                 -- JSON list, as configured for that digest
    keywords     TEXT NOT NULL                  -- JSON list
);

CREATE TABLE digest_entries (
    day            TEXT NOT NULL REFERENCES digests(day) ON DELETE CASCADE,
    rank           INTEGER NOT NULL,
    arxiv_id       TEXT NOT NULL REFERENCES papers(arxiv_id),
    score          REAL NOT NULL,
    category       TEXT NOT NULL,
    announce_type  TEXT NOT NULL,
    announced      TEXT NOT NULL,
    source         TEXT NOT NULL,
    matched        TEXT NOT NULL,               -- JSON list of keywords
    title_matched  TEXT NOT NULL,               -- JSON list of keywords
    PRIMARY KEY (day, arxiv_id)
);

CREATE INDEX digest_entries_by_paper ON digest_entries(arxiv_id);
