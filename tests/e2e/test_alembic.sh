#!/usr/bin/env bash
# From Alembic: a real Alembic project made here (`alembic init`, Debian's python3-alembic,
# run as /usr/bin/python3 -m alembic) with a branch point, a branch label, a merge and a
# dependency, op.create_table, add_column, create_index and op.execute. Alembic migrates a
# database; `stamp --from-alembic` refuses (naming every revision it cannot map, changing
# nothing) until `import alembic` has written the same revisions, then stamps what Alembic
# holds (one head or several), `current` answers as `alembic current` does and `upgrade head`
# goes on with an rbacmig-only migration. The imported files keep ids, parents, labels,
# dependencies and messages, and their bodies are the SQL `alembic upgrade PREV:REV --sql`
# prints without its bookkeeping. Where db:exec_script exists, the imported chain replayed
# revision by revision gives the schema Alembic's chain gives. Each step is rendered through
# the project's env.py (its settings and the arguments it passes to upgrade()).
. "$(dirname "$0")/lib.sh"
if ! /usr/bin/python3 -c 'import alembic, sqlalchemy' 2>/dev/null ||
   { [ "$DIALECT" = postgresql ] && ! /usr/bin/python3 -c 'import psycopg2' 2>/dev/null; }; then
  echo "skipped: python3-alembic (and python3-psycopg2) are not installed (scripts/install-deps.sh)"
  exit 77
fi
ALEMBIC=(/usr/bin/python3 -m alembic)

# alembic_project DIR URL: an Alembic project (alembic init) whose chain has a branch point,
# a branch label, a merge and a dependency, with create_table, add_column, create_index and
# execute.
alembic_project() {
  local dir=$1 url=$2
  mkdir -p "$dir" && (cd "$dir" && /usr/bin/python3 -m alembic init alembic >/dev/null) || return 1
  sed -i "s|^sqlalchemy.url = .*|sqlalchemy.url = $url|" "$dir/alembic.ini"
  local v="$dir/alembic/versions"
  cat > "$v/a1_accounts.py" <<'PY'
"""create accounts

Revision ID: a1
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "a1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )


def downgrade():
    op.drop_table("accounts")
PY
  cat > "$v/b1_email.py" <<'PY'
"""add email to accounts

Revision ID: b1
Revises: a1
"""
from alembic import op
import sqlalchemy as sa

revision = "b1"
down_revision = "a1"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("accounts", sa.Column("email", sa.String(200)))
    op.create_index("accounts_email_idx", "accounts", ["email"], unique=True)


def downgrade():
    op.drop_index("accounts_email_idx", table_name="accounts")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("email")
PY
  cat > "$v/c1_invoices.py" <<'PY'
"""invoices; it's "billing"

Revision ID: c1
Revises: a1
"""
from alembic import op
import sqlalchemy as sa

revision = "c1"
down_revision = "a1"
branch_labels = ("billing",)
depends_on = None


def upgrade():
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("total", sa.Numeric(10, 2), nullable=False, server_default="0"),
    )
    op.execute("INSERT INTO accounts (id, name) VALUES (1, 'first ]] account')")


def downgrade():
    op.execute("DELETE FROM accounts WHERE id = 1")
    op.drop_table("invoices")
PY
  cat > "$v/m1_merge.py" <<'PY'
"""merge email and billing

Revision ID: m1
Revises: b1, c1
"""
revision = "m1"
down_revision = ("b1", "c1")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
PY
  cat > "$v/d1_notes.py" <<'PY'
"""notes on invoices

Revision ID: d1
Revises: m1
"""
from alembic import op
import sqlalchemy as sa

revision = "d1"
down_revision = "m1"
branch_labels = None
depends_on = "c1"


def upgrade():
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("body", sa.Text))
    op.create_index("notes_body_idx", "notes", ["body"])


def downgrade():
    op.drop_index("notes_body_idx", table_name="notes")
    op.drop_table("notes")
PY
}

# alembic_url: the test database as SQLAlchemy names it.
alembic_url() {
  if [ "$DIALECT" = postgresql ]; then echo "$DB_URL"; else echo "sqlite:///$DB_FILE"; fi
}
# al ARGS...: alembic in the project (its output on stdout; INFO lines dropped).
al() { (cd "$TEST_DIR/al" && "${ALEMBIC[@]}" "$@" 2>/dev/null); }
# heads_of TEXT: the revision ids at the start of each line, sorted, space-separated.
heads_of() { printf '%s\n' "$1" | awk 'NF { print $1 }' | sort | tr '\n' ' '; }
# user_schema URL: that database's schema without either tool's bookkeeping, to compare.
user_schema() {
  if [ "$DIALECT" = postgresql ]; then
    "${RBACMIG_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/pg_dump" -s -O -x -d "$1" \
      -T alembic_version -T 'rbacmig_*' | grep -v '^--' | grep -v -e '^SET ' -e '^SELECT pg_catalog' -e '^[\]' | grep .
  else
    sqlite3 -batch "${1#sqlite:}" "SELECT type, name, tbl_name, sql FROM sqlite_master
      WHERE tbl_name NOT LIKE 'rbacmig_%' AND tbl_name NOT IN ('alembic_version', 'sqlite_sequence')
      ORDER BY name" |
      tr '\t' ' ' | tr -s ' '
  fi
}
# replay_db NAME: another fresh database (dropped at the end); its URL on stdout.
drop_replay_dbs() {
  [ "$DIALECT" = postgresql ] && [ -n "${DB_NAME:-}" ] || return 0
  for n in a b c d e f g h; do
    "$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"${DB_NAME}_$n\" WITH (FORCE)" >/dev/null 2>&1
  done
}
trap 'drop_replay_dbs; cleanup' EXIT
replay_db() {
  if [ "$DIALECT" = postgresql ]; then
    "$PSQL" -q -X -v ON_ERROR_STOP=1 -d "$RBACMIG_TEST_PG_URL" -c "CREATE DATABASE \"${DB_NAME}_$1\"" >/dev/null &&
      echo "${RBACMIG_TEST_PG_URL%/*}/${DB_NAME}_$1"
  else
    echo "sqlite:$TEST_DIR/replay_$1.sqlite"
  fi
}
# body FILE FN: the SQL inside FN's db:exec_script([[...]]) in an imported file.
body() { awk -v fn="  $2 = function(db)" '$0 == fn { f = 1; next } f && /^  end,/ { exit }
  f && /exec_script\(\[=*\[$/ { s = 1; next } f && s && /^\]=*\]\)$/ { s = 0; next }
  f && s && NF' "$1"; }
# alembic_sql RANGE: what `alembic upgrade RANGE --sql` prints, without Alembic's own
# bookkeeping (alembic_version, BEGIN/COMMIT) and comments.
alembic_sql() {
  al upgrade "$1" --sql | awk '/^-- /||/^BEGIN;$/||/^COMMIT;$/ { next }
    /alembic_version/ { skip = 1 } skip { if (/;$/) skip = 0; next } NF'
}

new_db
alembic_project "$TEST_DIR/al" "$(alembic_url)" || { echo "alembic init failed"; exit 1; }
"$RBACMIG" init . >/dev/null || exit 1

# ---- Alembic at two heads; nothing imported yet: refused, each revision named ----------
al upgrade b1 >/dev/null
al upgrade c1 >/dev/null
expect_eq "$(heads_of "$(al current)")" "b1 c1 " "alembic holds two heads"
rb stamp --from-alembic
expect_rc 1 "stamp --from-alembic with no migration files"
expect_err_has "2 revisions with no migration file" "refusal counts them"
expect_err_has ": b1, c1" "refusal names each unmappable revision"
expect_one_error_line "refusal"
if table_exists rbacmig_version || table_exists rbacmig_history; then
  fail "the refusal changed nothing: rbacmig's tables exist"
else pass; fi
rb stamp --from-alembic --alembic-table nope
expect_rc 1 "a missing Alembic table"
expect_err_has "no Alembic version table nope" "a missing Alembic table is named"
expect_one_error_line "missing Alembic table"
if [ "$DIALECT" = postgresql ]; then
  rb stamp --from-alembic --alembic-schema nowhere
  expect_rc 1 "a schema without Alembic's table"
  expect_err_has "no Alembic version table nowhere.alembic_version" "the schema is named"
fi
rb stamp --from-alembic --sql
expect_rc 2 "--from-alembic with --sql is a usage error"
rb stamp
expect_rc 2 "stamp with neither REV nor --from-alembic"
rb stamp --alembic-table x a1
expect_rc 2 "--alembic-table without --from-alembic"

# ---- import alembic ------------------------------------------------------------------------
rb import alembic al
expect_rc 0 "import alembic"
for id in a1 b1 c1 m1 d1; do expect_out_has "$id ${id}_" "import lists $id"; done
rb heads
expect_out "d1 (head)" "imported heads"
rb branches
expect_out_has "a1 (branchpoint)" "imported branch point"
rb history
expect_out_has "b1, c1 -> m1 (mergepoint), merge email and billing" "a tuple down_revision is a merge"
expect_out_has "a1 -> c1 (billing), invoices; it's \"billing\"" "branch label and message kept"
expect_out_has "<base> -> a1 (branchpoint), create accounts" "the root"
rb show d1
expect_out_has "Also depends on: c1" "depends_on kept"
# The bodies are what `alembic upgrade PREV:REV --sql` prints for the step, bookkeeping gone.
for step in a1:b1 b1:c1 m1:d1; do
  f=$(ls migrations/"${step#*:}"_*.lua)
  expect_eq "$(body "$f" upgrade)" "$(alembic_sql "$step")" "body of ${step#*:} is Alembic's SQL"
done
expect_eq "$(body "$(ls migrations/a1_*.lua)" upgrade)" \
  "$(al upgrade a1 --sql | awk '/^-- /||/^BEGIN;$/||/^COMMIT;$/ { next }
    /alembic_version/ { skip = 1 } skip { if (/;$/) skip = 0; next } NF')" "body of the root"
check "bodies run through db:exec_script" grep -q 'db:exec_script(\[' migrations/a1_create_accounts.lua
check "op.execute kept verbatim" grep -q "INSERT INTO accounts (id, name) VALUES (1, 'first ]] account')" migrations/c1_*.lua
check "the merge has no SQL" bash -c "! grep -q exec_script migrations/m1_*.lua"
rb import alembic al
expect_rc 1 "a second import refuses to overwrite"
expect_err_has "already holds" "the clash is named"
rb import alembic --dialect mysql al
expect_rc 2 "an unknown --dialect"
rb import alembic --shadow x al
expect_rc 2 "--shadow without --shadow-alembic"
check "a usage error writes nothing" test "$(find migrations -name '*.lua' | wc -l)" = 5
rb import alembic migrations
expect_rc 1 "a directory without alembic.ini"
expect_err_has "holds no alembic.ini" "the missing alembic.ini is named"

# ---- stamp --from-alembic: two heads, then one ------------------------------------------------
schema_opt=()
[ "$DIALECT" = postgresql ] && schema_opt=(--alembic-schema public)
rb stamp --from-alembic "${schema_opt[@]}"
expect_rc 0 "stamp --from-alembic at two heads"
rb current
expect_eq "$(heads_of "$OUT")" "$(heads_of "$(al current)")" "current equals alembic current (two heads)"
al upgrade heads >/dev/null
rb stamp --from-alembic
expect_rc 0 "stamp --from-alembic at one head"
rb current
expect_eq "$(heads_of "$OUT")" "$(heads_of "$(al current)")" "current equals alembic current"
expect_eq "$(sql "SELECT revision FROM rbacmig_history WHERE direction = 'stamp' ORDER BY revision" | tr '\n' ' ')" \
  "a1 b1 c1 d1 m1 " "history rows as a normal stamp writes them"
migration e1 d1 'db:exec("CREATE TABLE extra (id integer)")' 'db:exec("DROP TABLE extra")'
rb upgrade head
expect_rc 0 "upgrade head goes on from Alembic's revision"
check "the rbacmig-only migration ran" table_exists extra
check "Alembic's tables are untouched" table_exists notes
rb downgrade d1
expect_rc 0 "and back"
rm -f migrations/e1_m.lua

if [ "$DIALECT" = sqlite ]; then
  # batch_alter_table needs a live SQLite database: b1's downgrade cannot be rendered offline,
  # and refuses to run, naming Alembic's file.
  check "an unrenderable step refuses" grep -q 'error("Alembic revision b1 (alembic/versions/b1_email.py) could not be imported: downgrade()' migrations/b1_*.lua
  rb stamp b1
  rb downgrade a1
  expect_rc 1 "downgrade through the unrenderable step"
  expect_err_has "b1_email.py" "the refusal names the Alembic file"
fi
# Alembic at base: its table is empty, and so is the stamp.
al downgrade base >/dev/null
rb stamp --from-alembic
expect_rc 0 "stamp --from-alembic with Alembic at base"
rb current
expect_out "" "nothing is current after Alembic went to base"

# ---- the proof: both chains replayed, revision by revision, give the same schema ----------
# The imported bodies run through db:exec_script (i16-sqlfiles); a build without it cannot
# run them, and says so here rather than failing on it.
mkdir -p probe/migrations
cat > probe/migrations/p1_m.lua <<'LUA'
return { revision = "p1", upgrade = function(db) assert(db.exec_script) end, downgrade = function() end }
LUA
if (cd probe && "$RBACMIG" -d "sqlite:$TEST_DIR/probe.sqlite" upgrade head >/dev/null 2>&1); then
  url_a=$(replay_db a) && url_b=$(replay_db b) || exit 1
  cp -r al al_a
  sqla=$url_a
  [ "$DIALECT" = sqlite ] && sqla="sqlite:///${url_a#sqlite:}"
  sed -i "s|^sqlalchemy.url = .*|sqlalchemy.url = $sqla|" al_a/alembic.ini
  for rev in a1 b1 c1 m1 d1; do
    (cd al_a && "${ALEMBIC[@]}" upgrade "$rev" >/dev/null 2>&1)
    rb -d "$url_b" upgrade "$rev"
    expect_rc 0 "imported $rev runs"
    a=$(user_schema "$url_a")
    b=$(user_schema "$url_b")
    if [ -n "$a" ] && [ "$a" = "$b" ]; then pass; else
      fail "after $rev the imported chain's schema differs from Alembic's"
      diff <(echo "$a") <(echo "$b") | head -10
    fi
  done
  if [ "$DIALECT" = postgresql ]; then
    for rev in m1 base; do
      (cd al_a && "${ALEMBIC[@]}" downgrade "$rev" >/dev/null 2>&1)
      rb -d "$url_b" downgrade "$rev"
      expect_rc 0 "imported chain down to $rev"
      expect_eq "$(user_schema "$url_b")" "$(user_schema "$url_a")" "schemas equal down at $rev"
    done
  fi
  # The same proof by the command itself, where `rbacmig diff` exists (the schema reader).
  if "$RBACMIG" diff --help >/dev/null 2>&1; then
    mkdir proof && cd proof || exit 1
    "$RBACMIG" init . >/dev/null || exit 1
    url_c=$(replay_db c) && url_d=$(replay_db d) || exit 1
    rb import alembic ../al --shadow-alembic "$url_c" --shadow "$url_d"
    expect_rc 0 "import alembic with its proof"
    for id in a1 b1 c1 m1 d1; do expect_out_has "$id imported and equal" "proof reports $id"; done
    # A step whose SQL offline is not what it does online: the proof says so, and fails.
    mkdir odd && cd odd && "$RBACMIG" init . >/dev/null || exit 1
    mkdir al && (cd al && "${ALEMBIC[@]}" init alembic >/dev/null) || exit 1
    cat > al/alembic/versions/x1_odd.py <<'PY'
"""differs offline

Revision ID: x1
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "x1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    name = "made_offline" if op.get_context().as_sql else "made_online"
    op.create_table(name, sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    pass
PY
    url_e=$(replay_db e) && url_f=$(replay_db f) || exit 1
    rb import alembic al --dialect "$DIALECT" --shadow-alembic "$url_e" --shadow "$url_f"
    expect_rc 1 "a proof that finds a difference fails"
    expect_out_has "x1 imported, differs from Alembic's:" "the differing revision is named"
    expect_out_has "made_o" "with its first difference"
    expect_err_has "1 of 1 imported revision gives another schema" "and counted"
    cd "$TEST_DIR" || exit 1
  else
    echo "note: this rbacmig has no diff command yet; import's own proof is not run"
  fi
else
  echo "note: this rbacmig has no db:exec_script yet; the imported chain's replay is not run"
fi

# ---- the project's env.py is honoured, as `alembic upgrade --sql` honours it -------------
# Its context.configure() settings (here a version table of its own name) and the keyword
# arguments it passes to each upgrade() (Alembic's run_migrations(**kw)) shape the SQL
# Alembic prints; the import renders each step through env.py, reports the version table for
# `stamp --from-alembic`, and its proof leaves that table aside as it does alembic_version.
cd "$TEST_DIR" || exit 1
mkdir envpy && cd envpy && "$RBACMIG" init . >/dev/null || exit 1
mkdir al && (cd al && "${ALEMBIC[@]}" init alembic >/dev/null) || exit 1
sed -i "s|^sqlalchemy.url = .*|sqlalchemy.url = $(alembic_url)|" al/alembic.ini
sed -i -e 's/literal_binds=True,/literal_binds=True, version_table="app_versions",/' \
  -e 's/connection=connection, target_metadata=target_metadata/&, version_table="app_versions"/' \
  -e 's/context.run_migrations()/context.run_migrations(table_prefix="app_")/' al/alembic/env.py
check "env.py names its version table" grep -q 'version_table="app_versions"' al/alembic/env.py
cat > al/alembic/versions/y1_things.py <<'PY'
"""things, named by env.py

Revision ID: y1
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "y1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade(table_prefix=""):
    op.create_table(table_prefix + "things", sa.Column("id", sa.Integer, primary_key=True))


def downgrade(table_prefix=""):
    op.drop_table(table_prefix + "things")
PY
rb import alembic al
expect_rc 0 "import alembic through env.py"
expect_eq "$(body "$(ls migrations/y1_*.lua)" upgrade)" \
  "$( (cd al && "${ALEMBIC[@]}" upgrade y1 --sql 2>/dev/null) | awk '/^-- /||/^BEGIN;$/||/^COMMIT;$/ { next }
    /app_versions/ { skip = 1 } skip { if (/;$/) skip = 0; next } NF')" \
  "the body is what 'alembic upgrade y1 --sql' prints through env.py"
check "env.py's keyword arguments reach upgrade()" grep -q 'CREATE TABLE app_things' migrations/y1_*.lua
check "and downgrade()" grep -q 'DROP TABLE app_things' migrations/y1_*.lua
expect_err_has "--alembic-table app_versions" "the import names env.py's version table for stamp"
(cd al && "${ALEMBIC[@]}" upgrade head >/dev/null 2>&1)
rb stamp --from-alembic --alembic-table app_versions
expect_rc 0 "stamp --from-alembic from env.py's version table"
rb current
expect_out_has "y1" "current is Alembic's revision"
rm -f migrations/y1_*.lua
url_g=$(replay_db g) && url_h=$(replay_db h) || exit 1
rb import alembic al --shadow-alembic "$url_g" --shadow "$url_h"
expect_rc 0 "the proof with env.py's version table"
expect_out_has "y1 imported and equal" "env.py's version table is Alembic's bookkeeping, not a difference"
# An env.py that fails offline fails the import, in one line naming it, and writes nothing.
cp -r al al_broken
sed -i 's/^def run_migrations_offline() -> None:/&\n    raise RuntimeError("no offline here")/' \
  al_broken/alembic/env.py
mkdir broken && cd broken && "$RBACMIG" init . >/dev/null || exit 1
rb import alembic ../al_broken
expect_rc 1 "an env.py failing offline"
expect_one_error_line "an env.py failing offline"
expect_err_has "alembic/env.py failed offline" "the failing env.py is named"
expect_err_has "RuntimeError: no offline here" "with its error"
check "an env.py failing offline writes nothing" test -z "$(ls migrations)"
cd .. || exit 1
cd "$TEST_DIR" || exit 1

finish
