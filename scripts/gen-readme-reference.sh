#!/usr/bin/env bash
# Rewrites README.md's command reference, the lines between `<!-- commands:begin -->` and
# `<!-- commands:end -->`, with what `rbacmig __reference` renders from the command table
# (src/commands.c): the table is the one place a command is described.
#   scripts/gen-readme-reference.sh [--check] [RBACMIG [README]]
# RBACMIG defaults to build/rbacmig, README to the repository's README.md. --check changes
# nothing and exits 1 when the README differs from the table (tests/e2e/test_help.sh holds
# the README to it the same way).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
check=false
if [ "${1:-}" = --check ]; then
  check=true
  shift
fi
rbacmig=${1:-$here/build/rbacmig}
readme=${2:-$here/README.md}
[ -x "$rbacmig" ] || { echo "gen-readme-reference: no rbacmig binary at $rbacmig (build it first)" >&2; exit 2; }
begin='<!-- commands:begin -->'
end='<!-- commands:end -->'
for m in "$begin" "$end"; do
  n=$(grep -cxF -- "$m" "$readme" || true)
  [ "$n" = 1 ] || { echo "gen-readme-reference: $readme must hold the line '$m' once (it holds it $n times)" >&2; exit 2; }
done
reference=$(mktemp)
new=$(mktemp)
trap 'rm -f "$reference" "$new"' EXIT
"$rbacmig" __reference > "$reference"
# Everything up to the begin marker, the reference, everything from the end marker on.
awk -v begin="$begin" -v end="$end" -v ref="$reference" '
  $0 == begin { print; while ((getline line < ref) > 0) print line; skip = 1; next }
  $0 == end { skip = 0 }
  !skip { print }' "$readme" > "$new"
if cmp -s "$new" "$readme"; then
  exit 0
fi
if $check; then
  echo "gen-readme-reference: $readme's command reference differs from the command table; run scripts/gen-readme-reference.sh" >&2
  diff -u "$readme" "$new" >&2 || true
  exit 1
fi
cat "$new" > "$readme"
echo "gen-readme-reference: rewrote the command reference in $readme"
