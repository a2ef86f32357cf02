#!/usr/bin/env bash
# One fully static rbacmig (glibc, libpq, OpenSSL, SQLite, Lua linked in), on Debian 12:
#   scripts/build-static.sh            build build-static/rbacmig, then test it in an empty
#                                      root against a throwaway PostgreSQL and SQLite
#                                      (tests/static.sh)
#   scripts/build-static.sh --no-test  only build (the Dockerfile's builder stage)
# Debian ships liblua5.4.a, libsqlite3.a, libssl.a and libcrypto.a, but its libpq.a is built
# with GSSAPI and LDAP, which have no static libraries on Debian. So libpq is built here
# from the Debian source package of the installed libpq-dev (same version as the headers),
# configured without GSSAPI, LDAP, readline and compression; the result is kept in
# build-static/libpq-VERSION/ and reused. Without those, libpq cannot use Kerberos
# (gssencmode=require, krbsrvname) nor LDAP service lookups; TLS and SCRAM work.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${RBACMIG_STATIC_BUILD_DIR:-build-static}
run_test=yes
[ "${1:-}" = "--no-test" ] && run_test=""

# apt_install PKG...: the missing ones, as scripts/install-deps.sh does.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "build-static: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

apt_install build-essential cmake pkg-config bzip2 binutils ca-certificates \
  liblua5.4-dev libpq-dev libsqlite3-dev libssl-dev zlib1g-dev libjansson-dev
# The test configures the suite (Check, lua5.4) and starts a PostgreSQL.
[ -z "$run_test" ] || { bash scripts/install-deps.sh; apt_install openssl; }

started=$(date +%s)
mkdir -p "$build"
build_abs=$(cd "$build" && pwd)
pq_src=$(dpkg-query -W -f='${source:Package}=${source:Version}' libpq-dev)  # postgresql-15=15.18-0+deb12u1
pq_version=${pq_src#*=}
pq_dir="$build_abs/libpq-$pq_version"

if [ ! -f "$pq_dir/libpq.a" ] || [ ! -f "$pq_dir/libpgcommon.a" ] || [ ! -f "$pq_dir/libpgport.a" ]; then
  echo "build-static: building libpq $pq_version (no GSSAPI, no LDAP) into $pq_dir"
  work="$build_abs/libpq-work"
  rm -rf "$work" && mkdir -p "$work/apt/parts" "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"
  # A private apt configuration that knows the source packages, so the system's apt lists
  # and sources are left as they are.
  : > "$work/apt/none.list"
  for archive in debian:bookworm debian-security:bookworm-security; do
    printf 'Types: deb-src\nURIs: http://deb.debian.org/%s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' \
      "${archive%%:*}" "${archive#*:}"
  done > "$work/apt/parts/debian-src.sources"
  apt_opts=(-o "Dir::Etc::SourceList=$work/apt/none.list" -o "Dir::Etc::SourceParts=$work/apt/parts"
            -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache" -o "APT::Sandbox::User=root")
  apt-get "${apt_opts[@]}" -qq update
  (cd "$work/src" && apt-get "${apt_opts[@]}" -qq source --download-only "$pq_src" >/dev/null)
  orig=$(ls "$work/src"/*.orig.tar.* | head -n 1)
  # Only what configure and the three libraries need: documentation, the server's
  # programs and tests are most of the archive.
  tar -C "$work/src" -xf "$orig" --exclude='*/doc' --exclude='*/src/test' --exclude='*/contrib' \
    --exclude='*/src/bin' --exclude='*/src/pl' --exclude='*/src/tutorial'
  pg=$(ls -d "$work/src"/postgresql-*/ | head -n 1)
  # Debian's libpq looks for the server's socket in /var/run/postgresql, not upstream's /tmp.
  sed -i 's|^#define DEFAULT_PGSOCKET_DIR  "/tmp"|#define DEFAULT_PGSOCKET_DIR  "/var/run/postgresql"|' \
    "$pg/src/include/pg_config_manual.h"
  (cd "$pg" && ./configure --quiet --without-readline --without-zlib --without-icu --with-openssl \
     --without-gssapi --without-ldap --without-llvm --without-lz4 --without-zstd \
     CFLAGS="-O2 -fstack-protector-strong" >"$work/configure.log" 2>&1) ||
    { tail -n 30 "$work/configure.log"; exit 1; }
  make -s -C "$pg/src/include" >/dev/null
  make -s -C "$pg/src/common" -j"$(nproc)" libpgcommon.a >/dev/null
  make -s -C "$pg/src/port" -j"$(nproc)" libpgport.a >/dev/null
  make -s -C "$pg/src/interfaces/libpq" -j"$(nproc)" all-static-lib >/dev/null
  mkdir -p "$pq_dir"
  cp "$pg/src/interfaces/libpq/libpq.a" "$pg/src/common/libpgcommon.a" "$pg/src/port/libpgport.a" "$pq_dir/"
  rm -rf "$work"
fi

tests=OFF
[ -z "$run_test" ] || tests=ON
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRBACMIG_STATIC=ON \
  -DRBACMIG_LIBPQ_STATIC_DIR="$pq_dir" -DRBACMIG_TESTS=$tests >/dev/null
# glibc warns at link time that getaddrinfo, getpwuid_r and dlopen "require at runtime the
# shared libraries": true for NSS modules other than files and dns (built in) and for
# OpenSSL engines, which rbacmig does not use; tests/static.sh shows the rest works bare.
# The log is printed only when the build fails.
if ! cmake --build "$build" --target rbacmig -j"$(nproc)" >"$build/build.log" 2>&1; then
  cat "$build/build.log" >&2
  exit 1
fi
echo "build-static: $build/rbacmig, $(stat -c %s "$build/rbacmig") bytes, $(( $(date +%s) - started )) s; ldd: $(ldd "$build/rbacmig" 2>&1 | tr -d '\t')"

if [ -n "$run_test" ]; then
  . scripts/pg-test-server.sh
  trap pg_test_stop EXIT INT TERM
  pg_test_start
  (cd "$build" && ctest -R '^static$' --output-on-failure)
fi
