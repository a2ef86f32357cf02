#!/usr/bin/env bash
# Installs every Debian package rbacmig needs to build, test and benchmark. Idempotent:
# when everything is present it only checks. Needs root (or sudo) for apt-get.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  liblua5.4-dev lua5.4 libpq-dev libsqlite3-dev libjansson-dev check
  sqlite3 postgresql postgresql-client pgbouncer jq
  postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
  valgrind clang libclang-rt-14-dev
  python3-alembic python3-sqlalchemy python3-psycopg2
  groff-base man-db zsh
)

# npm installs @pgkit/migra, the peer tests/e2e/test_migra_diff.sh compares `diff` with; a
# machine with Node.js from elsewhere has npm already.
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts a cluster on install; the tests run their own throwaway server instead.
if command -v pg_lsclusters >/dev/null && [ -z "${CI:-}" ]; then :; fi
