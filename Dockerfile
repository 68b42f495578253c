# arxivbot as a long-running service: the feeds, page and JSON, /health, a protected POST /update,
# and its own daily cycle (server.schedule). Build:  docker build -t arxivbot .
# Run it with docker-compose.yml, or (config.json and the database live in the /data volume):
#   docker run -d -p 8000:8000 -v arxivbot-data:/data -v "$PWD/config.json:/data/config.json:ro" -e DASHSCOPE_API_KEY arxivbot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what the package needs is copied: no tests, no local virtualenv, no .git.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && rm -rf /build

# The service never runs as root; /data belongs to its user, so a new named volume does too.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin arxivbot \
    && mkdir /data && chown arxivbot:arxivbot /data
USER arxivbot
WORKDIR /data
VOLUME ["/data"]

EXPOSE 8000
# The slim image has no curl: Python's urllib asks /health, and any error or non-2xx answer fails the check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]

CMD ["arxivbot", "serve", "--config", "/data/config.json", "--host", "0.0.0.0", "--port", "8000"]
