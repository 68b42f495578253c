"""arxivbot's memory: the only package that speaks SQL.

Everything the later stages publish is read back from here: every announced paper (full for a
while, compact after; see ``retention``), every run, each day's digest with every scorer's reason,
the LLM summaries (the paid-for cache), feedback, which digest went to which e-mail or chat
channel, the HTTP validators for conditional GET, and which days have been fetched. The rest of
the code depends on the :class:`Store` protocol only.

::

    schema/NNNN_name.sql   the migrations, applied in order (migrations.py)
    connection.py          open, WAL, transactions, open errors
    papers.py  digests.py  summaries.py  runs.py  http_cache.py  feedback.py  deliveries.py  retention.py
    sqlite.py              SQLiteStore: the concerns composed; open_store
    protocol.py            Store: what the rest of arxivbot may call
"""

from arxivbot.models import HttpValidators
from arxivbot.store.papers import SavedListing
from arxivbot.store.protocol import Store
from arxivbot.store.rows import utc_now
from arxivbot.store.sqlite import SQLiteStore, open_store

# HttpValidators lives in arxivbot.models; it is re-exported for older imports.
__all__ = ["HttpValidators", "SQLiteStore", "SavedListing", "Store", "open_store", "utc_now"]
