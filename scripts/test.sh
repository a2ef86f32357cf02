#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, starts a throwaway PostgreSQL,
# runs ctest (Check unit suites, Lua suites, end-to-end tests of the real binary against
# PostgreSQL and SQLite), and always stops the server.
#   scripts/test.sh               Debug build in build-test/
#   scripts/test.sh --sanitize    AddressSanitizer + UBSan build in build-asan/
# Each has its own build directory: build/ is the quick start's (scripts/setup.sh), built
# RelWithDebInfo, and a test run must not reconfigure it as Debug under the user.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-test
# Warnings are errors here, the gate every change and CI (.ci/run) passes through; a plain
# build (scripts/setup.sh, a user's cmake) leaves RBACMIG_WERROR off so a newer compiler's
# new warning does not stop it.
cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DRBACMIG_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  build=build-asan
  cmake_args+=(-DRBACMIG_SANITIZE=ON)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # The property tests' hundreds of random pairs run in the plain build; under the sanitizers
  # (several times slower) a few pairs cover the same code for memory errors.
  export RBACMIG_PROPERTY_PAIRS=${RBACMIG_PROPERTY_PAIRS:-15} RBACMIG_AUTOGEN_PAIRS=${RBACMIG_AUTOGEN_PAIRS:-15}
fi

bash scripts/install-deps.sh
cmake -S . -B "$build" "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

. scripts/pg-test-server.sh
trap pg_test_stop EXIT INT TERM
pg_test_start

cd "$build"
ctest --output-on-failure -j2 --timeout 600
