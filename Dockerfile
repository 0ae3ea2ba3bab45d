# microcred: the issuing service. Build: docker build -t microcred .
# Run: docker run -e MICROCRED_KEY_PASSPHRASE=... -v microcred-keys:/home/microcred/keys \
#        -v microcred-data:/home/microcred/data -p 127.0.0.1:8000:8000 microcred
# (compose.yaml runs it with PostgreSQL.)
FROM python:3.11-slim AS build
WORKDIR /src
# What the wheel is built from: the package (its schemas/ is a symlink to the top-level folder)
# and the Alembic migrations, which pyproject force-includes as microcred/_migrations.
COPY pyproject.toml README.md ./
COPY src ./src
COPY schemas ./schemas
COPY migrations ./migrations
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --create-home --uid 10001 microcred
COPY --from=build /dist/*.whl /tmp/
RUN pip install /tmp/*.whl && rm /tmp/*.whl
# The volume folders exist before VOLUME, owned by the service's user, so fresh named volumes
# start out writable by it. Keys: the encrypted key files (every worker and host must share them);
# data: the embedded SQLite database when MICROCRED_DATABASE_URL is unset.
RUN install -d -o microcred -g microcred -m 700 /home/microcred/keys \
    && install -d -o microcred -g microcred -m 700 /home/microcred/data
USER microcred
WORKDIR /home/microcred
VOLUME ["/home/microcred/keys", "/home/microcred/data"]
# The passphrase comes from the environment (a secret), never the image: the service refuses to
# start without MICROCRED_KEY_PASSPHRASE. Set MICROCRED_BASE_URL to the public https address.
ENV MICROCRED_HOST=0.0.0.0 \
    MICROCRED_PORT=8000 \
    MICROCRED_KEYS_DIR=/home/microcred/keys \
    MICROCRED_DATA_DIR=/home/microcred/data
EXPOSE 8000
# slim images have no curl: ask /healthz with the standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('MICROCRED_PORT', '8000'), timeout=4)"]
ENTRYPOINT ["microcred"]
# Migrates the database (under an advisory lock on PostgreSQL), then serves.
CMD ["serve"]
