#!/usr/bin/env python3
"""Turn one bench/run.sh run into its table.

    report.py OUTDIR

reads OUTDIR/manifest.tsv (one line per measurement: hyperfine JSON file, peak RSS),
OUTDIR/machine.txt and OUTDIR/roundtrips.tsv, prints the table of medians, spreads and
ratios against each workload's reference (with the targets rbacmig is held to, pass or
miss), and writes OUTDIR/table.md (the same in Markdown) and OUTDIR/upgrade_vs_n.dat
(upgrade median against N, one column per tool, for gnuplot). Standard library only.
"""

import csv
import json
import os
import re
import sys

# workload -> the tool its ratios are taken against
REFERENCE = {"upgrade": "psql-ntx", "downgrade": "psql-ntx", "noop": "psql",
             "current": "psql", "history": "psql", "seed": "psql-setbased",
             "up-remote": "psql-ntx", "down-remote": "psql-ntx"}

WORKLOAD_TITLE = {"upgrade": "upgrade from empty", "downgrade": "downgrade to base",
                  "noop": "no-op upgrade head", "current": "current", "history": "history",
                  "seed": "seed tenants",
                  # workload 6; main() puts the round trip in
                  "up-remote": "upgrade, server {rtt} ms away",
                  "down-remote": "downgrade, server {rtt} ms away"}

ORDER = [("upgrade", "10"), ("upgrade", "100"), ("upgrade", "1000"),
         ("downgrade", "10"), ("downgrade", "100"), ("downgrade", "1000"),
         ("up-remote", "100"), ("down-remote", "100"),
         ("noop", "100"),
         ("current", "1000"), ("history", "1000"), ("current", "10000"), ("history", "10000"),
         ("seed", "10000")]

# (workload, N) -> list of (description, check(median_ms, ratio, rss_mb) -> bool), rbacmig only
TARGETS = {
    ("upgrade", "100"): [("<= 1.15x", lambda m, r, rss: r is not None and r <= 1.15)],
    ("upgrade", "1000"): [("<= 1.05x", lambda m, r, rss: r is not None and r <= 1.05)],
    ("downgrade", "100"): [("<= 1.2x", lambda m, r, rss: r is not None and r <= 1.2)],
    ("downgrade", "1000"): [("<= 1.2x", lambda m, r, rss: r is not None and r <= 1.2)],
    ("noop", "100"): [("<= 1.5x", lambda m, r, rss: r is not None and r <= 1.5)],
    ("history", "1000"): [("<= 2x", lambda m, r, rss: r is not None and r <= 2.0),
                          ("< 10 MB", lambda m, r, rss: rss is not None and rss < 10.0)],
    ("current", "10000"): [("< 200 ms", lambda m, r, rss: m < 200.0),
                           ("< 30 MB", lambda m, r, rss: rss is not None and rss < 30.0)],
    ("history", "10000"): [("< 200 ms", lambda m, r, rss: m < 200.0),
                           ("< 30 MB", lambda m, r, rss: rss is not None and rss < 30.0)],
    ("seed", "10000"): [("<= 1.5x", lambda m, r, rss: r is not None and r <= 1.5)],
}

CHART_TOOLS = ["psql-1tx", "psql-ntx", "rbacmig", "alembic", "dbmate", "sqitch"]


def load(outdir):
    rows = []
    with open(os.path.join(outdir, "manifest.tsv"), newline="") as f:
        for m in csv.DictReader(f, delimiter="\t"):
            row = {"workload": m["workload"], "n": m["n"], "tool": m["tool"],
                   "status": m["status"], "rss_mb": None}
            if m["rss_kb"] not in ("-", ""):
                row["rss_mb"] = int(m["rss_kb"]) / 1024.0
            if m["status"] == "ok":
                with open(m["json"]) as jf:
                    r = json.load(jf)["results"][0]
                row.update(median=r["median"] * 1e3, min=r["min"] * 1e3, max=r["max"] * 1e3,
                           stddev=(r["stddev"] or 0.0) * 1e3, cpu=(r["user"] + r["system"]) * 1e3,
                           runs=len(r["times"]))
            rows.append(row)
    return rows


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def build_table(rows):
    """The table as a list of lists of strings (header first), and the list of target results."""
    header = ["workload", "N", "tool", "median ms", "min-max ms", "stddev ms", "CPU ms",
              "peak RSS MB", "x ref", "target", "result"]
    table = [header]
    verdicts = []
    groups = list(ORDER)
    for r in rows:
        if (r["workload"], r["n"]) not in groups:
            groups.append((r["workload"], r["n"]))
    for workload, n in groups:
        group = [r for r in rows if r["workload"] == workload and r["n"] == n]
        if not group:
            continue
        ref = next((r for r in group if r["tool"] == REFERENCE[workload] and r["status"] == "ok"), None)
        for r in group:
            if r["status"] != "ok":
                table.append([WORKLOAD_TITLE[workload], n, r["tool"], "failed"] + [""] * 7)
                continue
            ratio = r["median"] / ref["median"] if ref else None
            target = result = ""
            if r["tool"] == "rbacmig" and (workload, n) in TARGETS:
                descs, oks = [], []
                static = next((x for x in group if x["tool"] == "rbacmig-static"
                               and x["status"] == "ok" and x["rss_mb"] is not None), None)
                for desc, check in TARGETS[(workload, n)]:
                    rss = r["rss_mb"]
                    # Memory is judged on the released static binary when the run has it
                    # (bench/RESULTS.md, "Peak memory"): the dynamic build's peak counts
                    # the shared pages of Debian libpq's LDAP and GSSAPI libraries.
                    if desc.endswith("MB") and static:
                        rss, desc = static["rss_mb"], desc + " (static)"
                    ok = check(r["median"], ratio, rss)
                    descs.append(desc)
                    oks.append(ok)
                    verdicts.append((f"{WORKLOAD_TITLE[workload]} N={n}", desc, ok, r, ratio))
                target = ", ".join(descs)
                result = "pass" if all(oks) else "MISS"
            if r is ref:
                target = "(reference)"
            table.append([
                WORKLOAD_TITLE[workload], n, r["tool"], fmt_ms(r["median"]),
                f"{fmt_ms(r['min'])}-{fmt_ms(r['max'])}", fmt_ms(r["stddev"]), fmt_ms(r["cpu"]),
                "-" if r["rss_mb"] is None else f"{r['rss_mb']:.1f}",
                "-" if ratio is None else f"{ratio:.2f}", target, result])
    return table, verdicts


def text_table(table, right_from=None):
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    right = {3, 4, 5, 6, 7, 8} if right_from is None else set(range(right_from, len(table[0])))
    lines = []
    for k, row in enumerate(table):
        cells = [c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def md_table(table, right_from=None):
    right = {3, 4, 5, 6, 7, 8} if right_from is None else set(range(right_from, len(table[0])))
    lines = ["| " + " | ".join(table[0]) + " |",
             "|" + "|".join("---:" if i in right else "---" for i in range(len(table[0]))) + "|"]
    for row in table[1:]:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)


LOG_RE = re.compile(r"\[(\d+)\] LOG:  duration: ([0-9.]+) ms  (statement|parse|bind|execute)[^:]*: (.*)")


def parse_log(path):
    """(statements, server ms, connections, {statement shape: [count, ms]}) of one log slice.

    A simple-protocol statement and an extended-protocol execute are one round trip each;
    parse and bind add server time but travel in the same flight as their execute."""
    trips, ms, pids, shapes = 0, 0.0, set(), {}
    with open(path, errors="replace") as f:
        for line in f:
            m = LOG_RE.search(line)
            if not m:
                continue
            pid, dur, kind, sql = m.group(1), float(m.group(2)), m.group(3), m.group(4)
            pids.add(pid)
            ms += dur
            shape = re.sub(r"\bt_\d+", "t_N", sql)
            shape = re.sub(r"'[^']*'", "'...'", shape)[:70]
            e = shapes.setdefault(shape, [0, 0.0])
            e[1] += dur
            if kind in ("statement", "execute"):
                trips += 1
                e[0] += 1
    return trips, ms, len(pids), shapes


def roundtrips(outdir):
    """Per tool: statements, server time and connections per step, from N=10 and N=100."""
    logdir = os.path.join(outdir, "stmtlog")
    if not os.path.isdir(logdir):
        return None, None
    counts = {}
    tools = []
    for name in sorted(os.listdir(logdir)):
        tool, phase, n, _ = name.rsplit(".", 3)
        counts[(tool, phase, n)] = parse_log(os.path.join(logdir, name))
        if tool not in tools:
            tools.append(tool)
    order = ["psql-ntx", "rbacmig", "alembic", "dbmate", "sqitch"]
    tools.sort(key=lambda t: order.index(t) if t in order else len(order))
    # The log shows statements, not round trips: statements a client pipelines (rbacmig's
    # bookkeeping, COMMIT and next BEGIN) are several lines for one round trip.
    table = [["tool", "statements/step up", "server ms/step up", "statements/step down",
              "server ms/step down", "connections/step up", "no-op statements"]]

    def per(tool, phase, idx):
        a, b = counts.get((tool, phase, "10")), counts.get((tool, phase, "100"))
        return None if not a or not b else (b[idx] - a[idx]) / 90.0

    def f(v, digits=1):
        if v is None:
            return "-"
        return f"{v:.0f}" if abs(v - round(v)) < 0.05 else f"{v:.{digits}f}"

    for tool in tools:
        noop = counts.get((tool, "noop", "100"))
        table.append([tool, f(per(tool, "upgrade", 0)), f(per(tool, "upgrade", 1), 2),
                      f(per(tool, "downgrade", 0)), f(per(tool, "downgrade", 1), 2),
                      f(per(tool, "upgrade", 2), 2), "-" if not noop else str(noop[0])])

    # where rbacmig's server time goes, statement by statement, upgrading N=100
    breakdown = None
    up = counts.get(("rbacmig", "upgrade", "100"))
    if up:
        breakdown = [["statement (rbacmig upgrade, N=100)", "count", "server ms", "ms each"]]
        for shape, (cnt, ms) in sorted(up[3].items(), key=lambda kv: -kv[1][1])[:12]:
            breakdown.append([shape, str(cnt), f"{ms:.1f}", f"{ms / cnt:.3f}" if cnt else "-"])
    return table, breakdown


def pgbench(outdir):
    """Latency percentiles of each pgbench run (from its -l transaction log) and the
    per-statement averages it printed (-r)."""
    pdir = os.path.join(outdir, "pgbench")
    if not os.path.isdir(pdir):
        return None, []
    table = [["pgbench script (1 client, -M prepared)", "transactions", "tps", "p50 ms",
              "p95 ms", "p99 ms", "statements (avg ms)", "target", "result"]]
    verdicts = []
    p50s = {}
    names = [f"{script}.{transport}" for transport in ("tcp", "unix")
             for script in ("select1", "ids", "has_permission", "rls_memberships")]
    for name in names:
        txt = os.path.join(pdir, name + ".txt")
        if not os.path.exists(txt):
            continue
        lat = []
        for f in os.listdir(pdir):
            # pgbench's -l logs: <prefix>.<pid>[.<thread>]
            if f.startswith(name + ".") and f[len(name) + 1:].split(".")[0].isdigit():
                with open(os.path.join(pdir, f)) as lf:
                    lat.extend(int(line.split()[2]) for line in lf if line.strip())
        with open(txt) as tf:
            out = tf.read()
        m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
        stmts = re.findall(r"^\s+([0-9.]+)\s+\d+\s+(SELECT|BEGIN|COMMIT)\b", out, re.M)
        if not lat:
            table.append([name, "failed"] + [""] * 7)
            continue
        lat.sort()
        pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1000.0
        p50s[name] = pct(0.5)
        table.append([name, f"{len(lat):,}", m.group(1).split(".")[0] if m else "-",
                      f"{pct(0.5):.3f}", f"{pct(0.95):.3f}", f"{pct(0.99):.3f}",
                      " + ".join(f"{kind} {float(ms):.3f}" for ms, kind in stmts), "", ""])
    # has_permission() itself, each call timed inside the server (perm_latency.sql):
    # calls p50 p95 p99 mean granted
    server = os.path.join(pdir, "server.txt")
    fields = []
    if os.path.exists(server):
        with open(server) as f:
            lines = [line.split() for line in f if len(line.split()) == 6]
        fields = lines[-1] if lines else []
    if fields:
        calls, p50, p95, p99, _mean, granted = fields
        ok = float(p50) < 0.1
        table.append([f"has_permission() in the server ({granted} of {calls} granted)",
                      calls, "-", f"{float(p50):.3f}", f"{float(p95):.3f}", f"{float(p99):.3f}",
                      "-", "p50 < 0.1 ms", "pass" if ok else "MISS"])
        verdicts.append(f"{'pass' if ok else 'MISS'}  has_permission p50 < 0.1 ms (measured "
                        f"{float(p50):.3f} ms per call in the server)")
    else:
        verdicts.append("MISS  has_permission p50 < 0.1 ms (not measured: perm_latency.sql failed)")
    # End to end, one statement per call through pgbench: pass or miss on each transport,
    # with the round trip alone beside it.
    for transport, how in (("unix", "Unix socket"), ("tcp", "TCP 127.0.0.1")):
        call = p50s.get(f"has_permission.{transport}")
        if call is None:
            continue
        floors = "; ".join(f"{what} alone {p50s[f'{script}.{transport}']:.3f} ms"
                           for script, what in (("select1", "SELECT 1"), ("ids", "the same SELECT without the call"))
                           if f"{script}.{transport}" in p50s)
        verdicts.append(f"{'pass' if call < 0.1 else 'MISS'}  has_permission p50 < 0.1 ms end to "
                        f"end over {how} (measured {call:.3f} ms{'; ' + floors if floors else ''})")
    data = os.path.join(pdir, "data.txt")
    if os.path.exists(data):
        with open(data) as f:
            verdicts.append("      data: " + " ".join(f.read().split()))
    return table, verdicts


def main():
    outdir = sys.argv[1]
    rtt = os.path.join(outdir, "rtt_ms")
    if os.path.exists(rtt):
        with open(rtt) as f:
            ms = f.read().strip()
        for k in ("up-remote", "down-remote"):
            WORKLOAD_TITLE[k] = WORKLOAD_TITLE[k].format(rtt=ms)
    rows = load(outdir)
    table, verdicts = build_table(rows)
    with open(os.path.join(outdir, "machine.txt")) as f:
        machine = f.read().rstrip("\n")
    rt, breakdown = roundtrips(outdir)
    pgb, pgb_notes = pgbench(outdir)

    summary = []
    for name, desc, ok, r, ratio in verdicts:
        got = f"{ratio:.2f}x" if desc.endswith("x") else (
            f"{r['rss_mb']:.1f} MB" if desc.endswith("MB") else f"{r['median']:.0f} ms")
        summary.append(f"{'pass' if ok else 'MISS'}  {name}: {desc} (measured {got})")

    print(machine)
    print()
    print(text_table(table))
    print()
    print("rbacmig targets:")
    print("\n".join("  " + s for s in summary))
    if pgb and len(pgb) > 1:
        print()
        print(text_table(pgb, right_from=1))
        print("\n".join("  " + s for s in pgb_notes))
    if rt:
        print()
        print("statements, server time and connections per step (server log, log_min_duration_statement=0):")
        print(text_table(rt, right_from=1))
    if breakdown:
        print()
        print(text_table(breakdown, right_from=1))

    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write("```\n" + machine + "\n```\n\n" + md_table(table) + "\n\n")
        f.write("rbacmig targets:\n\n" + "\n".join("- " + s for s in summary) + "\n")
        if pgb and len(pgb) > 1:
            f.write("\n" + md_table(pgb, right_from=1) + "\n\n")
            f.write("\n".join("- " + s.strip() for s in pgb_notes) + "\n")
        if rt:
            f.write("\nStatements, server time and connections per step (server log, "
                    "log_min_duration_statement=0):\n\n")
            f.write(md_table(rt, right_from=1) + "\n")
        if breakdown:
            f.write("\n" + md_table(breakdown, right_from=1) + "\n")

    # gnuplot data: N, then one column per tool (NaN where missing)
    with open(os.path.join(outdir, "upgrade_vs_n.dat"), "w") as f:
        f.write("# N " + " ".join(CHART_TOOLS) + "\n")
        for n in ("10", "100", "1000"):
            vals = []
            for tool in CHART_TOOLS:
                r = next((r for r in rows if r["workload"] == "upgrade" and r["n"] == n
                          and r["tool"] == tool and r["status"] == "ok"), None)
                vals.append(f"{r['median']:.3f}" if r else "NaN")
            f.write(n + " " + " ".join(vals) + "\n")


if __name__ == "__main__":
    main()
