#!/bin/sh
# bench/rc.sh EXPECTED CMD [ARG]...: runs CMD, its output thrown away, and exits 0 if CMD
# exited EXPECTED, 1 otherwise (saying so on stderr). bench/interleave.py takes any non-zero
# exit for a failure, and `rbacmig diff` exits 5 when it finds security-weakening
# differences, as it must on the benchmark's pair; bench/schema.sh runs every tool of a
# workload through this wrapper, so each pays the same few hundred microseconds for it.
want=$1
shift
"$@" >/dev/null
rc=$?
[ "$rc" = "$want" ] && exit 0
echo "rc.sh: $1 exited $rc, expected $want" >&2
exit 1
