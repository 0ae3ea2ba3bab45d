# Sourced by run-service.sh and run-sample.sh: when MICROCRED_KEY_PASSPHRASE is unset, use (and on
# the first run create) a development passphrase kept beside the development keys, so the first
# run needs no setup. Production deployments inject MICROCRED_KEY_PASSPHRASE from a secret manager.
# Sets DEV_PASSPHRASE=1 when it did so.
DEV_PASSPHRASE=0
if [ -z "${MICROCRED_KEY_PASSPHRASE:-}" ]; then
  mkdir -p keys && chmod 700 keys
  [ -s keys/.dev-passphrase ] || (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_hex(24))' > keys/.dev-passphrase)
  MICROCRED_KEY_PASSPHRASE="$(cat keys/.dev-passphrase)"
  export MICROCRED_KEY_PASSPHRASE
  echo "microcred: using the development passphrase in keys/.dev-passphrase (set MICROCRED_KEY_PASSPHRASE in production)" >&2
  DEV_PASSPHRASE=1
fi
