#!/usr/bin/env bash
# `make run`: the issuing service on the embedded default (SQLite in data/, keys in keys/), as a
# new user starts it from a fresh clone. Settings come from MICROCRED_* (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MICROCRED_KEY_PASSPHRASE:-}" ]; then
  # A development passphrase kept beside the development keys, so the first run needs no setup.
  # Production deployments inject MICROCRED_KEY_PASSPHRASE from a secret manager instead.
  mkdir -p keys && chmod 700 keys
  [ -s keys/.dev-passphrase ] || (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_hex(24))' > keys/.dev-passphrase)
  MICROCRED_KEY_PASSPHRASE="$(cat keys/.dev-passphrase)"
  export MICROCRED_KEY_PASSPHRASE
  echo "microcred: using the development passphrase in keys/.dev-passphrase (set MICROCRED_KEY_PASSPHRASE in production)" >&2
  passphrase='MICROCRED_KEY_PASSPHRASE="$(cat keys/.dev-passphrase)" '
else
  passphrase=''  # the caller's own, already in the environment of their other shells (or not: then export it there)
fi
cat >&2 <<EOF
microcred: starting the issuing service. To get an admin API key, run in another shell, in $(pwd):

    ${passphrase}.venv/bin/microcred clients create --admin

  (with the same MICROCRED_* settings as this shell, if you set any). The key is printed once;
  send it as "Authorization: Bearer KEY". The README's quick start goes on from there.
EOF
exec .venv/bin/microcred serve "$@"
