-- Retention: past the window of full records, a paper no one kept leaves only this compact record,
-- enough for "new to the database", the API backfill's dedup and the counts. One row per paper
-- (its latest announcement), small types on purpose: about 30 bytes, against about 2 kB in full.
CREATE TABLE announce_types (
    code INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

INSERT INTO announce_types (code, name) VALUES (1, 'new'), (2, 'cross'), (3, 'replace'), (4, 'replace-cross');

CREATE TABLE compact_papers (
    arxiv_id   TEXT PRIMARY KEY,                -- without version
    version    INTEGER NOT NULL,                -- the newest version announced
    day        INTEGER NOT NULL,                -- its latest announcement day, in days since 1970-01-01
    type       INTEGER NOT NULL REFERENCES announce_types(code),  -- that announcement's type
    title_hash INTEGER NOT NULL,                -- 64-bit hash of rank.normalised_title(title)
    score      REAL                             -- the paper's score, when one was recorded
) WITHOUT ROWID;
