-- Learned relevance (issue 11): the user's library as last loaded from each source, the arXiv
-- metadata fetched for it, and the caches that keep learned ranking cheap (fitted models, embedding
-- vectors, LLM judgements).

-- One row per library item, per source. BibTeX files and arXiv id lists are re-read every run and
-- replace their source's rows; Zotero items are synced incrementally (library_sync).
CREATE TABLE library_items (
    source    TEXT NOT NULL,                    -- 'bibtex', 'arxiv' or 'zotero'
    item_key  TEXT NOT NULL,                    -- the BibTeX entry key, the arXiv id, the Zotero item key
    arxiv_id  TEXT,                             -- without version, when known
    doi       TEXT,
    title     TEXT NOT NULL,
    abstract  TEXT NOT NULL DEFAULT '',
    keywords  TEXT NOT NULL DEFAULT '[]',       -- JSON list of the item's own keywords or tags
    added_at  TEXT,                             -- when the user added it (Zotero), else when first loaded
    version   INTEGER,                          -- the Zotero item's version
    origin    TEXT NOT NULL DEFAULT '',         -- the file, or 'zotero:user/<id>'
    PRIMARY KEY (source, item_key)
);
CREATE INDEX library_items_by_arxiv_id ON library_items (arxiv_id);

-- How far each incremental source has been synced: the Zotero library version last seen.
CREATE TABLE library_sync (
    origin    TEXT PRIMARY KEY,                 -- 'zotero:user/<id>'
    version   INTEGER NOT NULL,
    synced_at TEXT NOT NULL
);

-- Metadata of papers fetched through the arXiv API by id (library ids, BibTeX entries without an
-- abstract, liked papers the database never saw): each id is asked once, also when arXiv does not
-- know it (status 'missing').
CREATE TABLE arxiv_metadata (
    arxiv_id   TEXT PRIMARY KEY,                -- without version
    status     TEXT NOT NULL CHECK (status IN ('found', 'missing')),
    version    INTEGER,
    title      TEXT NOT NULL DEFAULT '',
    abstract   TEXT NOT NULL DEFAULT '',
    authors    TEXT NOT NULL DEFAULT '[]',      -- JSON list
    categories TEXT NOT NULL DEFAULT '[]',      -- JSON list
    published  TEXT,
    fetched_at TEXT NOT NULL
);

-- Fitted ranking models, keyed by a hash of what they were fitted on and the method's version.
CREATE TABLE fitted_models (
    model_key TEXT PRIMARY KEY,
    method    TEXT NOT NULL,
    fitted_at TEXT NOT NULL,
    model     BLOB NOT NULL
);

-- Embedding vectors (float32), one per text and model: each text is embedded once.
CREATE TABLE embeddings (
    model      TEXT NOT NULL,
    text_hash  TEXT NOT NULL,                   -- sha256 of the embedded text
    dimensions INTEGER NOT NULL,
    vector     BLOB NOT NULL,
    PRIMARY KEY (model, text_hash)
) WITHOUT ROWID;

-- The LLM judge's verdicts, per paper version, interests statement and model: never paid twice.
CREATE TABLE judgements (
    arxiv_id       TEXT NOT NULL,
    version        INTEGER NOT NULL,
    statement_hash TEXT NOT NULL,
    model          TEXT NOT NULL,
    score          REAL NOT NULL,               -- 0 (unrelated) to 10 (exactly the stated interests)
    reason         TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    PRIMARY KEY (arxiv_id, version, statement_hash, model)
);
