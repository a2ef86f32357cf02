#!/usr/bin/env bash
# tests/install.sh BUILD_DIR VERSION: `cmake --install` into a fresh prefix gives a working
# rbacmig, one that needs nothing from the source or build tree: it reports VERSION (with a
# git revision and the build type), `init` then `upgrade` of a new migration runs on SQLite in
# an unrelated directory, and the man page and the bash and zsh completions are installed
# where man, bash-completion and zsh look under the prefix (GNUInstallDirs), and work there.
set -euo pipefail
build=${1:?usage: install.sh BUILD_DIR VERSION}
version=${2:?usage: install.sh BUILD_DIR VERSION}
work=$(mktemp -d /tmp/rbacmig-install.XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
bin="$work/prefix/bin/rbacmig"
[ -x "$bin" ] || { cat "$work/install.log"; echo "FAIL: no executable $bin" >&2; exit 1; }

fail() { echo "FAIL: $*" >&2; exit 1; }
out=$("$bin" --version)
want="^rbacmig ${version//./\\.} \\(git (unknown|[0-9a-f]{7,}(-dirty)?), [A-Za-z+]+\\)\$"
[[ $out =~ $want ]] || fail "--version printed '$out'"

man1="$work/prefix/share/man/man1/rbacmig.1"
[ -s "$man1" ] || fail "no man page at $man1"
MANWIDTH=80 man -l "$man1" 2>/dev/null | grep -q "upgrade" || fail "man -l cannot render $man1"
bashc="$work/prefix/share/bash-completion/completions/rbacmig"
zshc="$work/prefix/share/zsh/site-functions/_rbacmig"
[ -s "$bashc" ] || fail "no bash completion at $bashc"
[ -s "$zshc" ] || fail "no zsh completion at $zshc"
# The installed completion completes commands with the installed binary.
got=$(PATH="$work/prefix/bin:$PATH" bash -c '. "$1"; COMP_WORDS=(rbacmig upg); COMP_CWORD=1
  _rbacmig; echo "${COMPREPLY[*]}"' _ "$bashc")
[ "$got" = "upgrade" ] || fail "installed bash completion of 'rbacmig upg' gave '$got'"

mkdir "$work/project" && cd "$work/project"
export RBACMIG_CACHE_DIR="$work/cache" DATABASE_URL="sqlite:$work/project/db.sqlite"
"$bin" init >/dev/null
"$bin" revision -m "first" >/dev/null
"$bin" upgrade head >/dev/null
"$bin" current | grep -q '(head)' || { "$bin" current; echo "FAIL: not at head" >&2; exit 1; }
echo "installed rbacmig $version works from $work/prefix"
