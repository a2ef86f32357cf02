#!/usr/bin/env bash
# tests/install.sh BUILD_DIR VERSION: `cmake --install` into a fresh prefix gives a working
# rbacmig, one that needs nothing from the source or build tree: it reports VERSION, and
# `init` then `upgrade` of a new migration runs on SQLite in an unrelated directory.
set -euo pipefail
build=${1:?usage: install.sh BUILD_DIR VERSION}
version=${2:?usage: install.sh BUILD_DIR VERSION}
work=$(mktemp -d /tmp/rbacmig-install.XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
bin="$work/prefix/bin/rbacmig"
[ -x "$bin" ] || { cat "$work/install.log"; echo "FAIL: no executable $bin" >&2; exit 1; }

out=$("$bin" --version)
[ "$out" = "rbacmig $version" ] || { echo "FAIL: --version printed '$out'" >&2; exit 1; }

mkdir "$work/project" && cd "$work/project"
export RBACMIG_CACHE_DIR="$work/cache" DATABASE_URL="sqlite:$work/project/db.sqlite"
"$bin" init >/dev/null
"$bin" revision -m "first" >/dev/null
"$bin" upgrade head >/dev/null
"$bin" current | grep -q '(head)' || { "$bin" current; echo "FAIL: not at head" >&2; exit 1; }
echo "installed rbacmig $version works from $work/prefix"
