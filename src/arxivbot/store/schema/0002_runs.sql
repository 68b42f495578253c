-- One row per cycle, backfill or service start: what /health and the scheduler read.
CREATE TABLE runs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    kind              TEXT NOT NULL,            -- run | backfill | serve
    started_at        TEXT NOT NULL,
    finished_at       TEXT,
    status            TEXT NOT NULL,            -- running | ok | empty | failed
    day               TEXT,
    fetched           INTEGER NOT NULL DEFAULT 0,
    new_papers        INTEGER NOT NULL DEFAULT 0,
    selected          INTEGER NOT NULL DEFAULT 0,
    summarized        INTEGER NOT NULL DEFAULT 0,
    llm_calls         INTEGER NOT NULL DEFAULT 0,
    cache_hits        INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    message           TEXT NOT NULL DEFAULT ''
);

CREATE INDEX runs_by_start ON runs(started_at);
