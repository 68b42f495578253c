-- What the user liked or disliked: kept for ever, and what learned ranking trains on.
CREATE TABLE feedback (
    arxiv_id    TEXT PRIMARY KEY,               -- without version; the paper need not be stored
    verdict     TEXT NOT NULL CHECK (verdict IN ('like', 'dislike')),
    version     INTEGER,                        -- the version judged, when known
    recorded_at TEXT NOT NULL
);
