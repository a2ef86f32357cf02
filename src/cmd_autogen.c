/* cmd_autogen.c: `revision --autogenerate`, `schema export` and check's declarations line
 * (cmd_autogen.h, docs/autogenerate.md). Two shadow databases (shadow.h), each prepared like
 * drift's (shadow_bring: what lies outside the managed scope): "head", the migrations
 * replayed (with --from-db: the live database's exported declarations), and "declared", the
 * schema directory's files applied in file-name order. The models read from both go to
 * rbacmig.autogen.commands, which generates the migration's bodies; the candidate file is
 * written to a temporary directory, applied to the head shadow by the runner as `upgrade`
 * would (its own transaction, version rows), read back and compared with the declared
 * model, downgraded and compared with the head model, and only then copied, byte for byte,
 * into the migrations directory. Every shadow is dropped at the end, also on errors and
 * signals (shadow_close). */
#include "cmd_autogen.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "runner.h"
#include "scripts.h"
#include "sha256.h"
#include "shadow.h"
#include "textfile.h"
#include "versions.h"

/* ---- usage --------------------------------------------------------------------------- */

/* The options that only --autogenerate takes, and one that it does not. */
static const char *const AUTOGEN_ONLY[] = {"from-db", "rename", "allow-drop", "shadow-url"};

int cmd_revision_check(cli_state *st, rb_error *err)
{
    if (cmd_message_check(st, err) != 0)
        return -1;
    bool autogen = cli_flag(st, "autogenerate");
    /* The table lets -d through for --autogenerate's sake (its shadows' server). */
    if (!autogen && st->cfg.flag_url)
        return rb_errorf(err, RB_ERR_USAGE, "--database-url does not apply to 'revision': it "
                         "opens no database (only --autogenerate does)");
    for (size_t i = 0; i < sizeof AUTOGEN_ONLY / sizeof *AUTOGEN_ONLY; i++)
        if (!autogen && cli_flag(st, AUTOGEN_ONLY[i]))
            return rb_errorf(err, RB_ERR_USAGE, "--%s is an option of --autogenerate: "
                             "rbacmig revision --autogenerate -m MSG --%s ...",
                             AUTOGEN_ONLY[i], AUTOGEN_ONLY[i]);
    if (!autogen)
        return 0;
    if (cli_flag(st, "sql"))
        return rb_errorf(err, RB_ERR_USAGE, "--sql and --autogenerate do not go together: "
                         "autogenerate writes the schema API's calls");
    const str_list *urls = cli_values(st, "shadow-url");
    if (urls->count > 2)
        return rb_errorf(err, RB_ERR_USAGE, "--shadow-url is given at most twice (the head "
                         "shadow, then the declarations' shadow), got %d", urls->count);
    const str_list *renames = cli_values(st, "rename");
    for (int i = 0; i < renames->count; i++) {
        const char *r = renames->items[i], *colon = strchr(r, ':');
        if (!colon || colon == r || !colon[1] || strchr(colon + 1, ':'))
            return rb_errorf(err, RB_ERR_USAGE, "--rename '%s' is not TABLE.OLD:NEW (a column) "
                             "or OLD_TABLE:NEW_TABLE (a table)", r);
    }
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------- */

/* A stop by signal ends the run: nothing after it may touch a shadow but its drop. */
static int check_stopped(rb_error *err)
{
    int signo = runner_stop_signal();
    if (!signo)
        return 0;
    return rb_error_interrupted(err, signo, "interrupted by %s",
                                signo == SIGTERM ? "SIGTERM" : "SIGINT");
}

static char *join2(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The schema directory's declaration files (*.lua, *.sql; hidden files skipped), sorted by
 * name (byte order): the order they are applied in. *exists false without the directory. */
static int list_declarations(const char *dir, str_list *files, bool *exists, rb_error *err)
{
    DIR *d = opendir(dir);
    *exists = d != NULL;
    if (!d)
        return errno == ENOENT ? 0 : rb_errorf(err, RB_ERR_FAILURE, "cannot open '%s': %s",
                                               dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)))
        if (e->d_name[0] != '.' && (ends_with(e->d_name, ".lua") || ends_with(e->d_name, ".sql")))
            if (str_list_push(files, e->d_name) != 0)
                rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    closedir(d);
    if (rc == 0 && files->count > 1)
        qsort(files->items, (size_t)files->count, sizeof *files->items, by_name);
    return rc;
}

/* A .sql declaration: the file as one script, as psql would read it. */
static int apply_sql(shadow *sh, const char *path, rb_error *err)
{
    textfile tf;
    if (textfile_read(path, &tf, err) != 0)
        return -1;
    int stmt = 0, line = 0;
    int rc = db_exec_script(sh->conn, tf.text, &stmt, &line, err);
    textfile_release(&tf);
    if (rc != 0) {
        if (line > 0)
            return rb_error_prefix(err, "%s:%d: statement %d", path, line, stmt);
        return rb_error_prefix(err, "%s", path);
    }
    return 0;
}

/* A .lua declaration: its function run with a `db` (its renamed_from appended to *renames,
 * when not NULL), or the migrations it names run up. */
static int apply_lua(cli_state *st, shadow *sh, const char *path, lua_declared_renames *renames,
                     rb_error *err)
{
    str_list ids = {0};
    int *order = NULL, n = 0;
    int rc = lua_host_run_declaration(st->host, path, sh->conn, &ids, renames, err);
    if (rc == 0 && ids.count && !(order = malloc(sizeof *order * (size_t)ids.count)))
        rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    for (int i = 0; rc == 0 && i < ids.count; i++) {
        int idx = graph_find(&st->g, ids.items[i]);
        if (idx < 0)
            rc = rb_errorf(err, RB_ERR_FAILURE, "%s: migration '%s' is not in '%s'", path,
                           ids.items[i], st->cfg.migrations_dir);
        /* In revision order, whatever order the file lists them in. */
        int j = n++;
        for (; rc == 0 && j > 0 && st->g.revs[order[j - 1]].topo > st->g.revs[idx].topo; j--)
            order[j] = order[j - 1];
        order[j] = idx;
    }
    for (int i = 0; rc == 0 && i < n; i++)
        if (scripts_run_migration(st->host, &st->g.revs[order[i]], "upgrade", sh->conn, err) != 0)
            rc = rb_error_prefix(err, "%s: migration %s", path, st->g.revs[order[i]].id);
    free(order);
    str_list_release(&ids);
    return rc;
}

/* Applies the declaration files of dir, in order, to the shadow; the renames they declare
 * (renamed_from) are appended to *renames when it is not NULL. */
static int apply_declarations(cli_state *st, shadow *sh, const char *dir, const str_list *files,
                              lua_declared_renames *renames, rb_error *err)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < files->count; i++) {
        char *path = join2(dir, files->items[i]);
        if (!path)
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        out_debug("declaration: %s", path);
        rc = ends_with(path, ".sql") ? apply_sql(sh, path, err)
                                         : apply_lua(st, sh, path, renames, err);
        if (rc == 0)
            rc = check_stopped(err);
        free(path);
    }
    return rc;
}

/* A shadow prepared like drift's: opened (at url, if given) with what lies outside the
 * managed scope brought over from the live database (when one is open: PostgreSQL). */
static int open_shadow(cli_state *st, const char *url, shadow *sh, rb_error *err)
{
    if (shadow_open(&st->cfg, url, sh, err) != 0)
        return -1;
    return st->conn ? shadow_bring(sh, st->conn, err) : 0;
}

/* The kept shadows' id for this run (shadow.h) in *id, or NULL for throwaway ones: kept when
 * keep_shadows is on, the live database is PostgreSQL reached directly (a transaction-mode
 * pooler keeps no session lock), and no other run holds the pair. */
static int kept_id(cli_state *st, char buf[13], const char **id, rb_error *err)
{
    *id = NULL;
    if (!st->cfg.keep_shadows || !st->conn ||
        db_conn_dialect(st->conn) != DIALECT_POSTGRESQL || db_via_transaction_pooler(st->conn))
        return 0;
    bool locked = false;
    if (shadow_kept_id(&st->cfg, buf) != 0)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    if (shadow_kept_lock(st->conn, buf, &locked, err) != 0)
        return -1;
    if (!locked)
        out_note("the kept shadows rbacmig_shadow_%s_* are in use by another run; this one "
                 "makes throwaway ones", buf);
    *id = locked ? buf : NULL;
    return 0;
}

/* Whether a reused head shadow is what a replay would make: its version rows exactly those
 * of targets (upgraded from an earlier run's state, it may hold more), and no applied
 * migration's file edited since it ran there (the upgrade checks that only when it has
 * something to run). */
static bool at_targets(cli_state *st, shadow *sh, const str_list *targets)
{
    version_store vs;
    str_list have = {0}, want = {0};
    rev_set set = {0};
    bool exists = false, same = false;
    rb_error err;
    rb_error_init(&err);
    if (versions_open(&vs, sh->conn, &sh->cfg, &st->g, &err) != 0)
        return false;
    if (versions_read(&vs, &have, &exists, &err) == 0 && rev_set_init(&set, &st->g) == 0) {
        int heads[st->g.count + 1];
        int n = targets ? 0 : graph_heads(&st->g, heads);
        for (int i = 0; targets && i < targets->count; i++)
            heads[n++] = graph_find(&st->g, targets->items[i]);
        same = true;
        for (int i = 0; i < n; i++) {
            if (heads[i] < 0)
                same = false;
            else
                rev_set_add_ancestors(&set, &st->g, heads[i]);
        }
        same = same && graph_version_rows(&st->g, &set, &want) == 0 &&
               have.count == want.count;
        for (int i = 0; same && i < want.count; i++)
            same = str_list_contains(&have, want.items[i]);
        int *changed = NULL, nchanged = 0;
        same = same && versions_changed_files(&vs, &set, &changed, &nchanged, &err) == 0 &&
               nchanged == 0;
        free(changed);
    }
    rev_set_release(&set);
    str_list_release(&have);
    str_list_release(&want);
    versions_close(&vs);
    return same;
}

/* Replays the migrations into sh up to each of targets, or to every head (NULL). */
static int replay(cli_state *st, shadow *sh, const str_list *targets, rb_error *err)
{
    int n = targets ? targets->count : st->g.count ? 1 : 0;
    for (int i = 0; i < n; i++)
        if (shadow_migrate(sh, st->host, &st->g, DIR_UPGRADE,
                           targets ? targets->items[i] : "heads", err) != 0)
            return rb_error_prefix(err, "replaying the migrations into the shadow database");
    return check_stopped(err);
}

/* The head shadow: the migrations replayed up to each of targets (the new revision's
 * parents: the head(s), or --head REV; none for a new root), or to every head (NULL). A
 * kept one (id) that an earlier run left clean is only upgraded from where it was; when
 * that fails, or leaves it elsewhere than at targets, it is made again and replayed whole.
 * Its clean mark is cleared first: the run records it again only once it leaves the
 * shadow at targets (mark_head_clean). */
static int head_shadow(cli_state *st, const char *url, const str_list *targets,
                       const char *id, shadow *sh, rb_error *err)
{
    if (!id) {
        if (open_shadow(st, url, sh, err) != 0)
            return -1;
        return replay(st, sh, targets, err);
    }
    if (shadow_open_kept(&st->cfg, st->conn, id, "head", false, sh, err) != 0 ||
        shadow_mark(sh, false, err) != 0)
        return -1;
    if (sh->reused) {
        rb_error step;
        rb_error_init(&step);
        if (replay(st, sh, targets, &step) == 0 && at_targets(st, sh, targets))
            return 0;
        if (step.kind == RB_ERR_INTERRUPTED || check_stopped(err) != 0)
            return *err = step, -1;
        out_note("shadow: %s does not follow from where an earlier run left it%s%s; making "
                 "it again", sh->created_db, step.message[0] ? ": " : "", step.message);
        if (shadow_open_kept(&st->cfg, st->conn, id, "head", true, sh, err) != 0 ||
            shadow_mark(sh, false, err) != 0)
            return -1;
    }
    if (shadow_bring_from_live(sh, err) != 0)
        return -1;
    return replay(st, sh, targets, err);
}

/* Records that the kept head shadow is at the run's targets, for the next run to build on. */
static int mark_head_clean(shadow *sh, rb_error *err)
{
    return sh->kept ? shadow_mark(sh, true, err) : 0;
}

/* The declared shadow: the schema directory applied (its renames into *renames, if given).
 * A kept one (id) is empty: the declarations, and what the live database lends, go in one
 * transaction, which reading the models (call_autogen) rolls back. */
static int declared_shadow(cli_state *st, const char *url, const str_list *files,
                           const char *id, shadow *sh, lua_declared_renames *renames,
                           rb_error *err)
{
    if (!id) {
        if (open_shadow(st, url, sh, err) != 0)
            return -1;
    } else if (shadow_open_kept(&st->cfg, st->conn, id, "declared", false, sh, err) != 0 ||
               db_begin_locked(sh->conn, versions_lock_key(&sh->cfg), err) != 0 ||
               shadow_bring_from_live(sh, err) != 0) {
        return -1;
    }
    if (apply_declarations(st, sh, st->cfg.schema_dir, files, renames, err) != 0)
        return -1;
    return check_stopped(err);
}

/* The managed schemas of this run (--schema of revision; check has none: the default
 * scope), set by the entry points: every model of one run is read in the same scope. */
static const str_list *run_schemas;

/* Calls rbacmig.autogen.commands[function] on the models of conns, each read in its own
 * read transaction (rolled back: the reader never writes). */
static int call_autogen(cli_state *st, const char *function, db_conn **conns, int n,
                        const lua_autogen_opts *o, lua_autogen_result *res, rb_error *err)
{
    int rc = 0;
    lua_autogen_opts opts = *o;
    opts.schemas = run_schemas;
    for (int i = 0; i < n && rc == 0; i++)
        if (!db_in_transaction(conns[i]))
            rc = db_begin_read(conns[i], err);
    if (rc == 0)
        rc = lua_host_call_autogen(st->host, function, conns, n, &opts, res, err);
    for (int i = 0; i < n; i++)
        if (db_in_transaction(conns[i]))
            db_rollback(conns[i]);
    return rc;
}

/* Prints a block of text (its last newline is out_print's). */
static void print_block(const char *text)
{
    size_t len = strlen(text);
    out_print("%.*s", (int)(len && text[len - 1] == '\n' ? len - 1 : len), text);
}

/* ---- the proof ----------------------------------------------------------------------- */

/* Copies the proved file to dest, refusing to overwrite. */
static int copy_new_file(const char *src, const char *dest, rb_error *err)
{
    textfile tf;
    if (textfile_read(src, &tf, err) != 0)
        return -1;
    int rc = 0;
    int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        rc = rb_errorf(err, RB_ERR_FAILURE, "cannot create '%s': %s", dest, strerror(errno));
    } else {
        size_t done = 0;
        while (rc == 0 && done < tf.len) {
            ssize_t w = write(fd, tf.text + done, tf.len - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                rc = rb_errorf(err, RB_ERR_FAILURE, "cannot write '%s': %s", dest,
                               strerror(errno));
            else
                done += (size_t)w;
        }
        if (close(fd) != 0 && rc == 0)
            rc = rb_errorf(err, RB_ERR_FAILURE, "cannot write '%s': %s", dest, strerror(errno));
        if (rc != 0)
            unlink(dest); /* a truncated revision would load as a broken one */
    }
    textfile_release(&tf);
    return rc;
}

/* Reads the head shadow and compares it with what generate kept (against: "to" after the
 * upgrade, "from" after the downgrade); on a difference prints it and *proved is false. */
static int prove_step(cli_state *st, shadow *a, const char *against, const char *what,
                      bool *proved, rb_error *err)
{
    lua_autogen_result res;
    lua_autogen_opts o = {.against = against};
    if (call_autogen(st, "prove", &a->conn, 1, &o, &res, err) != 0)
        return -1;
    *proved = res.status == 0;
    if (!*proved) {
        out_print("proof failed: %s", what);
        print_block(res.text);
    }
    lua_autogen_result_release(&res);
    return 0;
}

/* The candidate revision in tmpdir, read into the graph (so the runner can run it). Its
 * path is returned in *path, its id in *id (borrowed from the graph). */
static int candidate(cli_state *st, const char *tmpdir, const str_list *parents,
                     const str_list *depends, const lua_autogen_result *gen, char **path,
                     const char **id, rb_error *err)
{
    new_revision spec = {.message = cli_value(st, "message"), .rev_id = cli_value(st, "rev-id"),
                         .parents = parents, .depends_on = depends,
                         .branch_label = cli_value(st, "branch-label"),
                         .upgrade_body = gen->upgrade, .downgrade_body = gen->downgrade};
    if (spec.rev_id && graph_find(&st->g, spec.rev_id) >= 0)
        return rb_errorf(err, RB_ERR_USAGE, "revision '%s' already exists", spec.rev_id);
    if (scripts_write_revision(tmpdir, &spec, path, NULL, err) != 0)
        return -1;
    textfile tf;
    revision rev;
    if (textfile_read(*path, &tf, err) != 0)
        return -1;
    int rc = lua_host_read_revision(st->host, *path, tf.text, tf.len, &rev, err);
    /* Its checksum as scripts_load records it: the history row the upgrade writes is
     * compared with the file when the downgrade runs. */
    if (rc == 0)
        sha256_hex_normalised(tf.text, tf.len, rev.sha256);
    textfile_release(&tf);
    if (rc != 0)
        return rb_error_prefix(err, "the generated migration does not load (a bug in "
                               "rbacmig; please report it)");
    if (graph_add(&st->g, &rev, err) != 0 || graph_build(&st->g, err) != 0) {
        revision_release(&rev);
        return -1;
    }
    *id = st->g.revs[st->g.count - 1].id;
    return 0;
}

/* Where the candidate's downgrade goes: its parent, base for a root, one step for a merge. */
static const char *down_target(const str_list *parents)
{
    return parents->count == 0 ? "base" : parents->count == 1 ? parents->items[0] : "-1";
}

/* Proves the candidate on the head shadow a (up: equals the declarations; down: equals
 * where it started), then writes it. Returns 0 written, AUTOGEN_EXIT_PROOF_FAILED, or -1. */
static int prove_and_write(cli_state *st, shadow *a, const str_list *parents,
                           const str_list *depends, const lua_autogen_result *gen,
                           rb_error *err)
{
    char tmpdir[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/rbacmig-autogen-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(tmpdir))
        return rb_errorf(err, RB_ERR_FAILURE, "cannot create a directory in %s: %s",
                         tmp && tmp[0] ? tmp : "/tmp", strerror(errno));
    char *path = NULL, *dest = NULL;
    const char *id = NULL;
    bool proved = false;
    int rc = -1;
    if (candidate(st, tmpdir, parents, depends, gen, &path, &id, err) != 0)
        goto done;
    out_note("proving %s in the shadow: upgrade", id);
    rb_error step;
    rb_error_init(&step);
    if (shadow_migrate(a, st->host, &st->g, DIR_UPGRADE, id, &step) != 0) {
        if (step.kind == RB_ERR_INTERRUPTED || check_stopped(err) != 0) {
            *err = step;
            goto done;
        }
        out_print("proof failed: the generated upgrade does not run");
        rb_error_prefix(&step, "upgrade");
        out_report_error(&step);
        goto refused;
    }
    if (prove_step(st, a, "to", "after the generated upgrade the schema differs from the "
                   "declarations", &proved, err) != 0)
        goto done;
    if (!proved)
        goto refused;
    out_note("proving %s in the shadow: downgrade", id);
    if (shadow_migrate(a, st->host, &st->g, DIR_DOWNGRADE, down_target(parents), &step) != 0) {
        if (step.kind == RB_ERR_INTERRUPTED || check_stopped(err) != 0) {
            *err = step;
            goto done;
        }
        out_print("proof failed: the generated downgrade does not run");
        rb_error_prefix(&step, "downgrade");
        out_report_error(&step);
        goto refused;
    }
    if (prove_step(st, a, "from", "after the generated downgrade the schema differs from "
                   "where it started", &proved, err) != 0)
        goto done;
    if (!proved)
        goto refused;
    if (mark_head_clean(a, err) != 0)
        goto done;
    const char *base = strrchr(path, '/');
    if (!(dest = join2(st->cfg.migrations_dir, base ? base + 1 : path))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    if (copy_new_file(path, dest, err) != 0)
        goto done;
    out_print("%s", dest);
    rc = 0;
    goto done;
refused:
    rb_errorf(err, RB_ERR_FAILURE, "the generated migration was not proved (above); nothing "
              "written");
    out_report_error(err);
    rc = AUTOGEN_EXIT_PROOF_FAILED;
done:
    if (path)
        unlink(path);
    rmdir(tmpdir);
    free(path);
    free(dest);
    return rc;
}

/* ---- --from-db ----------------------------------------------------------------------- */

/* --from-db compares with the live database, so the new revision must follow what it is at:
 * its parents (the head, as Alembic asks, or --head REV) are the database's revisions. */
static int live_at_head(cli_state *st, const str_list *parents, rb_error *err)
{
    version_store vs;
    str_list rows = {0};
    bool exists = false;
    int rc = versions_open(&vs, st->conn, &st->cfg, &st->g, err);
    if (rc == 0)
        rc = versions_read(&vs, &rows, &exists, err);
    versions_close(&vs);
    bool same = rc == 0 && rows.count == parents->count;
    for (int i = 0; same && i < rows.count; i++)
        same = str_list_contains(parents, rows.items[i]);
    str_list_release(&rows);
    if (rc == 0 && !same) {
        rc = rb_errorf(err, RB_ERR_USAGE, "--from-db: the database is not at head, so a "
                       "revision after head would not follow it");
        rb_strlcpy(err->hint, "rbacmig upgrade head first (or autogenerate without --from-db)",
                   sizeof err->hint);
    }
    return rc;
}

/* --from-db: the head shadow is the live database's schema, exported as a declaration and
 * applied, stamped at head, and then read: it must equal the live model, or the proof in it
 * would prove something else. */
static int live_shadow(cli_state *st, const char *url, const str_list *parents, shadow *sh,
                       rb_error *err)
{
    lua_autogen_result res;
    lua_autogen_opts o = {0};
    char tmpdir[4096], *path = NULL;
    const char *tmp = getenv("TMPDIR");
    int rc = -1;
    memset(&res, 0, sizeof res);
    snprintf(tmpdir, sizeof tmpdir, "%s/rbacmig-live-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(tmpdir))
        return rb_errorf(err, RB_ERR_FAILURE, "cannot create a directory in %s: %s",
                         tmp && tmp[0] ? tmp : "/tmp", strerror(errno));
    if (call_autogen(st, "declare", &st->conn, 1, &o, &res, err) != 0)
        goto done;
    if (res.status != 0) {
        for (int i = 0; i < res.lines.count; i++)
            out_print("%s", res.lines.items[i]);
        rb_errorf(err, RB_ERR_FAILURE, "--from-db: the live database's schema cannot be "
                  "declared (above), so no shadow can hold it to prove in");
        goto done;
    }
    if (open_shadow(st, url, sh, err) != 0)
        goto done;
    if (!(path = join2(tmpdir, "live.lua"))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    FILE *f = fopen(path, "w");
    if (!f || fputs(res.text, f) < 0 || fclose(f) != 0) {
        rb_errorf(err, RB_ERR_FAILURE, "cannot write '%s': %s", path, strerror(errno));
        goto done;
    }
    str_list ids = {0};
    rc = lua_host_run_declaration(st->host, path, sh->conn, &ids, NULL, err);
    str_list_release(&ids);
    if (rc != 0) {
        rb_error_prefix(err, "--from-db: the live database's schema, exported, does not apply");
        goto done;
    }
    if (parents->count) {
        /* The live database is at exactly the parents (live_at_head). */
        runner r = {.cfg = &sh->cfg, .host = st->host, .g = &st->g, .conn = sh->conn};
        migrate_options mo = {.dir = DIR_UPGRADE,
                              .target = parents->count == 1 ? parents->items[0] : "heads"};
        if ((rc = runner_stamp(&r, &mo, err)) != 0)
            goto done;
    }
    rc = check_stopped(err);
done:
    if (path)
        unlink(path);
    rmdir(tmpdir);
    free(path);
    lua_autogen_result_release(&res);
    return rc;
}

/* ---- revision --autogenerate --------------------------------------------------------- */

int autogen_revision(cli_state *st, const str_list *parents, const str_list *depends,
                     rb_error *err)
{
    str_list files = {0};
    lua_declared_renames declared = {0};
    shadow a = {0}, b = {0};
    lua_autogen_result gen;
    memset(&gen, 0, sizeof gen);
    bool exists = false, from_db = cli_flag(st, "from-db");
    const str_list *urls = cli_values(st, "shadow-url");
    int rc = -1;
    /* stdout is the new file's path, or what stopped it: progress goes to stderr. */
    out_set_stdout_is_sql(true);
    run_schemas = cli_values(st, "schema");
    if (list_declarations(st->cfg.schema_dir, &files, &exists, err) != 0)
        goto done;
    if (!exists) {
        rb_errorf(err, RB_ERR_USAGE, "--autogenerate compares the declarations in '%s' with "
                  "the migrations, and there is no such directory", st->cfg.schema_dir);
        rb_strlcpy(err->hint, "declare the schema there (docs/autogenerate.md), or start from "
                   "the database: rbacmig schema export -o schema/", sizeof err->hint);
        goto done;
    }
    /* The live database names the shadows' server and holds what they need from outside
     * the managed scope; on SQLite it is needed only to be compared with. */
    db_dialect dialect;
    if (config_url_dialect(st->cfg.database_url, &dialect, err) != 0)
        goto done;
    if ((from_db || dialect == DIALECT_POSTGRESQL) && cli_connect(st, err) != 0)
        goto done;
    if (from_db && live_at_head(st, parents, err) != 0)
        goto done;
    const char *url_a = urls->count > 0 ? urls->items[0] : NULL;
    const char *url_b = urls->count > 1 ? urls->items[1] : NULL;
    char idbuf[13];
    const char *id = NULL;
    if (urls->count == 0 && kept_id(st, idbuf, &id, err) != 0)
        goto done;
    if ((from_db ? live_shadow(st, url_a, parents, &a, err)
                 : head_shadow(st, url_a, parents, id, &a, err)) != 0 ||
        declared_shadow(st, url_b, &files, id, &b, &declared, err) != 0)
        goto done;
    /* The declarations' renamed_from go to the generator with --rename, merged there. */
    lua_autogen_opts o = {.renames = cli_values(st, "rename"), .declared = &declared,
                          .allow_drop = cli_flag(st, "allow-drop")};
    if (from_db) {
        /* The shadow must hold what the live database holds, or the proof proves nothing. */
        lua_autogen_result same;
        db_conn *pair[2] = {st->conn, a.conn};
        if (call_autogen(st, "compare", pair, 2, &o, &same, err) != 0)
            goto done;
        int differs = same.status;
        if (differs) {
            out_print("proof impossible: the live database's schema, exported into a shadow, "
                      "reads back differently:");
            print_block(same.text);
        }
        lua_autogen_result_release(&same);
        if (differs) {
            rb_errorf(err, RB_ERR_FAILURE, "--from-db: the live database cannot be reproduced "
                      "in a shadow; nothing written");
            out_report_error(err);
            rc = AUTOGEN_EXIT_PROOF_FAILED;
            goto done;
        }
    }
    db_conn *pair[2] = {from_db ? st->conn : a.conn, b.conn};
    if (call_autogen(st, "generate", pair, 2, &o, &gen, err) != 0)
        goto done;
    if (gen.status != 1 && mark_head_clean(&a, err) != 0)
        goto done;
    if (gen.status == 0) {
        out_print("No changes in schema detected.");
        rc = 0;
        goto done;
    }
    if (gen.status == 3) {
        rb_errorf(err, RB_ERR_USAGE, "%s", gen.text ? gen.text : "bad --rename");
        goto done;
    }
    if (gen.status == 2) {
        for (int i = 0; i < gen.lines.count; i++)
            out_print("%s", gen.lines.items[i]);
        rb_errorf(err, RB_ERR_USAGE, "autogenerate refused %d change%s (above); nothing written",
                  gen.lines.count, gen.lines.count == 1 ? "" : "s");
        goto done;
    }
    for (int i = 0; i < gen.lines.count; i++)
        out_note("  %s", gen.lines.items[i]);
    rc = prove_and_write(st, &a, parents, depends, &gen, err);
done:
    shadow_close(&b);
    shadow_close(&a);
    lua_autogen_result_release(&gen);
    lua_declared_renames_release(&declared);
    str_list_release(&files);
    return rc;
}

/* ---- check --------------------------------------------------------------------------- */

int autogen_check(cli_state *st, bool quiet_lines, bool *checked, int *differences,
                  rb_error *err)
{
    str_list files = {0};
    shadow a = {0}, b = {0};
    lua_autogen_result res;
    memset(&res, 0, sizeof res);
    *differences = 0;
    run_schemas = NULL;
    int rc = -1;
    if (list_declarations(st->cfg.schema_dir, &files, checked, err) != 0)
        goto done;
    if (!*checked) {
        rc = 0;
        goto done;
    }
    lua_autogen_opts o = {0};
    char idbuf[13];
    const char *id = NULL;
    if (kept_id(st, idbuf, &id, err) != 0)
        goto done;
    if (head_shadow(st, NULL, NULL, id, &a, err) != 0 ||
        declared_shadow(st, NULL, &files, id, &b, NULL, err) != 0)
        goto done;
    db_conn *pair[2] = {a.conn, b.conn};
    if (call_autogen(st, "compare", pair, 2, &o, &res, err) != 0 ||
        mark_head_clean(&a, err) != 0)
        goto done;
    *differences = res.lines.count;
    for (int i = 0; !quiet_lines && i < res.lines.count; i++)
        out_print("  %s", res.lines.items[i]);
    rc = 0;
done:
    shadow_close(&b);
    shadow_close(&a);
    lua_autogen_result_release(&res);
    str_list_release(&files);
    return rc;
}

/* ---- schema export ------------------------------------------------------------------- */

int cmd_schema_export_check(cli_state *st, rb_error *err)
{
    const char *format = cli_value(st, "format");
    if (format && strcmp(format, "lua") != 0 && strcmp(format, "sql") != 0)
        return rb_errorf(err, RB_ERR_USAGE, "--format takes 'lua' or 'sql', got '%s'", format);
    if (format && strcmp(format, "sql") == 0 && cli_value(st, "output"))
        return rb_errorf(err, RB_ERR_USAGE, "--format sql writes to standard output (as "
                         "upgrade --sql does): redirect it, > schema/schema.sql");
    return 0;
}

/* Writes text to a new file (never over one). */
static int write_new(const char *path, const char *text, rb_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return rb_errorf(err, RB_ERR_FAILURE, "cannot create '%s': %s%s", path, strerror(errno),
                         errno == EEXIST ? " (export never overwrites a file)" : "");
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        return rb_errorf(err, RB_ERR_FAILURE, "cannot write '%s': %s", path, strerror(errno));
    }
    bool failed = fputs(text, f) < 0;
    if (fclose(f) != 0 || failed) {
        unlink(path);
        return rb_errorf(err, RB_ERR_FAILURE, "cannot write '%s': %s", path, strerror(errno));
    }
    return 0;
}

/* -o: a file, or a directory (one that exists, or a name ending in '/', made here) that
 * gets export.lua. */
static int export_to(const char *output, const char *text, rb_error *err)
{
    struct stat sb;
    size_t n = strlen(output);
    bool dir = (stat(output, &sb) == 0 && S_ISDIR(sb.st_mode)) || (n && output[n - 1] == '/');
    if (!dir) {
        if (write_new(output, text, err) != 0)
            return -1;
        out_print("%s", output);
        return 0;
    }
    if (mkdir(output, 0755) != 0 && errno != EEXIST)
        return rb_errorf(err, RB_ERR_FAILURE, "cannot create directory '%s': %s", output,
                         strerror(errno));
    char *path = n && output[n - 1] == '/' ? malloc(n + sizeof "export.lua")
                                           : join2(output, "export.lua");
    if (!path)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    if (output[n - 1] == '/')
        snprintf(path, n + sizeof "export.lua", "%sexport.lua", output);
    int rc = write_new(path, text, err);
    if (rc == 0)
        out_print("%s", path);
    free(path);
    return rc;
}

/* --format sql: the declaration run through the --sql driver, which writes each statement
 * the schema API would send, in order, to stdout. */
static int export_sql(cli_state *st, const char *text, rb_error *err)
{
    char tmpdir[4096], *path = NULL;
    const char *tmp = getenv("TMPDIR");
    db_conn *offline = NULL;
    int rc = -1;
    snprintf(tmpdir, sizeof tmpdir, "%s/rbacmig-export-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(tmpdir))
        return rb_errorf(err, RB_ERR_FAILURE, "cannot create a directory in %s: %s",
                         tmp && tmp[0] ? tmp : "/tmp", strerror(errno));
    if (!(path = join2(tmpdir, "export.lua"))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    db_open_options opts = {.offline = true};
    if (write_new(path, text, err) != 0 || db_open(&st->cfg, &opts, &offline, err) != 0)
        goto done;
    str_list ids = {0};
    rc = lua_host_run_declaration(st->host, path, offline, &ids, NULL, err);
    str_list_release(&ids);
done:
    db_close(offline);
    if (path)
        unlink(path);
    rmdir(tmpdir);
    free(path);
    return rc;
}

/* The dispatcher has opened the database read-only and begun its read transaction. */
int cmd_schema_export(cli_state *st, rb_error *err)
{
    lua_autogen_result res;
    lua_autogen_opts o = {.schemas = cli_values(st, "schema")};
    const char *format = cli_value(st, "format"), *output = cli_value(st, "output");
    if (lua_host_call_autogen(st->host, "declare", &st->conn, 1, &o, &res, err) != 0)
        return -1;
    int rc;
    if (res.status != 0) {
        for (int i = 0; i < res.lines.count; i++)
            out_print("%s", res.lines.items[i]);
        rc = rb_errorf(err, RB_ERR_FAILURE, "schema export cannot declare %d object%s yet "
                       "(above); nothing written", res.lines.count,
                       res.lines.count == 1 ? "" : "s");
    } else if (format && strcmp(format, "sql") == 0)
        rc = export_sql(st, res.text ? res.text : "", err);
    else if (output)
        rc = export_to(output, res.text ? res.text : "", err);
    else {
        print_block(res.text ? res.text : "");
        rc = 0;
    }
    lua_autogen_result_release(&res);
    return rc;
}
