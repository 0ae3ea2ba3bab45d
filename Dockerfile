# microcred: the credential core and CLI. Build: docker build -t microcred .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY schemas ./schemas
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 microcred
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm /tmp/*.whl
USER microcred
WORKDIR /home/microcred
# Keys live on a volume; the passphrase comes from the environment (a secret), never the image.
VOLUME ["/home/microcred/keys"]
ENV MICROCRED_KEYS_DIR=/home/microcred/keys
HEALTHCHECK CMD ["microcred", "--help"]
ENTRYPOINT ["microcred"]
CMD ["--help"]
