-- Each digest's revision: a token the database changes whenever what the digest's pages show
-- changes: the digest or its entries saved again, a newer version of a listed paper, a summary of a
-- listed paper. The archive puts it in each page's key and compares keys without loading every stored
-- digest on every run (issue 15). Triggers keep it, so every write path, present or future, does.
ALTER TABLE digests ADD COLUMN revision TEXT NOT NULL DEFAULT '';

UPDATE digests SET revision = lower(hex(randomblob(8)));

CREATE TRIGGER digest_revision_new_digest AFTER INSERT ON digests
BEGIN
    UPDATE digests SET revision = lower(hex(randomblob(8))) WHERE day = NEW.day;
END;

CREATE TRIGGER digest_revision_entry_added AFTER INSERT ON digest_entries
BEGIN
    UPDATE digests SET revision = lower(hex(randomblob(8))) WHERE day = NEW.day;
END;

CREATE TRIGGER digest_revision_entry_changed AFTER UPDATE ON digest_entries
BEGIN
    UPDATE digests SET revision = lower(hex(randomblob(8))) WHERE day IN (OLD.day, NEW.day);
END;

CREATE TRIGGER digest_revision_entry_removed AFTER DELETE ON digest_entries
BEGIN
    UPDATE digests SET revision = lower(hex(randomblob(8))) WHERE day = OLD.day;
END;

-- Only a newer version rewrites a paper's metadata (papers.py); moving rows (retention) sets no column.
CREATE TRIGGER digest_revision_paper_changed AFTER UPDATE OF
    version, title, authors, abstract, categories, primary_category, link, published, updated, comment,
    journal_ref, doi
ON papers
BEGIN
    UPDATE digests SET revision = lower(hex(randomblob(8)))
    WHERE day IN (SELECT day FROM digest_entries WHERE arxiv_id = NEW.arxiv_id);
END;

CREATE TRIGGER digest_revision_summary_added AFTER INSERT ON summaries
BEGIN
    UPDATE digests SET revision = lower(hex(randomblob(8)))
    WHERE day IN (SELECT day FROM digest_entries WHERE arxiv_id = NEW.arxiv_id);
END;

CREATE TRIGGER digest_revision_summary_changed AFTER UPDATE ON summaries
BEGIN
    UPDATE digests SET revision = lower(hex(randomblob(8)))
    WHERE day IN (SELECT day FROM digest_entries WHERE arxiv_id IN (OLD.arxiv_id, NEW.arxiv_id));
END;

CREATE TRIGGER digest_revision_summary_removed AFTER DELETE ON summaries
BEGIN
    UPDATE digests SET revision = lower(hex(randomblob(8)))
    WHERE day IN (SELECT day FROM digest_entries WHERE arxiv_id = OLD.arxiv_id);
END;
