/* alembic.c: the bridge from Alembic (see alembic.h). */
#include "alembic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "versions.h"

int alembic_read_versions(db_conn *c, const char *schema, const char *table, str_list *revs,
                          rb_error *err)
{
    char *qschema = NULL, *qtable = NULL, *sql = NULL;
    db_result *res = NULL;
    int rc = -1;
    if (!db_can_read(c)) {
        rb_errorf(err, RB_ERR_USAGE, "--from-alembic reads Alembic's version table; --sql has "
                  "no database to read it from");
        goto done;
    }
    qtable = db_quote_ident(c, table);
    qschema = schema ? db_quote_ident(c, schema) : NULL;
    size_t n = (qtable ? strlen(qtable) : 0) + (qschema ? strlen(qschema) : 0) + 64;
    if (!qtable || (schema && !qschema) || !(sql = malloc(n))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    snprintf(sql, n, "SELECT version_num FROM %s%s%s", qschema ? qschema : "",
             qschema ? "." : "", qtable);
    if (db_exec(c, sql, 0, NULL, &res, NULL, err) != 0) {
        if (err->kind == RB_ERR_NOT_FOUND) {
            /* One line: the driver's message would add the statement and SQLSTATE. */
            rb_error_init(err);
            rb_errorf(err, RB_ERR_NOT_FOUND, "no Alembic version table %s%s%s in this database",
                      schema ? schema : "", schema ? "." : "", table);
            snprintf(err->hint, sizeof err->hint, "name it with --alembic-table NAME%s",
                     db_conn_dialect(c) == DIALECT_POSTGRESQL ? " and --alembic-schema SCHEMA" : "");
        }
        goto done;
    }
    rc = versions_rows_from_result(res, revs, err);
done:
    db_result_free(res);
    free(sql);
    free(qschema);
    free(qtable);
    return rc;
}

/* The import, in Alembic's own terms: this runs with the system Python (where Debian's
 * python3-alembic is), loads the project with ScriptDirectory (which imports each revision
 * file, as `alembic` itself does: the project's Python runs), and renders each revision's
 * upgrade() and downgrade() as `alembic upgrade PREV:REV --sql` does: offline (as_sql),
 * through the project's env.py, so that what env.py configures (context.configure's
 * literal_binds, dialect_opts, version table, a URL of its own...) and the keyword arguments
 * it passes to run_migrations() reach each step. One step at a time: Alembic is handed that
 * revision's step alone (`upgrade PREV:REV --sql` cannot print a merge's own step: Alembic
 * would add the other branch), and only what the step's own function prints is kept (no
 * version-table bookkeeping, no BEGIN/COMMIT to strip): the step ends right after it.
 * `--dialect` replaces alembic.ini's sqlalchemy.url with that dialect's bare URL, which
 * env.py reads as Alembic's template does. env.py's logging set-up (fileConfig) is skipped:
 * run once per step, Alembic's INFO lines would bury the import's own report. It checks every revision before it writes any
 * file, and answers one line per revision on stdout: "ok\tID\tFILE",
 * "offline-failed\tID\tFILE\tWHY", then "version-table\tSCHEMA\tNAME" (env.py's), or
 * "error\tMESSAGE" (exit 3). */
static const char bridge_py[] =
    "import io, os, re, sys\n"
    "proj, out_dir, dialect = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]\n"
    "def fail(msg):\n"
    "    print(\"error\\t\" + msg.replace(\"\\n\", \" \"))\n"
    "    sys.exit(3)\n"
    "try:\n"
    "    from alembic.config import Config\n"
    "    from alembic.script import ScriptDirectory\n"
    "    from alembic.runtime.environment import EnvironmentContext\n"
    "    from alembic.runtime.migration import RevisionStep\n"
    "except ImportError as e:\n"
    "    fail(\"Alembic is not installed for %s (%s); on Debian: apt install python3-alembic\" % (sys.executable, e))\n"
    "ini = os.path.join(proj, \"alembic.ini\")\n"
    "if not os.path.isfile(ini):\n"
    "    fail(\"'%s' holds no alembic.ini (name the Alembic project's directory)\" % proj)\n"
    "os.chdir(proj)\n"
    "cfg = Config(\"alembic.ini\")\n"
    "import logging.config\n"
    "logging.config.fileConfig = lambda *a, **kw: None\n"
    "try:\n"
    "    script = ScriptDirectory.from_config(cfg)\n"
    "    revs = list(script.walk_revisions(\"base\", \"heads\"))\n"
    "except Exception as e:\n"
    "    fail(\"Alembic cannot read the project's revisions: %s\" % e)\n"
    "revs.reverse()\n"
    "if dialect:\n"
    "    cfg.set_main_option(\"sqlalchemy.url\", dialect + \"://\")\n"
    "elif not cfg.get_main_option(\"sqlalchemy.url\"):\n"
    "    cfg.set_main_option(\"sqlalchemy.url\", \"postgresql://\")\n"
    "def ids(v):\n"
    "    if v is None:\n"
    "        return []\n"
    "    if isinstance(v, str):\n"
    "        return [v]\n"
    "    return [str(x) for x in v]\n"
    "def lua_str(s):\n"
    "    out = []\n"
    "    for b in s.encode(\"utf-8\"):\n"
    "        c = chr(b)\n"
    "        if c in '\"\\\\':\n"
    "            out.append(\"\\\\\" + c)\n"
    "        elif 32 <= b < 127:\n"
    "            out.append(c)\n"
    "        else:\n"
    "            out.append(\"\\\\%03d\" % b)\n"
    "    return '\"' + \"\".join(out) + '\"'\n"
    "def lua_list(v):\n"
    "    v = ids(v)\n"
    "    if not v:\n"
    "        return \"nil\"\n"
    "    if len(v) == 1:\n"
    "        return lua_str(v[0])\n"
    "    return \"{\" + \", \".join(lua_str(x) for x in v) + \"}\"\n"
    "def long_str(s):\n"
    "    n = 0\n"
    "    while (\"]\" + \"=\" * n + \"]\") in s or s.endswith(\"]\" + \"=\" * n):\n"
    "        n += 1\n"
    "    return \"[\" + \"=\" * n + \"[\\n\" + s + \"]\" + \"=\" * n + \"]\"\n"
    "class StepDone(Exception):\n"
    "    pass\n"
    "seen = {}\n"
    "def render(r, fn_name):\n"
    "    upgrade = fn_name == \"upgrade\"\n"
    "    got, buf = {}, io.StringIO()\n"
    "    cfg.output_buffer = buf\n"
    "    fn = getattr(r.module, fn_name)\n"
    "    def step_fn(*a, **kw):\n"
    "        start = buf.tell()\n"
    "        try:\n"
    "            fn(*a, **kw)\n"
    "        except Exception as e:\n"
    "            got[\"error\"] = e\n"
    "        else:\n"
    "            got[\"sql\"] = buf.getvalue()[start:]\n"
    "        raise StepDone()\n"
    "    def steps(rev, ctx):\n"
    "        ctx.impl.output_buffer = ctx.output_buffer = buf\n"
    "        seen.update(dialect=ctx.dialect.name, table=ctx.version_table, schema=ctx.version_table_schema or \"\")\n"
    "        step = RevisionStep(script.revision_map, r, upgrade)\n"
    "        step.migration_fn = step_fn\n"
    "        return [step]\n"
    "    start = (ids(r.down_revision) or None) if upgrade else [r.revision]\n"
    "    try:\n"
    "        with EnvironmentContext(cfg, script, fn=steps, as_sql=True, starting_rev=start, destination_rev=r.revision, tag=None):\n"
    "            script.run_env()\n"
    "    except StepDone:\n"
    "        pass\n"
    "    except Exception as e:\n"
    "        fail(\"the project's %s failed offline, as `alembic upgrade --sql` runs it: %s: %s\" % (os.path.relpath(os.path.join(script.dir, \"env.py\"), proj), type(e).__name__, (str(e).splitlines() or [\"\"])[0]))\n"
    "    if \"error\" in got:\n"
    "        raise got[\"error\"]\n"
    "    if \"sql\" not in got:\n"
    "        fail(\"the project's %s ran no migration offline (its run_migrations_offline() must call context.run_migrations())\" % os.path.relpath(os.path.join(script.dir, \"env.py\"), proj))\n"
    "    return got[\"sql\"].strip(\"\\n\")\n"
    "rows, files = [], set()\n"
    "existing = set(os.listdir(out_dir)) if os.path.isdir(out_dir) else set()\n"
    "for r in revs:\n"
    "    rid = r.revision\n"
    "    if not re.fullmatch(r\"[a-z0-9_]{1,40}\", rid):\n"
    "        fail(\"Alembic revision '%s' is not an rbacmig revision id (1 to 40 lowercase letters, digits or '_')\" % rid)\n"
    "    for name in existing:\n"
    "        if name == rid + \".lua\" or name.startswith(rid + \"_\"):\n"
    "            fail(\"'%s' already holds %s, a migration with Alembic's revision %s\" % (out_dir, name, rid))\n"
    "    msg = (r.doc or \"\").strip()\n"
    "    slug = re.sub(\"[^a-z0-9]+\", \"_\", msg.lower()).strip(\"_\")[:40].rstrip(\"_\")\n"
    "    fname = rid + (\"_\" + slug if slug else \"\") + \".lua\"\n"
    "    mod = r.module\n"
    "    deps = getattr(r, \"_resolved_dependencies\", None) or ids(getattr(mod, \"depends_on\", None))\n"
    "    labels = ids(getattr(mod, \"branch_labels\", None))\n"
    "    src = os.path.relpath(r.path, proj)\n"
    "    bodies, whys = [], []\n"
    "    for fn_name in (\"upgrade\", \"downgrade\"):\n"
    "        try:\n"
    "            bodies.append(render(r, fn_name))\n"
    "            whys.append(None)\n"
    "        except Exception as e:\n"
    "            bodies.append(None)\n"
    "            whys.append(\"%s() cannot be rendered offline: %s: %s\" % (fn_name, type(e).__name__, (str(e).splitlines() or [\"\"])[0]))\n"
    "    why = \"; \".join(w for w in whys if w) or None\n"
    "    lines = [\"-- \" + (msg.splitlines()[0] if msg else \"(no message)\"), \"--\",\n"
    "             \"-- Revision ID: \" + rid,\n"
    "             \"-- Revises: \" + \", \".join(ids(r.down_revision)),\n"
    "             \"-- Imported from Alembic's \" + src + \" by `rbacmig import alembic`: the bodies\",\n"
    "             \"-- are the SQL Alembic prints offline for this step (dialect \" + seen.get(\"dialect\", \"?\") + \", through env.py).\",\n"
    "             \"return {\",\n"
    "             \"  revision = \" + lua_str(rid) + \",\",\n"
    "             \"  down_revision = \" + lua_list(r.down_revision) + \",\"]\n"
    "    if labels:\n"
    "        lines.append(\"  branch_labels = \" + lua_list(labels) + \",\")\n"
    "    if deps:\n"
    "        lines.append(\"  depends_on = \" + lua_list(deps) + \",\")\n"
    "    lines.append(\"  message = \" + lua_str(msg) + \",\")\n"
    "    for i, fn_name in enumerate((\"upgrade\", \"downgrade\")):\n"
    "        lines.append(\"  %s = function(db)\" % fn_name)\n"
    "        if whys[i]:\n"
    "            lines.append(\"    error(\" + lua_str(\"Alembic revision %s (%s) could not be imported: %s; write this step by hand\" % (rid, src, whys[i])) + \")\")\n"
    "        elif bodies[i]:\n"
    "            lines.append(\"    db:exec_script(\" + long_str(bodies[i] + \"\\n\") + \")\")\n"
    "        else:\n"
    "            lines.append(\"    -- Alembic prints no SQL for this step.\")\n"
    "        lines.append(\"  end,\")\n"
    "    lines.append(\"}\")\n"
    "    rows.append((rid, fname, \"\\n\".join(lines) + \"\\n\", why))\n"
    "os.makedirs(out_dir, exist_ok=True)\n"
    "for rid, fname, text, why in rows:\n"
    "    with open(os.path.join(out_dir, fname), \"x\", encoding=\"utf-8\") as f:\n"
    "        f.write(text)\n"
    "    print((\"offline-failed\\t%s\\t%s\\t%s\" % (rid, fname, why.replace(\"\\t\", \" \").replace(\"\\n\", \" \"))) if why else (\"ok\\t%s\\t%s\" % (rid, fname)))\n"
    "if seen:\n"
    "    print(\"version-table\\t%s\\t%s\" % (seen[\"schema\"], seen[\"table\"]))\n"
    ;

/* Runs argv (argv[0] a path) and reads all it prints on stdout (and stderr when asked;
 * else stderr stays the terminal's): *out is the caller's to free, *status the process's wait status. */
int alembic_run_capture(const char *const argv[], bool with_stderr, char **out, int *status,
                        rb_error *err)
{
    int fds[2];
    if (pipe(fds) != 0)
        return rb_errorf(err, RB_ERR_FAILURE, "cannot run %s: %s", argv[0], strerror(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return rb_errorf(err, RB_ERR_FAILURE, "cannot run %s: %s", argv[0], strerror(errno));
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        if (with_stderr)
            dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        char *const *av; /* execv's argv is not const-qualified, but exec does not write */
        memcpy(&av, &argv, sizeof av);
        execv(argv[0], av);
        fprintf(stderr, "rbacmig: error: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    ssize_t n = 0;
    while (buf && (n = read(fds[0], buf + len, cap - len - 1)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        len += (size_t)n;
        if (cap - len < 1024) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    close(fds[0]);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
    if (!buf)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    buf[len] = '\0';
    *out = buf;
    return 0;
}

/* The Python with Alembic: /usr/bin/python3 (where Debian installs its module) unless
 * RBACMIG_PYTHON names another. */
static const char *python(void)
{
    const char *p = getenv("RBACMIG_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

/* Upgrades the database at url to rev with Alembic (its env.py, the project's
 * sqlalchemy.url replaced): what `alembic upgrade REV` does. rbacmig's URLs become
 * SQLAlchemy's (sqlite:FILE -> sqlite:///FILE, postgres:// -> postgresql://). */
static const char upgrade_py[] =
    "import os, sys\n"
    "proj, url, rev = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]\n"
    "if url.startswith('sqlite:') and not url.startswith('sqlite://'):\n"
    "    url = 'sqlite:///' + os.path.abspath(url[len('sqlite:'):])\n"
    "if url.startswith('postgres://'):\n"
    "    url = 'postgresql://' + url[len('postgres://'):]\n"
    "from alembic import command\n"
    "from alembic.config import Config\n"
    "os.chdir(proj)\n"
    "cfg = Config('alembic.ini')\n"
    "cfg.set_main_option('sqlalchemy.url', url.replace('%', '%%'))\n"
    "command.upgrade(cfg, rev)\n";

int alembic_upgrade(const char *project_dir, const char *url, const char *rev, rb_error *err)
{
    char *out = NULL;
    int status = 0;
    const char *argv[] = {python(), "-c", upgrade_py, project_dir, url, rev, NULL};
    if (alembic_run_capture(argv, true, &out, &status, err) != 0)
        return -1;
    int rc = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* Alembic's last line is its error (a traceback ends with it). */
        size_t n = strlen(out);
        while (n && out[n - 1] == '\n')
            out[--n] = '\0';
        const char *last = strrchr(out, '\n');
        rc = rb_errorf(err, RB_ERR_FAILURE, "alembic upgrade %s on the shadow database failed: "
                       "%s", rev, last ? last + 1 : out);
    }
    free(out);
    return rc;
}

/* Copies field number i (tab-separated) of line into dst. */
static void field(const char *line, int i, char *dst, size_t size)
{
    for (; i > 0 && line; i--)
        if ((line = strchr(line, '\t')))
            line++;
    if (!line) {
        dst[0] = '\0';
        return;
    }
    size_t n = strcspn(line, "\t\n");
    if (n >= size)
        n = size - 1;
    memcpy(dst, line, n);
    dst[n] = '\0';
}

int alembic_import(const char *project_dir, const char *migrations_dir, const char *dialect,
                   alembic_project *project, alembic_step **steps, int *nsteps,
                   rb_error *err)
{
    char *out = NULL;
    int status = 0, rc = -1, cap = 0;
    *steps = NULL;
    *nsteps = 0;
    *project = (alembic_project){.version_table = "alembic_version"};
    const char *argv[] = {python(), "-c", bridge_py, project_dir, migrations_dir,
                          dialect ? dialect : "", NULL};
    if (alembic_run_capture(argv, false, &out, &status, err) != 0)
        goto done;
    for (char *line = out; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0)) {
        if (strncmp(line, "error\t", 6) == 0) {
            char msg[900];
            field(line, 1, msg, sizeof msg);
            rb_errorf(err, RB_ERR_FAILURE, "import alembic: %s", msg);
            goto done;
        }
        if (strncmp(line, "version-table\t", 14) == 0) {
            field(line, 1, project->version_schema, sizeof project->version_schema);
            field(line, 2, project->version_table, sizeof project->version_table);
            continue;
        }
        bool ok = strncmp(line, "ok\t", 3) == 0;
        if (!ok && strncmp(line, "offline-failed\t", 15) != 0)
            continue;
        if (*nsteps == cap) {
            cap = cap ? cap * 2 : 16;
            alembic_step *bigger = realloc(*steps, (size_t)cap * sizeof **steps);
            if (!bigger) {
                rb_errorf(err, RB_ERR_FAILURE, "out of memory");
                goto done;
            }
            *steps = bigger;
        }
        alembic_step *s = &(*steps)[(*nsteps)++];
        field(line, 1, s->id, sizeof s->id);
        field(line, 2, s->file, sizeof s->file);
        field(line, 3, s->why, sizeof s->why);
        s->offline_ok = ok;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        rb_errorf(err, RB_ERR_FAILURE, "import alembic: Alembic failed on '%s' (%s %d)",
                  project_dir, WIFEXITED(status) ? "exit" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        goto done;
    }
    rc = 0;
done:
    free(out);
    return rc;
}
