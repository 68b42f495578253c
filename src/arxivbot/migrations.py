"""Append-only, named schema migrations for arxivbot's SQLite database.

Never edit or reorder a migration that has shipped: add a new one at the end. Each applied name is
recorded in ``_migrations``, so a database from last year opens and is brought up to date.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_papers_and_announcements",
        """
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
        """,
    ),
    (
        "0002_runs",
        """
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
        """,
    ),
    (
        "0003_digests",
        """
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
        """,
    ),
    (
        "0004_summaries",
        """
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
        """,
    ),
    (
        "0005_http_cache_and_coverage",
        """
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
        """,
    ),
)
