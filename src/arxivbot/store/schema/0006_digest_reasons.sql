-- Reasons stored generically: every scorer's own score and reason, not only keyword hits.
-- The table is rebuilt (not ALTER ... DROP COLUMN, which older SQLite lacks and which keeps the old
-- columns' bytes): old rows become the keyword scorer's reason, as models.keyword_reason words it.
CREATE TABLE digest_entries_new (
    day            TEXT NOT NULL REFERENCES digests(day) ON DELETE CASCADE,
    rank           INTEGER NOT NULL,
    arxiv_id       TEXT NOT NULL REFERENCES papers(arxiv_id),
    score          REAL NOT NULL,               -- the combined score the ranking is sorted by
    category       TEXT NOT NULL,
    announce_type  TEXT NOT NULL,
    announced      TEXT NOT NULL,
    source         TEXT NOT NULL,
    reasons        TEXT NOT NULL DEFAULT '[]',  -- JSON list of {scorer, score, text, terms, title_terms}
    PRIMARY KEY (day, arxiv_id)
);

INSERT INTO digest_entries_new (day, rank, arxiv_id, score, category, announce_type, announced, source, reasons)
SELECT day, rank, arxiv_id, score, category, announce_type, announced, source,
       json_array(json_object(
           'scorer', 'keywords',
           'score', score,
           'text', CASE
               WHEN json_array_length(matched) > 0
               THEN 'keywords: ' || (SELECT group_concat(hit.value, ', ') FROM json_each(matched) AS hit)
               ELSE ''
           END,
           'terms', json(matched),
           'title_terms', json(title_matched)
       ))
FROM digest_entries;

DROP TABLE digest_entries;

ALTER TABLE digest_entries_new RENAME TO digest_entries;

CREATE INDEX digest_entries_by_paper ON digest_entries(arxiv_id);
