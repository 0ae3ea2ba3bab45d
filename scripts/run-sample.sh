#!/usr/bin/env bash
# Sign the sample microcredential with the development key and verify it, as a new user would.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/dev-passphrase.sh
.venv/bin/microcred keys generate >&2
mkdir -p build
.venv/bin/microcred sign examples/microcredential.json > build/microcredential.signed.json
echo "microcred: signed credential written to build/microcredential.signed.json" >&2
.venv/bin/microcred verify build/microcredential.signed.json
