/* cmd_import.c: `import alembic DIR`: an Alembic project's revisions become migrations in
 * the configured migrations directory (the work is alembic.c's; this reports it), and with
 * two shadow databases the import is proved: Alembic's chain into one, the imported chain
 * into the other, `rbacmig diff` between them after every revision. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alembic.h"
#include "cli.h"
#include "output.h"

/* Whether line names the table: as a word, not inside a longer name. */
static bool names_table(const char *line, const char *table)
{
    size_t n = strlen(table);
    for (const char *p = strstr(line, table); p; p = strstr(p + 1, table)) {
        bool before = p == line || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        bool after = !(isalnum((unsigned char)p[n]) || p[n] == '_');
        if (before && after)
            return true;
    }
    return false;
}

/* The first difference `diff`'s text output names, Alembic's own version table aside (it
 * is in Alembic's shadow only, under the name env.py gives it; rbacmig's tables `diff`
 * leaves out itself); "" for none. */
static void first_difference(const char *out, const char *version_table, char *first,
                             size_t size)
{
    first[0] = '\0';
    for (const char *line = out; *line; ) {
        size_t n = strcspn(line, "\n");
        bool summary = (*line >= '0' && *line <= '9') || strncmp(line, "no differences", 14) == 0;
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf ? n : sizeof buf - 1), line);
        if (n && !summary && !names_table(buf, version_table)) {
            snprintf(first, size, "%s", buf);
            return;
        }
        line += n + (line[n] == '\n');
    }
}

/* rbacmig itself (this binary), run with args: its stdout in *out (caller frees). */
static int run_self(cli_state *st, const char *const args[], char **out, int *status,
                    rb_error *err)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return rb_errorf(err, RB_ERR_FAILURE, "cannot find the rbacmig binary to prove the "
                         "import with");
    self[n] = '\0';
    const char *argv[16] = {self, "-q"};
    int k = 2;
    if (st->cfg.config_file_given) {
        argv[k++] = "-c";
        argv[k++] = st->cfg.config_file;
    }
    for (int i = 0; args[i] && k < 15; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    return alembic_run_capture(argv, false, out, status, err);
}

/* The proof, revision by revision in the order imported (parents first): Alembic upgrades
 * its shadow, rbacmig the other, and `diff` must find nothing between them. Reports each
 * revision; fails when any differs or cannot be replayed. */
static int prove(cli_state *st, const char *dir, const alembic_project *project,
                 const alembic_step *steps, int nsteps, const char *url_alembic,
                 const char *url_rbacmig, rb_error *err)
{
    int differ = 0, rc = -1;
    char *out = NULL;
    for (int i = 0; i < nsteps; i++) {
        const char *id = steps[i].id;
        int status = 0;
        if (!steps[i].offline_ok && strstr(steps[i].why, "upgrade()")) {
            rb_errorf(err, RB_ERR_FAILURE, "proof stopped at %s: its upgrade could not be "
                      "imported (%s)", id, steps[i].file);
            goto done;
        }
        if (alembic_upgrade(dir, url_alembic, id, err) != 0)
            goto done;
        const char *up[] = {"-d", url_rbacmig, "upgrade", id, NULL};
        if (run_self(st, up, &out, &status, err) != 0)
            goto done;
        free(out);
        out = NULL;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            rb_errorf(err, RB_ERR_FAILURE, "proof stopped at %s: the imported migration failed "
                      "on the shadow database (its error is above)", id);
            goto done;
        }
        const char *diff[] = {"diff", url_alembic, url_rbacmig, NULL};
        if (run_self(st, diff, &out, &status, err) != 0)
            goto done;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        char first[512];
        first_difference(out, project->version_table, first, sizeof first);
        free(out);
        out = NULL;
        if (code != 0 && code != 4 && code != 5) {
            rb_errorf(err, RB_ERR_FAILURE, "proof stopped at %s: 'rbacmig diff' failed (exit %d;"
                      " its error is above)", id, code);
            goto done;
        }
        if (first[0]) {
            differ++;
            out_print("%s imported, differs from Alembic's: %s", id, first);
        } else {
            out_print("%s imported and equal", id);
        }
    }
    if (differ) {
        rb_errorf(err, RB_ERR_FAILURE, "%d of %d imported revision%s give%s another schema than "
                  "Alembic's", differ, nsteps, nsteps == 1 ? "" : "s", differ == 1 ? "s" : "");
        goto done;
    }
    rc = 0;
done:
    free(out);
    return rc;
}

int cmd_import(cli_state *st, rb_error *err)
{
    alembic_step *steps = NULL;
    int nsteps = 0, refused = 0, rc = -1;
    const char *dir = st->args.positional.items[0];
    const char *shadow_alembic = cli_value(st, "shadow-alembic"), *shadow = cli_value(st, "shadow");
    const char *dialect = cli_value(st, "dialect");
    if (dialect && strcmp(dialect, "postgresql") != 0 && strcmp(dialect, "sqlite") != 0) {
        rb_errorf(err, RB_ERR_USAGE, "--dialect '%s': postgresql or sqlite", dialect);
        goto done;
    }
    if (!shadow_alembic != !shadow) {
        rb_errorf(err, RB_ERR_USAGE, "the proof needs both shadow databases: --shadow-alembic "
                  "URL and --shadow URL");
        goto done;
    }
    alembic_project project;
    if (alembic_import(dir, st->cfg.migrations_dir, dialect, &project, &steps, &nsteps,
                       err) != 0)
        goto done;
    out_progress("Imported %d Alembic revision%s from '%s' into %s/:", nsteps,
                 nsteps == 1 ? "" : "s", dir, st->cfg.migrations_dir);
    for (int i = 0; i < nsteps; i++) {
        out_print("%s %s", steps[i].id, steps[i].file);
        if (!steps[i].offline_ok) {
            refused++;
            out_note("%s: %s; that direction refuses to run until written by hand",
                     steps[i].id, steps[i].why);
        }
    }
    if (refused)
        out_note("%d revision%s could not be rendered offline in full (see above)", refused,
                 refused == 1 ? "" : "s");
    /* env.py names Alembic's version table: `stamp --from-alembic` must be told. */
    bool own_table = strcmp(project.version_table, "alembic_version") != 0;
    if (own_table || project.version_schema[0])
        out_note("Alembic's version table here is %s%s%s (env.py): take its revisions over "
                 "with 'rbacmig stamp --from-alembic%s%s%s%s'", project.version_schema,
                 project.version_schema[0] ? "." : "", project.version_table,
                 own_table ? " --alembic-table " : "", own_table ? project.version_table : "",
                 project.version_schema[0] ? " --alembic-schema " : "",
                 project.version_schema);
    if (shadow && prove(st, dir, &project, steps, nsteps, shadow_alembic, shadow, err) != 0)
        goto done;
    rc = 0;
done:
    free(steps);
    return rc;
}
