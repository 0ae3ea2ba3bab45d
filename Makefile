# The two commands a new user needs: `make run` and `make test`. Everything else is their parts.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JS := tests/interop/js

.PHONY: setup run test bench clean

$(BIN)/microcred: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

$(JS)/node_modules/.package-lock.json: $(JS)/package-lock.json
	npm ci --prefix $(JS) --no-audit --no-fund --loglevel=error

setup: $(BIN)/microcred

## run: sign the sample microcredential with a development key (generated into keys/ on the
## first run) and verify it; the issuing service replaces this in the next release.
run: setup
	@scripts/run-sample.sh

## test: type checks (mypy strict) and the whole suite, including the interop tests against
## Digital Bazaar's libraries.
test: setup $(JS)/node_modules/.package-lock.json
	$(BIN)/mypy
	$(BIN)/pytest

## bench: signing and verification rates beside Digital Bazaar's JS stack (run by hand).
bench: setup $(JS)/node_modules/.package-lock.json
	$(BIN)/python bench/bench_credentials.py

clean:
	rm -rf $(VENV) $(JS)/node_modules .pytest_cache
