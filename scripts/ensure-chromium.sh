#!/usr/bin/env bash
# The browser tests drive Debian's chromium through Playwright: Playwright's own browser download
# is not reachable from our machines, Debian's archive is. Installs chromium when it is missing;
# does nothing when it is there. Fails, saying why, when it cannot install it.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

fail() {
  echo "ensure-chromium: $1" >&2
  echo "ensure-chromium: the browser tests need Debian's chromium at $CHROMIUM (apt-get install chromium)." >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install Chromium by hand at $CHROMIUM"

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "not root and no sudo: run 'apt-get install chromium' as root"
  as_root=(sudo --non-interactive)
fi

echo "ensure-chromium: installing Debian's chromium for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq || fail "apt-get update failed"
"${as_root[@]}" apt-get install -y -qq chromium >/dev/null || fail "apt-get install chromium failed"
[ -x "$CHROMIUM" ] || fail "apt-get installed chromium, but $CHROMIUM is still missing"
"$CHROMIUM" --headless --version >/dev/null 2>&1 || fail "$CHROMIUM is installed but does not start"
