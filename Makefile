# The two commands a new user needs: `make run` and `make test`. Everything else is their parts.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JS := tests/interop/js

.PHONY: setup browser run sample test bench bench-service clean

$(BIN)/microcred: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

$(JS)/node_modules/.package-lock.json: $(JS)/package-lock.json
	npm ci --prefix $(JS) --no-audit --no-fund --loglevel=error

setup: $(BIN)/microcred

## browser: Debian's chromium for the browser tests (installed with apt-get when missing).
browser:
	@bash scripts/ensure-chromium.sh

## run: the issuing service on http://127.0.0.1:8000 with the embedded default (SQLite in data/,
## migrated on first start; keys in keys/ under a development passphrase made on the first run,
## unless MICROCRED_KEY_PASSPHRASE is set). Prints how to get an admin API key, then serves.
run: setup
	@scripts/run-service.sh

## sample: the credential core alone: sign the sample microcredential with a development did:key
## and verify it (no service, no database).
sample: setup
	@scripts/run-sample.sh

## test: type checks (mypy strict) and the whole suite, including the interop tests against
## Digital Bazaar's libraries and the browser tests of the public pages (headless chromium).
## The suite runs in TEST_WORKERS pytest processes (pytest-xdist; worksteal evens out files of
## slow tests); every fixture takes its own database, ports and files. TEST_WORKERS=0: one process.
TEST_WORKERS ?= auto
test: setup browser $(JS)/node_modules/.package-lock.json
	$(BIN)/mypy
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

## bench: signing and verification rates beside Digital Bazaar's JS stack (run by hand).
bench: setup $(JS)/node_modules/.package-lock.json
	$(BIN)/python bench/bench_credentials.py

## bench-service: awards per second over HTTP (PostgreSQL, 2 workers) beside the signing rate, and
## a bulk job of 100,000 retroactive awards (run by hand; needs PostgreSQL at 127.0.0.1:5432).
## Options through ARGS, e.g. make bench-service ARGS="--rows 2000".
bench-service: setup
	$(BIN)/python bench/bench_service.py $(ARGS)
bench-public: setup ; $(BIN)/python bench/bench_public.py $(ARGS)

clean:
	rm -rf $(VENV) $(JS)/node_modules .pytest_cache
