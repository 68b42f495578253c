-- The LLM summaries: the cache that keeps a summary from being paid for twice.
CREATE TABLE summaries (
    arxiv_id          TEXT NOT NULL,
    version           INTEGER NOT NULL,
    model             TEXT NOT NULL,
    prompt_hash       TEXT NOT NULL,
    input_mode        TEXT NOT NULL,
    text              TEXT NOT NULL,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (arxiv_id, version, model, prompt_hash, input_mode)
);
