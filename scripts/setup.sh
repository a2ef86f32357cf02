#!/usr/bin/env bash
# Quick start: installs the Debian packages, builds rbacmig, and runs `rbacmig upgrade head`
# in this repository on the embedded SQLite default (sqlite:rbacmig.db).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/rbacmig upgrade head
