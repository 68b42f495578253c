# arxivbot as a long-running service: the feeds, page and JSON, /health, a protected POST /update,
# and its own daily cycle (server.schedule). Build:  docker build -t arxivbot .
# Run it with docker-compose.yml, or (config.json and the database live in the /data volume):
#   docker run -d -p 8000:8000 -v arxivbot-data:/data -v "$PWD/config.json:/data/config.json:ro" -e DASHSCOPE_API_KEY arxivbot
# The base image is pinned by digest, so every rebuild starts from exactly the same image: the tag
# python:3.11-slim as published on 2026-08-05 (Python 3.11.15, Debian trixie), the multi-platform index
# digest recorded in docker-library/repo-info (repos/python/remote/3.11-slim.md). To move to a newer
# build, replace the digest with the current one (`docker buildx imagetools inspect python:3.11-slim`);
# docs/deploy.md, "Docker".
FROM python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what the package needs is copied: no tests, no local virtualenv, no .git.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && rm -rf /build

# The service never runs as root; /data belongs to its user, so a new named volume does too. USER is
# numeric: the runtime (and Kubernetes' runAsNonRoot) can tell it is not root without reading /etc/passwd.
RUN groupadd --gid 10001 arxivbot \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin arxivbot \
    && mkdir /data && chown 10001:10001 /data
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]

EXPOSE 8000
# The slim image has no curl: Python's urllib asks /health, and any error or non-2xx answer fails the check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]

CMD ["arxivbot", "serve", "--config", "/data/config.json", "--host", "0.0.0.0", "--port", "8000"]
