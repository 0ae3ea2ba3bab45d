#!/usr/bin/env bash
# `make run`: the issuing service on the embedded default (SQLite in data/, keys in keys/), as a
# new user starts it from a fresh clone. Settings come from MICROCRED_* (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/dev-passphrase.sh
passphrase=''  # with their own passphrase, the caller's other shells have it already (or must export it)
[ "$DEV_PASSPHRASE" = 1 ] && passphrase='MICROCRED_KEY_PASSPHRASE="$(cat keys/.dev-passphrase)" '
cat >&2 <<EOF
microcred: starting the issuing service. To get an admin API key, run in another shell, in $(pwd):

    ${passphrase}.venv/bin/microcred clients create --admin

  (with the same MICROCRED_* settings as this shell, if you set any). The key is printed once;
  send it as "Authorization: Bearer KEY". The README's quick start goes on from there.
EOF
exec .venv/bin/microcred serve "$@"
