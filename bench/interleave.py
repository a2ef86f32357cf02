#!/usr/bin/env python3
"""Time several commands in interleaved rounds, writing hyperfine-style JSON for each.

    interleave.py SPEC.tsv

SPEC.tsv has one command a line, tab-separated:

    json_path  warmup  runs  dir  prepare  command

Round r runs, for each command that still wants a run (in the spec's order rotated by r),
its prepare (untimed, through the shell; may be empty), then the command (timed, split like a shell would, no shell in
between, in dir). The first `warmup` runs of a command are not kept. So the runs of every
tool compared in one workload are spread over the same stretch of time and a burst of load
on a shared machine (or autovacuum after the previous tool) lands on all of them alike,
not on whichever tool hyperfine happened to be running; hyperfine's output format is kept
so bench/report.py reads either.

Each JSON holds results[0] with mean, stddev, median, min, max, user, system (seconds, the
mean CPU of the process and its children) and times. No peak RSS: a forked child's peak
includes this Python process's pages from before its exec, so run.sh measures it apart
with /usr/bin/time. A command that fails gets no JSON (its stderr is printed) and leaves
the rounds; the others go on. Standard library only.
"""

import json
import os
import shlex
import statistics
import subprocess
import sys
import time


def run_timed(cmd, cwd):
    """(wall seconds, user seconds, system seconds) of one run of cmd, or None if it failed."""
    argv = shlex.split(cmd)
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # wait4 gives this child's own resource use (with what it waited for), not the sum of
    # every child this script ever had.
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(f"interleave: '{cmd}' exited {proc.returncode}\n{err[-2000:]}")
        return None
    return wall, usage.ru_utime, usage.ru_stime


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: interleave.py SPEC.tsv\n")
        return 2
    specs = []
    with open(sys.argv[1]) as f:
        for line in f:
            if not line.strip():
                continue
            path, warmup, runs, cwd, prepare, cmd = line.rstrip("\n").split("\t")
            specs.append(dict(path=path, warmup=int(warmup), runs=int(runs), cwd=cwd,
                              prepare=prepare, cmd=cmd, done=0, times=[], user=[], system=[],
                              failed=False))
    rounds = max(s["warmup"] + s["runs"] for s in specs)
    for r in range(rounds):
        # Each round starts one tool further on, so no tool always follows the same one
        # (a heavy tool's aftermath, such as autovacuum, would land on it every round).
        for s in specs[r % len(specs):] + specs[:r % len(specs)]:
            if s["failed"] or s["done"] >= s["warmup"] + s["runs"]:
                continue
            if s["prepare"]:
                subprocess.run(s["prepare"], shell=True, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            timed = run_timed(s["cmd"], s["cwd"])
            if timed is None:
                s["failed"] = True
                continue
            wall, user, system = timed
            if s["done"] >= s["warmup"]:
                s["times"].append(wall)
                s["user"].append(user)
                s["system"].append(system)
            s["done"] += 1
    for s in specs:
        t = s["times"]
        if s["failed"] or not t:
            continue
        result = {
            "command": s["cmd"],
            "mean": statistics.mean(t),
            "stddev": statistics.stdev(t) if len(t) > 1 else None,
            "median": statistics.median(t),
            "user": statistics.mean(s["user"]),
            "system": statistics.mean(s["system"]),
            "min": min(t),
            "max": max(t),
            "times": t,
        }
        with open(s["path"], "w") as f:
            json.dump({"results": [result]}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
