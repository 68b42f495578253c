-- Each digest's delivery to each message channel (e-mail, chat): what was sent, what failed, what is
-- due. A run retries what is not 'sent' (within delivery.retry_days) and never sends a 'sent' one again.
-- No foreign key to digests: a re-run of a day replaces its digest, and what was sent stays sent.
CREATE TABLE deliveries (
    day              TEXT NOT NULL,              -- the digest's day
    channel          TEXT NOT NULL,              -- stable name: email, slack, discord:1, or a configured name
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    parts_sent       INTEGER NOT NULL DEFAULT 0, -- messages of a split digest already sent; a retry resumes
    parts_total      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',   -- one line naming channel, server and fix; never a secret
    first_attempt_at TEXT NOT NULL,
    last_attempt_at  TEXT NOT NULL,
    sent_at          TEXT,
    PRIMARY KEY (day, channel)
);

CREATE INDEX deliveries_by_channel ON deliveries(channel, status, day);
