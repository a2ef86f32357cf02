#!/usr/bin/env python3
"""Where one `rbacmig revision --autogenerate` run spends its time, from its own stderr.

    autogen_phases.py DIR OUT.tsv CMD [ARG]...

runs CMD in DIR and stamps every line it writes on stderr as it arrives (rbacmig writes its
progress unbuffered: "shadow: NAME" as each shadow is created, "Running upgrade" / "done in"
around the replay, one line per change found, "proving REV in the shadow: upgrade" /
"downgrade" around each proof, and the written path on stdout at the end). The phases are
the gaps between those marks:

  connect, shadow 1    start -> first "shadow:" line (connect, CREATE DATABASE, outside-scope setup)
  head replay          -> the replay's "done in"
  shadow 2 + declared + reads + compare   -> the first change line
  generate             -> "proving ...: upgrade"
  upgrade proof + read -> "proving ...: downgrade"
  downgrade proof + read, drop shadows, write -> exit

OUT.tsv gets one `phase<TAB>ms` line per gap, and the raw stamped lines follow on stderr.
One run on a shared machine: a picture of the proportions, not a measurement to compare;
the timed comparison is bench/interleave.py's. Standard library only.
"""

import os
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 4:
        sys.stderr.write("usage: autogen_phases.py DIR OUT.tsv CMD [ARG]...\n")
        return 2
    cwd, out, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, bufsize=1)
    stamped = [(0.0, "(start)")]
    for line in proc.stderr:
        stamped.append(((time.perf_counter() - t0) * 1e3, line.rstrip("\n")))
    proc.wait()
    stamped.append(((time.perf_counter() - t0) * 1e3, f"(exit {proc.returncode})"))
    for ms, line in stamped:
        sys.stderr.write(f"{ms:9.1f} ms  {line}\n")

    def first(pred, after=0.0):
        return next((ms for ms, l in stamped if ms >= after and pred(l)), None)

    end = stamped[-1][0]
    shadow1 = first(lambda l: l.startswith("rbacmig: shadow:"))
    shadow2 = first(lambda l: l.startswith("rbacmig: shadow:"), (shadow1 or 0.0) + 1e-9)
    # A kept head shadow found at head replays nothing: its phase is then empty.
    replay = first(lambda l: l.strip().startswith("done in"), shadow1 or 0.0)
    if replay is None or (shadow2 is not None and replay > shadow2):
        replay = shadow2
    change = first(lambda l: l.startswith("rbacmig:   "), replay or 0.0)
    up = first(lambda l: "in the shadow: upgrade" in l)
    down = first(lambda l: "in the shadow: downgrade" in l)
    marks = [("connect + head shadow opened (made, or kept from a run before)", shadow1),
             ("head shadow: migrations replayed (those new since, when kept)", replay),
             ("declared shadow + declarations applied + both read + compared", change),
             ("generate (Lua)", up), ("upgrade proof + read back + compare", down),
             ("downgrade proof + read back, shadows closed (or dropped), file written", end)]
    if proc.returncode != 0 or any(ms is None for _, ms in marks):
        sys.stderr.write("autogen_phases: the run did not show every mark (above)\n")
        return 1
    prev = 0.0
    with open(out, "w") as f:
        for name, ms in marks:
            f.write(f"{name}\t{ms - prev:.1f}\n")
            prev = ms
        f.write(f"total\t{end:.1f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
