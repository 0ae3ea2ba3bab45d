#!/usr/bin/env bash
# Sign the sample microcredential with the development key and verify it, as a new user would.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MICROCRED_KEY_PASSPHRASE:-}" ]; then
  # A development passphrase kept beside the development key, so the first run needs no setup.
  # Production deployments inject MICROCRED_KEY_PASSPHRASE from a secret manager instead.
  mkdir -p keys && chmod 700 keys
  [ -s keys/.dev-passphrase ] || (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_hex(24))' > keys/.dev-passphrase)
  MICROCRED_KEY_PASSPHRASE="$(cat keys/.dev-passphrase)"
  export MICROCRED_KEY_PASSPHRASE
  echo "microcred: using the development passphrase in keys/.dev-passphrase (set MICROCRED_KEY_PASSPHRASE in production)" >&2
fi
.venv/bin/microcred keys generate >&2
mkdir -p build
.venv/bin/microcred sign examples/microcredential.json > build/microcredential.signed.json
echo "microcred: signed credential written to build/microcredential.signed.json" >&2
.venv/bin/microcred verify build/microcredential.signed.json
