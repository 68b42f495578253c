-- Every announced paper (its newest known version) and each day it was announced.
-- Shipped migrations are never edited: a change is a new file with the next number.
CREATE TABLE papers (
    arxiv_id         TEXT PRIMARY KEY,          -- without version
    version          INTEGER NOT NULL,
    title            TEXT NOT NULL,
    authors          TEXT NOT NULL,             -- JSON list
    abstract         TEXT NOT NULL,
    categories       TEXT NOT NULL,             -- JSON list
    primary_category TEXT,
    link             TEXT NOT NULL,
    published        TEXT,
    updated          TEXT,
    comment          TEXT,
    journal_ref      TEXT,
    doi              TEXT,
    first_seen       TEXT NOT NULL,             -- when the paper was first stored
    refreshed_at     TEXT NOT NULL              -- when a newer version last replaced its metadata
);

CREATE TABLE announcements (
    arxiv_id      TEXT NOT NULL REFERENCES papers(arxiv_id),
    announced     TEXT NOT NULL,                -- YYYY-MM-DD
    announce_type TEXT NOT NULL,
    version       INTEGER NOT NULL,
    source        TEXT NOT NULL,                -- rss | api
    PRIMARY KEY (arxiv_id, announced)
);

CREATE INDEX announcements_by_day ON announcements(announced);
