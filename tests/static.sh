#!/usr/bin/env bash
# tests/static.sh: the static rbacmig (-DRBACMIG_STATIC=ON, scripts/build-static.sh) runs on a
# bare system. It is run in an empty root that holds only the binary, CA certificates and the
# project's migrations (no libc, no loader, no /etc/passwd, no nsswitch.conf), with an empty
# environment: `upgrade head`, `current`, `history` on a SQLite file there, then the same
# against the test PostgreSQL over TCP on 127.0.0.1 (no DNS), a host name from the root's
# /etc/hosts (what Docker gives a container), sslmode=require (OpenSSL is linked in), and a
# TLS connection with sslmode=verify-full against a server of its own whose CA is in the
# root's CA bundle (and refused when it is not).
# Env: RBACMIG (the binary), RBACMIG_SOURCE_DIR, RBACMIG_TEST_PG_URL (without it the
# PostgreSQL half is skipped and the test reports so, exit 77).
set -uo pipefail
RBACMIG=${RBACMIG:?RBACMIG must point at the static rbacmig binary}
SRC=${RBACMIG_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PSQL="${RBACMIG_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/psql"
PG_ADMIN_URL=${RBACMIG_TEST_PG_ADMIN_URL:-${RBACMIG_TEST_PG_URL:-}}
ROOT=$(mktemp -d /tmp/rbacmig-static.XXXXXX)
DB_NAME=""
cleanup() {
  if [ -n "$DB_NAME" ]; then
    "$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" \
      -c "DROP DATABASE IF EXISTS \"${DB_NAME}_blog\" WITH (FORCE)" >/dev/null 2>&1
  fi
  rm -rf "$ROOT"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A dynamically linked binary would not even start in the empty root; say why up front.
if readelf -lW "$RBACMIG" | grep -q 'INTERP'; then
  fail "$RBACMIG asks for a program interpreter (dynamically linked): $(readelf -lW "$RBACMIG" | grep -o '\[Requesting.*\]')"
fi
if readelf -dW "$RBACMIG" 2>/dev/null | grep -q NEEDED; then
  fail "$RBACMIG needs shared libraries: $(readelf -dW "$RBACMIG" | grep NEEDED | tr -s ' ')"
fi

# The root: the binary, the CA bundle (where the README's Docker image puts it), the project.
install -m 755 "$RBACMIG" "$ROOT/rbacmig"
mkdir -p "$ROOT/etc/ssl/certs" "$ROOT/project"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/"
fi
cp -r "$SRC/migrations" "$SRC/rbac" "$ROOT/project/"
libs=$(find "$ROOT" -name '*.so*' -o -name 'ld-linux*' -o -name nsswitch.conf -o -name passwd)
[ -z "$libs" ] || fail "the root is not bare: $libs"

# in_root ARGS...: rbacmig in the root (working directory /project) with an empty
# environment; sets OUT (stdout and stderr) and RC. As root it is unshare --root (chroot);
# otherwise a user namespace gives the chroot right, and where neither works the test skips.
runner=(unshare --root="$ROOT" --wd=/project)
[ "$(id -u)" -eq 0 ] || runner=(unshare --map-root-user --root="$ROOT" --wd=/project)
if ! "${runner[@]}" /rbacmig --version >/dev/null 2>&1 && ! "${runner[@]}" /rbacmig --help >/dev/null 2>&1; then
  if ! unshare --map-root-user true 2>/dev/null && [ "$(id -u)" -ne 0 ]; then
    echo "skipped: neither root nor user namespaces, so no empty root to run in"
    exit 77
  fi
fi
# WD (default /project) and ROOT_ENV (one NAME=VALUE) change where and with what it runs.
in_root() {
  local run=("${runner[@]}")
  [ -z "${WD:-}" ] || run=("${run[@]/--wd=\/project/--wd=$WD}")
  OUT=$(env -i ${ROOT_ENV:+"$ROOT_ENV"} "${run[@]}" /rbacmig "$@" 2>&1)
  RC=$?
}

in_root --version
[ "$RC" -eq 0 ] || fail "--version in the empty root: exit $RC: $OUT"
echo "empty root: $OUT"

head=$(cd "$SRC" && "$RBACMIG" heads 2>/dev/null | awk '{print $1; exit}')
[ -n "$head" ] || fail "no head revision in $SRC/migrations"

# check_dialect URL LABEL: upgrade head, current at head, history listing the head.
check_dialect() {
  local url=$1 label=$2
  in_root -d "$url" upgrade head
  [ "$RC" -eq 0 ] || fail "$label: upgrade head: exit $RC: $OUT"
  in_root -d "$url" current
  [ "$RC" -eq 0 ] || fail "$label: current: exit $RC: $OUT"
  case $OUT in *"$head"*"(head)"*) ;; *) fail "$label: current is not $head (head): $OUT" ;; esac
  in_root -d "$url" history
  [ "$RC" -eq 0 ] || fail "$label: history: exit $RC: $OUT"
  case $OUT in *"$head"*) ;; *) fail "$label: history does not list $head: $OUT" ;; esac
  echo "$label: upgrade head, current ($head), history: ok"
}

check_dialect "sqlite:app.db" "sqlite"
[ -s "$ROOT/project/app.db" ] || fail "sqlite: no database file in the root's /project"

if [ -z "${RBACMIG_TEST_PG_URL:-}" ]; then
  echo "skipped: the PostgreSQL half (RBACMIG_TEST_PG_URL is not set; scripts/test.sh starts a server)"
  exit 77
fi
case $RBACMIG_TEST_PG_URL in
  *@127.0.0.1:*) ;;
  *) fail "RBACMIG_TEST_PG_URL is not on 127.0.0.1 (the empty root has no resolver): $RBACMIG_TEST_PG_URL" ;;
esac
DB_NAME="rbacmig_static_$(basename "$ROOT" | tr -dc '[:alnum:]' | tr '[:upper:]' '[:lower:]')"
"$PSQL" -q -X -v ON_ERROR_STOP=1 -d "$RBACMIG_TEST_PG_URL" -c "CREATE DATABASE \"$DB_NAME\"" >/dev/null ||
  fail "could not create $DB_NAME"
url="${RBACMIG_TEST_PG_URL%/*}/$DB_NAME"
check_dialect "$url" "postgresql"

# A service name, as in Docker Compose: glibc's static resolver reads /etc/hosts itself.
echo "127.0.0.1 rbacmig-pg" > "$ROOT/etc/hosts"
in_root -d "${url/@127.0.0.1:/@rbacmig-pg:}" current
[ "$RC" -eq 0 ] || fail "postgresql by host name from /etc/hosts: exit $RC: $OUT"
echo "postgresql by host name (/etc/hosts): ok"

# examples/docker/compose.yaml as it runs: its DATABASE_URL (host `db`, here from /etc/hosts;
# the port and database are the test server's) in the environment, examples/blog as /project.
compose_url=$(grep -o 'postgresql://[^ ]*@db:5432/postgres' "$SRC/examples/docker/compose.yaml" | head -n 1)
[ -n "$compose_url" ] || fail "no DATABASE_URL on host db in examples/docker/compose.yaml"
"$PSQL" -q -X -v ON_ERROR_STOP=1 -d "$RBACMIG_TEST_PG_URL" -c "CREATE DATABASE \"${DB_NAME}_blog\"" >/dev/null ||
  fail "could not create ${DB_NAME}_blog"
echo "127.0.0.1 db" >> "$ROOT/etc/hosts"
cp -r "$SRC/examples/blog" "$ROOT/blog"
port=${RBACMIG_TEST_PG_URL##*:}; port=${port%%/*}
WD=/blog ROOT_ENV="DATABASE_URL=${compose_url%:5432/postgres}:$port/${DB_NAME}_blog" in_root upgrade head
[ "$RC" -eq 0 ] || fail "compose example (examples/blog, DATABASE_URL on db): upgrade head: exit $RC: $OUT"
WD=/blog ROOT_ENV="DATABASE_URL=${compose_url%:5432/postgres}:$port/${DB_NAME}_blog" in_root history
case $OUT in *"(head) (current), index published posts"*) ;; *) fail "compose example: history is not at the blog's head: $OUT" ;; esac
echo "compose example's DATABASE_URL (host db) on examples/blog: upgrade head, history: ok"
rm "$ROOT/etc/hosts"

# TLS is compiled in: against the test server (no ssl) sslmode=require reaches the server and
# is refused by it; without OpenSSL libpq would reject the option itself.
in_root -d "$url?sslmode=require" current
case $OUT in
  *"does not support SSL"*) echo "postgresql sslmode=require: OpenSSL linked in: ok" ;;
  *) fail "sslmode=require: expected the server to refuse SSL, got exit $RC: $OUT" ;;
esac

# A real TLS handshake with certificate checks, on a server of its own (the suite's stays as
# it is): its certificate names rbacmig-pg and is signed by a test CA that the root's CA
# bundle holds; sslmode=verify-full must connect, and must refuse with the host's bundle.
PG_TEST_DIR=""
. "$SRC/scripts/pg-test-server.sh"
TLS=$(mktemp -d /tmp/rbacmig-static-tls.XXXXXX)
trap 'pg_test_stop; rm -rf "$TLS"; cleanup' EXIT
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$TLS/ca.key" -out "$TLS/ca.crt" -days 2 \
  -subj "/CN=rbacmig static test CA" 2>/dev/null || fail "openssl: test CA"
openssl req "${ec[@]}" -keyout "$TLS/server.key" -out "$TLS/server.csr" -subj "/CN=rbacmig-pg" 2>/dev/null &&
  printf 'subjectAltName=DNS:rbacmig-pg\n' > "$TLS/ext" &&
  openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial \
    -out "$TLS/server.crt" -days 2 -extfile "$TLS/ext" 2>/dev/null || fail "openssl: server certificate"
pg_test_start >/dev/null || fail "could not start a PostgreSQL for the TLS test"
install -m 600 "$TLS/server.key" "$TLS/server.crt" "$PG_TEST_DIR/data/"
[ "$(id -u)" -ne 0 ] || chown postgres: "$PG_TEST_DIR/data/server.key" "$PG_TEST_DIR/data/server.crt"
"$PSQL" -q -X -d "$RBACMIG_TEST_PG_ADMIN_URL" -c "ALTER SYSTEM SET ssl = on" -c "SELECT pg_reload_conf()" >/dev/null ||
  fail "could not turn ssl on"
for _ in 1 2 3 4 5 6 7 8 9 10; do
  "$PSQL" -q -X -d "$RBACMIG_TEST_PG_URL?sslmode=require" -c "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.5
done
echo "127.0.0.1 rbacmig-pg" > "$ROOT/etc/hosts"
tls_url="postgresql://postgres@rbacmig-pg:$PGPORT/postgres?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt"
in_root -d "$tls_url" current
case $OUT in
  *"certificate verify failed"*) ;;
  *) fail "sslmode=verify-full without the test CA in the bundle: expected a refused certificate, got exit $RC: $OUT" ;;
esac
cat "$TLS/ca.crt" >> "$ROOT/etc/ssl/certs/ca-certificates.crt"
in_root -d "$tls_url" upgrade head
[ "$RC" -eq 0 ] || fail "postgresql over TLS (verify-full): upgrade head: exit $RC: $OUT"
in_root -d "$tls_url" current
case $OUT in *"$head"*"(head)"*) ;; *) fail "postgresql over TLS: current is not $head: $OUT" ;; esac
echo "postgresql over TLS, sslmode=verify-full with the root's CA bundle: ok (refused without the CA)"
echo "static rbacmig ($(stat -c %s "$RBACMIG") bytes) works in an empty root"
