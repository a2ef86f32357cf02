#!/usr/bin/env python3
"""Generate one migration workload for every tool the benchmark compares.

    gen_workload.py N OUTDIR

writes N equivalent migrations, step i creating

    CREATE TABLE t_i (id bigint PRIMARY KEY, a text, b text, c integer, d timestamptz)
    CREATE INDEX t_i_a_idx ON t_i (a)

and dropping t_i on the way down, in each tool's own format:

    OUTDIR/rbacmig/migrations/<12 hex>_step_<i>.lua
    OUTDIR/alembic/{alembic.ini,env.py,versions/<12 hex>_step_<i>.py}
    OUTDIR/dbmate/<version>_step_<i>.sql          (-- migrate:up / -- migrate:down)
    OUTDIR/sqitch/{sqitch.conf,sqitch.plan,deploy/,revert/}
    OUTDIR/psql/{up_1tx,up_ntx,down_1tx,down_ntx}.sql   the two hand-written limits
    OUTDIR/revisions.txt                          the revision ids, oldest first

The psql limits: *_1tx is the whole DDL as one file run in one transaction (psql -1);
*_ntx is N transactions, each running one step's DDL and updating a one-row version table
(bench_version), the least a per-step-transaction migration tool has to do.

The database URL is not written into any file: each tool gets it on its command line (or,
for Alembic, from the environment variable BENCH_DATABASE_URL read by env.py).
Standard library only.
"""

import hashlib
import os
import sys


def rev_id(i):
    """A deterministic 12-hex revision id, shaped like the ids rbacmig and Alembic generate."""
    return hashlib.sha1(f"bench step {i}".encode()).hexdigest()[:12]


def up_sql(i):
    return [
        f"CREATE TABLE t_{i} (id bigint PRIMARY KEY, a text, b text, c integer, d timestamptz)",
        f"CREATE INDEX t_{i}_a_idx ON t_{i} (a)",
    ]


def down_sql(i):
    return [f"DROP TABLE t_{i}"]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def gen_rbacmig(out, n, revs):
    for i in range(1, n + 1):
        down = f'"{revs[i - 2]}"' if i > 1 else "nil"
        ups = "\n".join(f'    db:exec("{s}")' for s in up_sql(i))
        downs = "\n".join(f'    db:exec("{s}")' for s in down_sql(i))
        write(
            f"{out}/rbacmig/migrations/{revs[i - 1]}_step_{i}.lua",
            f"""-- step {i}
return {{
  revision = "{revs[i - 1]}",
  down_revision = {down},
  message = "step {i}",
  upgrade = function(db)
{ups}
  end,
  downgrade = function(db)
{downs}
  end,
}}
""",
        )


ALEMBIC_INI = """[alembic]
script_location = %(here)s

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %%(levelname)-5.5s [%%(name)s] %%(message)s
"""

# Online mode only. transaction_per_migration=True gives Alembic the same guarantee as
# rbacmig and dbmate (each step commits with its version update); Alembic's default would
# run the whole upgrade as one transaction.
ALEMBIC_ENV = """import os

from alembic import context
from sqlalchemy import create_engine, pool

url = os.environ["BENCH_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg2://", 1)
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None,
                      transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"""


def gen_alembic(out, n, revs):
    write(f"{out}/alembic/alembic.ini", ALEMBIC_INI)
    write(f"{out}/alembic/env.py", ALEMBIC_ENV)
    for i in range(1, n + 1):
        down = f'"{revs[i - 2]}"' if i > 1 else "None"
        ups = "\n".join(f'    op.execute("{s}")' for s in up_sql(i))
        downs = "\n".join(f'    op.execute("{s}")' for s in down_sql(i))
        write(
            f"{out}/alembic/versions/{revs[i - 1]}_step_{i}.py",
            f'''"""step {i}"""
from alembic import op

revision = "{revs[i - 1]}"
down_revision = {down}
branch_labels = None
depends_on = None


def upgrade():
{ups}


def downgrade():
{downs}
''',
        )


def gen_dbmate(out, n):
    for i in range(1, n + 1):
        ups = ";\n".join(up_sql(i)) + ";"
        downs = ";\n".join(down_sql(i)) + ";"
        write(
            f"{out}/dbmate/{i:014d}_step_{i}.sql",
            f"-- migrate:up\n{ups}\n\n-- migrate:down\n{downs}\n",
        )


def gen_sqitch(out, n):
    write(f"{out}/sqitch/sqitch.conf", "[core]\n\tengine = pg\n\tplan_file = sqitch.plan\n\ttop_dir = .\n")
    plan = ["%syntax-version=1.0.0", "%project=bench", ""]
    for i in range(1, n + 1):
        plan.append(f"step_{i} 2026-01-01T00:00:00Z bench <bench@example.com> # step {i}")
        write(f"{out}/sqitch/deploy/step_{i}.sql",
              "BEGIN;\n" + ";\n".join(up_sql(i)) + ";\nCOMMIT;\n")
        write(f"{out}/sqitch/revert/step_{i}.sql",
              "BEGIN;\n" + ";\n".join(down_sql(i)) + ";\nCOMMIT;\n")
    write(f"{out}/sqitch/sqitch.plan", "\n".join(plan) + "\n")


def gen_psql(out, n, revs):
    head = ("CREATE TABLE bench_version (version_num varchar(32) NOT NULL PRIMARY KEY);\n"
            "INSERT INTO bench_version VALUES ('base');\n")
    up_1tx = [head]
    up_ntx = [head]
    for i in range(1, n + 1):
        ddl = "".join(s + ";\n" for s in up_sql(i))
        up_1tx.append(ddl)
        up_ntx.append(f"BEGIN;\n{ddl}UPDATE bench_version SET version_num = '{revs[i - 1]}';\nCOMMIT;\n")
    up_1tx.append(f"UPDATE bench_version SET version_num = '{revs[-1]}';\n")
    down_1tx = []
    down_ntx = []
    for i in range(n, 0, -1):
        ddl = "".join(s + ";\n" for s in down_sql(i))
        down_1tx.append(ddl)
        prev = revs[i - 2] if i > 1 else "base"
        down_ntx.append(f"BEGIN;\n{ddl}UPDATE bench_version SET version_num = '{prev}';\nCOMMIT;\n")
    down_1tx.append("UPDATE bench_version SET version_num = 'base';\n")
    write(f"{out}/psql/up_1tx.sql", "".join(up_1tx))
    write(f"{out}/psql/up_ntx.sql", "".join(up_ntx))
    write(f"{out}/psql/down_1tx.sql", "".join(down_1tx))
    write(f"{out}/psql/down_ntx.sql", "".join(down_ntx))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen_workload.py N OUTDIR")
    n = int(sys.argv[1])
    out = sys.argv[2]
    revs = [rev_id(i) for i in range(1, n + 1)]
    gen_rbacmig(out, n, revs)
    gen_alembic(out, n, revs)
    gen_dbmate(out, n)
    gen_sqitch(out, n)
    gen_psql(out, n, revs)
    write(f"{out}/revisions.txt", "\n".join(revs) + "\n")


if __name__ == "__main__":
    main()
