#!/usr/bin/env python3
"""Turn one bench/schema.sh run into its tables.

    schema_report.py OUTDIR

reads OUTDIR/manifest.tsv (through bench/report.py's loader: the same format as run.sh's),
OUTDIR/machine.txt and OUTDIR/stmtlog/, prints
  - the table of medians, spreads, CPU, peak RSS and ratios against each workload's
    reference, with issue 14's targets (pass or MISS);
  - the schema dump's cost against N: time and RSS per size, per table, and the marginal
    cost of a table between sizes (linear: the marginal cost does not grow with N);
  - where the server's time goes in one rbacmig run of each workload (statement log):
    statements, parse/bind/execute time, the costliest statements;
and writes OUTDIR/table.md (the same in Markdown). Standard library only.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import fmt_ms, load, md_table, text_table  # noqa: E402

TITLE = {"diff": "diff, small pair", "dump-pg": "schema dump, PostgreSQL",
         "dump-sqlite": "schema dump, SQLite", "drift": "drift, RBAC schema"}
REFERENCE = {"diff": "migra", "dump-pg": "pg_dump", "dump-sqlite": "sqlite3", "drift": "psql"}
REFERENCE_NOTE = {"psql": "shadow floor: CREATE + DROP DATABASE"}

# (workload, n) -> [(description, check(median_ms, speedup, rss_mb))]; speedup = ref / rbacmig
TARGETS = {
    ("diff", "small"): [(">= 20x faster than migra", lambda m, s, rss: s is not None and s >= 20),
                        ("< 10 MB", lambda m, s, rss: rss is not None and rss < 10)],
    ("dump-pg", "1000"): [("< 1 s", lambda m, s, rss: m < 1000),
                          ("< 50 MB", lambda m, s, rss: rss is not None and rss < 50)],
    ("drift", "rbac"): [("< 1 s", lambda m, s, rss: m < 1000)],
}


def groups_of(rows):
    seen = []
    for r in rows:
        key = (r["workload"], r["n"])
        if key not in seen:
            seen.append(key)
    return seen


def main_table(rows):
    header = ["workload", "N", "tool", "median ms", "min-max ms", "CPU ms", "peak RSS MB",
              "ref / rbacmig", "target", "result"]
    table, verdicts = [header], []
    for workload, n in groups_of(rows):
        group = [r for r in rows if (r["workload"], r["n"]) == (workload, n)]
        ref = next((r for r in group if r["tool"] == REFERENCE[workload]
                    and r["status"] == "ok"), None)
        for r in group:
            if r["status"] != "ok":
                table.append([TITLE[workload], n, r["tool"], "failed"] + [""] * 6)
                continue
            target = result = ratio = ""
            # rbacmig, and where the run built it, the static binary (rbacmig-static)
            if r["tool"].startswith("rbacmig"):
                speedup = ref["median"] / r["median"] if ref else None
                ratio = "-" if speedup is None else f"{speedup:.2f}"
                if (workload, n) in TARGETS:
                    oks = []
                    tool = "" if r["tool"] == "rbacmig" else f" ({r['tool']})"
                    for desc, check in TARGETS[(workload, n)]:
                        ok = check(r["median"], speedup, r["rss_mb"])
                        oks.append(ok)
                        got = (f"{speedup:.1f}x" if desc.startswith(">=") and speedup else
                               f"{r['rss_mb']:.1f} MB" if desc.endswith("MB") and r["rss_mb"]
                               else f"{r['median']:.0f} ms")
                        verdicts.append(f"{'pass' if ok else 'MISS'}  {TITLE[workload]} "
                                        f"N={n}{tool}: {desc} (measured {got})")
                    target = ", ".join(d for d, _ in TARGETS[(workload, n)])
                    result = "pass" if all(oks) else "MISS"
            elif r is ref:
                target = "(reference" + (": " + REFERENCE_NOTE[r["tool"]]
                                         if r["tool"] in REFERENCE_NOTE else "") + ")"
            table.append([TITLE[workload], n, r["tool"], fmt_ms(r["median"]),
                          f"{fmt_ms(r['min'])}-{fmt_ms(r['max'])}", fmt_ms(r["cpu"]),
                          "-" if r["rss_mb"] is None else f"{r['rss_mb']:.1f}",
                          ratio, target, result])
    return table, verdicts


def scaling(rows, workload):
    """rbacmig's (and the reference's) dump cost against N, per table and between sizes."""
    header = ["N tables", "tool", "median ms", "ms / table", "marginal ms / table",
              "peak RSS MB", "marginal KB / table"]
    table = [header]
    note = None
    for tool in ("rbacmig", REFERENCE[workload]):
        pts = sorted(((int(r["n"]), r) for r in rows if r["workload"] == workload
                      and r["tool"] == tool and r["status"] == "ok"), key=lambda p: p[0])
        prev = None
        margins = []
        for n, r in pts:
            marg = mkb = "-"
            if prev:
                pn, pr = prev
                m = (r["median"] - pr["median"]) / (n - pn)
                margins.append(m)
                marg = f"{m:.3f}"
                if r["rss_mb"] is not None and pr["rss_mb"] is not None:
                    mkb = f"{(r['rss_mb'] - pr['rss_mb']) * 1024 / (n - pn):.1f}"
            table.append([str(n), tool, fmt_ms(r["median"]), f"{r['median'] / n:.3f}", marg,
                          "-" if r["rss_mb"] is None else f"{r['rss_mb']:.1f}", mkb])
            prev = (n, r)
        if tool == "rbacmig" and len(margins) >= 2:
            growth = margins[-1] / margins[0] if margins[0] > 0 else float("inf")
            note = (f"{'pass' if growth <= 1.5 else 'MISS'}  {TITLE[workload]}: cost linear in N "
                    f"(marginal ms per table {margins[0]:.3f} at the first step, "
                    f"{margins[-1]:.3f} at the last: x{growth:.2f}; linear if <= 1.5)")
    return (table if len(table) > 1 else None), note


LOG_RE = re.compile(r"\[(\d+)\] LOG:  duration: ([0-9.]+) ms  (statement|parse|bind|execute)"
                    r"[^:]*: (.*)")


# log_statement_stats: the backend's CPU since it started, after each message
CPU_RE = re.compile(r"\[(\d+)\] DETAIL:  ! system usage stats:")
TOTAL_RE = re.compile(r"\[([0-9.]+) s user, ([0-9.]+) s system total\]")


def statement_log(path):
    """(connections, {phase: ms}, {shape: [count, ms]}, backend CPU ms) of one rbacmig run's
    server log."""
    pids, phases, shapes, cpu, pid = set(), {}, {}, {}, None
    with open(path, errors="replace") as f:
        for line in f:
            m = CPU_RE.search(line)
            if m:
                pid = m.group(1)
                continue
            m = TOTAL_RE.search(line)
            if m and pid:
                cpu[pid] = max(cpu.get(pid, 0.0), (float(m.group(1)) + float(m.group(2))) * 1e3)
                continue
            m = LOG_RE.search(line)
            if not m:
                continue
            pid, ms, phase, sql = m.group(1), float(m.group(2)), m.group(3), m.group(4)
            pids.add(pid)
            phases[phase] = phases.get(phase, 0.0) + ms
            shape = re.sub(r"rbacmig_shadow_\w+", "rbacmig_shadow_X", sql)
            shape = re.sub(r"'[^']*'", "'...'", shape)[:72]
            e = shapes.setdefault(shape, [0, 0.0])
            e[1] += ms
            if phase in ("statement", "execute"):
                e[0] += 1
    return len(pids), phases, shapes, (sum(cpu.values()) if cpu else None)


def server_time(outdir, rows):
    logdir = os.path.join(outdir, "stmtlog")
    if not os.path.isdir(logdir):
        return []
    out = []
    for name in sorted(os.listdir(logdir)):
        conns, phases, shapes, server_cpu = statement_log(os.path.join(logdir, name))
        total = sum(phases.values())
        trips = sum(c for c, _ in shapes.values())
        rid = name[:-len(".log")]
        r = next((r for r in rows if r["json"].endswith("/" + rid + ".json")
                  and r["status"] == "ok"), None)
        head = (f"{rid}: {trips} statements on {conns} connections, server {total:.0f} ms "
                f"(parse {phases.get('parse', 0):.0f}, bind/plan {phases.get('bind', 0):.0f}, "
                f"execute {phases.get('execute', 0) + phases.get('statement', 0):.0f})")
        if server_cpu is not None:
            head += f"; the backends' CPU {server_cpu:.0f} ms"
        if r:
            head += (f"; the timed runs: median {r['median']:.0f} ms wall, "
                     f"{r['cpu']:.0f} ms CPU in rbacmig")
            if server_cpu is not None:
                head += (f"; CPU on the critical path (rbacmig + backends, what an idle "
                         f"machine would take, less I/O waits) {r['cpu'] + server_cpu:.0f} ms")
        table = [["statement (first line)", "count", "server ms"]]
        for shape, (cnt, ms) in sorted(shapes.items(), key=lambda kv: -kv[1][1])[:8]:
            table.append([shape, str(cnt), f"{ms:.1f}"])
        out.append((head, table))
    return out


def main():
    outdir = sys.argv[1]
    rows = load(outdir)
    for r, m in zip(rows, _manifest_paths(outdir)):
        r["json"] = m
    table, verdicts = main_table(rows)
    with open(os.path.join(outdir, "machine.txt")) as f:
        machine = f.read().rstrip("\n")
    scalings = []
    for workload in ("dump-pg", "dump-sqlite"):
        st, note = scaling(rows, workload)
        if st:
            scalings.append((TITLE[workload], st))
        if note:
            verdicts.append(note)
    servers = server_time(outdir, rows)

    print(machine)
    print()
    print(text_table(table, right_from=3))
    for title, st in scalings:
        print()
        print(f"{title}: cost against N")
        print(text_table(st, right_from=2))
    print()
    print("targets:")
    print("\n".join("  " + v for v in verdicts))
    for head, st in servers:
        print()
        print(head)
        print(text_table(st, right_from=1))

    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write("```\n" + machine + "\n```\n\n" + md_table(table, right_from=3) + "\n")
        for title, st in scalings:
            f.write(f"\n{title}: cost against N\n\n" + md_table(st, right_from=2) + "\n")
        f.write("\nTargets:\n\n" + "\n".join("- " + v for v in verdicts) + "\n")
        for head, st in servers:
            f.write(f"\n{head}\n\n" + md_table(st, right_from=1) + "\n")


def _manifest_paths(outdir):
    """The json column of the manifest, in load()'s order."""
    import csv
    with open(os.path.join(outdir, "manifest.tsv"), newline="") as f:
        return [m["json"] for m in csv.DictReader(f, delimiter="\t")]


if __name__ == "__main__":
    main()
