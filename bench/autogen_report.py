#!/usr/bin/env python3
"""Turn one bench/autogen.sh run into its tables.

    autogen_report.py OUTDIR

reads OUTDIR/manifest.tsv (bench/report.py's loader), machine.txt, phases.tsv and
phases.checkpoints, prints the table of medians, spreads, CPU, peak RSS and the ratio
alembic / rbacmig per dialect with issue 15's target (PostgreSQL: rbacmig < 2 s and faster
than Alembic), then where one rbacmig run's time went, and writes OUTDIR/table.md (the
same in Markdown). Standard library only.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import fmt_ms, load, md_table, text_table  # noqa: E402

TITLE = {"autogen-pg": "autogenerate, PostgreSQL",
         "autogen-sqlite": "autogenerate, SQLite"}


def main_table(rows):
    header = ["workload", "N", "tool", "median ms", "min-max ms", "CPU ms", "peak RSS MB",
              "alembic / this", "target", "result"]
    table, verdicts = [header], []
    for workload in [w for w in TITLE if any(r["workload"] == w for r in rows)]:
        group = [r for r in rows if r["workload"] == workload]
        al = next((r for r in group if r["tool"] == "alembic" and r["status"] == "ok"), None)
        for r in group:
            if r["status"] != "ok":
                table.append([TITLE[workload], r["n"], r["tool"], "failed"] + [""] * 6)
                continue
            ratio = al["median"] / r["median"] if al and r is not al else None
            target = result = ""
            if r["tool"] == "rbacmig" and workload == "autogen-pg":
                oks = [r["median"] < 2000, ratio is not None and ratio > 1]
                target = "< 2 s, faster than alembic"
                result = "pass" if all(oks) else "MISS"
                verdicts.append(("< 2 s", oks[0], r["median"]))
                verdicts.append(("faster than alembic", oks[1], ratio))
            if r is al:
                target = "(reference)"
            table.append([TITLE[workload], r["n"], r["tool"], fmt_ms(r["median"]),
                          f"{fmt_ms(r['min'])}-{fmt_ms(r['max'])}", fmt_ms(r["cpu"]),
                          "-" if r["rss_mb"] is None else f"{r['rss_mb']:.1f}",
                          "-" if ratio is None else f"{ratio:.2f}", target, result])
    return table, verdicts


def phases(outdir, name="phases"):
    path = os.path.join(outdir, name + ".tsv")
    if not os.path.exists(path):
        return None
    rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
    total = float(rows[-1][1])
    table = [["phase (one stamped run)", "ms", "share"]]
    for name, ms in rows:
        table.append([name, fmt_ms(float(ms)), f"{100 * float(ms) / total:.0f}%"])
    cps = []
    cp_path = os.path.join(outdir, name + ".checkpoints")
    if os.path.exists(cp_path):
        for line in open(cp_path):
            m = re.search(r"checkpoint complete: wrote (\d+) buffers.*?sync=([0-9.]+) s, "
                          r"total=([0-9.]+) s; sync files=(\d+)", line)
            if m:
                cps.append(f"forced checkpoint (DROP DATABASE): {m.group(1)} buffers written, "
                           f"{m.group(4)} files fsynced, sync {float(m.group(2)) * 1e3:,.0f} ms, "
                           f"total {float(m.group(3)) * 1e3:,.0f} ms")
    return table, cps


def main():
    outdir = sys.argv[1]
    rows = load(outdir)
    table, verdicts = main_table(rows)
    machine = open(os.path.join(outdir, "machine.txt")).read().rstrip("\n")
    text = [machine, "", text_table(table, right_from=3), ""]
    md = ["```", machine, "```", "", md_table(table, right_from=3), ""]
    for name in ("phases",):
        ph = phases(outdir, name)
        if ph:
            text += [text_table(ph[0], right_from=1)] + ph[1] + [""]
            md += [md_table(ph[0], right_from=1), ""] + [f"- {c}" for c in ph[1]] + [""]
    for desc, ok, v in verdicts:
        line = f"target {desc}: {'pass' if ok else 'MISS'}"
        text.append(line)
        md.append(f"- {line}")
    print("\n".join(text))
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
