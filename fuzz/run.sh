#!/usr/bin/env bash
# fuzz/run.sh: builds the libFuzzer targets with clang into build-fuzz/, replays the inputs
# that once crashed them (fuzz/crashes/<name>-*, for target fuzz_<name>), then runs each
# for a while on a copy of its committed corpus. Exits 1 if any target crashed (or hung,
# or ran out of memory), 2 on a usage or build problem. See fuzz/README.md.
#
#   fuzz/run.sh [SECONDS] [--update-corpus] [--only TARGET] [--max-len N]
#
# SECONDS per target (default 60). --update-corpus merges what the run found into
# fuzz/corpus/<target>/ (only inputs that add coverage); without it the committed corpus
# is never written. Environment: CC (default clang), RBACMIG_FUZZ_BUILD_DIR (default
# build-fuzz), JOBS (build parallelism, default nproc).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${RBACMIG_FUZZ_BUILD_DIR:-$root/build-fuzz}
targets=(fuzz_target fuzz_dotenv fuzz_migration fuzz_sql_lex)
duration=60
update=0
only=""
max_len_override=""

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --update-corpus) update=1 ;;
        --only) only=${2:?--only needs a target}; shift ;;
        --max-len) max_len_override=${2:?--max-len needs a number}; shift ;;
        -h|--help) usage ;;
        *[!0-9]*|'') echo "run.sh: unknown argument '$1'" >&2; usage ;;
        *) duration=$1 ;;
    esac
    shift
done
if [ -n "$only" ]; then
    case " ${targets[*]} " in
        *" $only "*) targets=("$only") ;;
        *) echo "run.sh: unknown target '$only' (one of: ${targets[*]})" >&2; exit 2 ;;
    esac
fi

# Per target: the longest input, and the dictionary if there is one. Target strings are
# short; .env files and migration sets get 4 KiB (a bigger chunk of Lua adds time, not
# code paths). -timeout is per input: a migration's top level is stopped after 250 ms
# by the harness's watchdog, so 5 s means a real hang.
max_len_of() {
    case "$1" in
        fuzz_target) echo 256 ;;
        *) echo 4096 ;;
    esac
}

if ! grep -q 'add_subdirectory(fuzz)' "$root/CMakeLists.txt"; then
    echo "run.sh: the top-level CMakeLists.txt does not include fuzz/ yet; add:" >&2
    echo '  option(RBACMIG_FUZZ "Build the libFuzzer targets in fuzz/ (needs CC=clang)" OFF)' >&2
    echo '  if(RBACMIG_FUZZ) add_subdirectory(fuzz) endif()' >&2
    exit 2
fi

echo "== building into $build"
export CC=${CC:-clang}
mkdir -p "$build"
if ! cmake -S "$root" -B "$build" -DRBACMIG_FUZZ=ON -DRBACMIG_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >"$build/fuzz-configure.log" 2>&1; then
    cat "$build/fuzz-configure.log" >&2
    echo "run.sh: configure failed (a build-fuzz made with another compiler? remove it)" >&2
    exit 2
fi
if ! cmake --build "$build" --target "${targets[@]}" -j"${JOBS:-$(nproc)}" >"$build/fuzz-build.log" 2>&1; then
    cat "$build/fuzz-build.log" >&2
    echo "run.sh: build failed" >&2
    exit 2
fi

work=$(mktemp -d /tmp/rbacmig-fuzz-run-XXXXXX)
trap 'rm -rf "$work"' EXIT
# Reports of every sanitizer are fatal, with a stack; the leak check runs too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

failed=()
for t in "${targets[@]}"; do
    corpus="$root/fuzz/corpus/$t"
    run_corpus="$work/$t"
    artifacts="$build/artifacts/$t/"
    mkdir -p "$run_corpus" "$artifacts"
    cp "$corpus"/* "$run_corpus"/ 2>/dev/null || true
    dict=()
    [ -f "$root/fuzz/dict/$t.dict" ] && dict=("-dict=$root/fuzz/dict/$t.dict")
    log="$build/$t.log"
    regressions=()
    for f in "$root/fuzz/crashes/${t#fuzz_}"-*; do
        [ -f "$f" ] && regressions+=("$f")
    done
    if [ ${#regressions[@]} -gt 0 ]; then
        if ! "$build/fuzz/$t" -timeout=5 "${regressions[@]}" >"$build/$t.regressions.log" 2>&1; then
            failed+=("$t")
            echo "!! $t: an input in fuzz/crashes/ fails again:" >&2
            grep -aE '^Running:|==fuzz==|^SUMMARY|PANIC|runtime error' "$build/$t.regressions.log" >&2 || true
            continue
        fi
        echo "== $t: ${#regressions[@]} inputs from fuzz/crashes/ pass"
    fi
    echo "== $t: ${duration}s on $(ls "$corpus" | wc -l) seeds (log: $log)"
    set +e
    "$build/fuzz/$t" "$run_corpus" "${dict[@]}" \
        -max_total_time="$duration" -max_len="${max_len_override:-$(max_len_of "$t")}" \
        -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts" >"$log" 2>&1
    rc=$?
    set -e
    # The last status line: executions, coverage, corpus, speed.
    grep -aE '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1 || true
    grep -aE '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" \
        | tr '\n' ' ' || true
    echo
    if [ $rc -ne 0 ]; then
        failed+=("$t")
        echo "!! $t failed (exit $rc):" >&2
        grep -aE '==fuzz==|^SUMMARY|ERROR: libFuzzer|runtime error|Test unit written' "$log" >&2 || tail -30 "$log" >&2
    elif [ $update -eq 1 ]; then
        "$build/fuzz/$t" -merge=1 -max_len="${max_len_override:-$(max_len_of "$t")}" \
            "$corpus" "$run_corpus" >"$build/$t.merge.log" 2>&1
        echo "   corpus: $(ls "$corpus" | wc -l) files after merge"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "run.sh: crashes in: ${failed[*]} (inputs under $build/artifacts/)" >&2
    exit 1
fi
echo "run.sh: no crashes"
