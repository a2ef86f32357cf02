#!/bin/sh
# bench/autogen_floor.sh PSQL URL BEFORE.sql DECLARED.sql: the floor of autogenerate's two
# shadows on PostgreSQL, done with psql alone: two databases created, the state before
# applied to one and the declarations to the other (one transaction each, as rbacmig's
# replay and apply are), both dropped. No reads, no compare, no proof: what any tool that
# builds two shadows pays on this server (bench/autogen.sh times it beside rbacmig).
set -e
psql=$1 url=$2 before=$3 declared=$4
"$psql" -X -q -d "$url/postgres" -c "CREATE DATABASE bench_floor_a" -c "CREATE DATABASE bench_floor_b"
PGOPTIONS="-c client_min_messages=warning" "$psql" -X -q -1 -v ON_ERROR_STOP=1 -d "$url/bench_floor_a" -f "$before"
PGOPTIONS="-c client_min_messages=warning" "$psql" -X -q -1 -v ON_ERROR_STOP=1 -d "$url/bench_floor_b" -f "$declared"
"$psql" -X -q -d "$url/postgres" -c "DROP DATABASE bench_floor_a" -c "DROP DATABASE bench_floor_b"
