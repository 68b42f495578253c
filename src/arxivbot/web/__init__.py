"""The HTTP side of ``arxivbot serve`` and of the read-only Vercel app.

::

    http.py         sending published bytes (ETag, 304, gzip, CSP), JSON errors, the bearer-token check
    site_routes.py  the routes of the published site: pages, day pages, feeds, JSON, search index, assets
    static_app.py   ``create_static_app``: the site a run published, served read-only (Vercel)
    feedback.py     ``POST /api/feedback``: like/dislike from the page, token-protected and rate-limited

``arxivbot.serve`` builds the service from these.
"""
