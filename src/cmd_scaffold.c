/* cmd_scaffold.c: the commands that write files: init, revision, merge. Their options were
 * checked by the dispatcher against their tables (commands.c), which loaded the graph. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_autogen.h"
#include "embedded_files.h"
#include "output.h"
#include "scripts.h"

/* init --rbac: DIR/<schema dir>/00_rbac.lua, a declaration of the RBAC schema exactly as
 * the shipped migrations create it (they are run, docs/autogenerate.md), so that a project
 * declares its own tables only; kept if it exists. Named first: declarations apply by file
 * name, and the project's own may refer to the RBAC tables. */
static int write_rbac_declaration(const char *dir, const char *schema_dir, bool *created,
                                  char **shown, rb_error *err)
{
    char ids[512] = "";
    for (const embedded_file *f = embedded_rbac_files; f->name; f++) {
        if (strncmp(f->name, "migrations/", 11) != 0)
            continue;
        const char *id = f->name + 11;
        size_t len = strlen(ids);
        snprintf(ids + len, sizeof ids - len, "%s\"%.*s\"", len ? ", " : "",
                 (int)strcspn(id, "_."), id);
    }
    char text[1024];
    snprintf(text, sizeof text,
             "-- The RBAC schema rbacmig ships, declared exactly as its migrations create it\n"
             "-- (their upgrades run, in revision order): the declarations start from what\n"
             "-- they make, so `rbacmig revision --autogenerate` writes migrations for the\n"
             "-- project's own schema only. Declarations apply in file-name order: keep this\n"
             "-- one first. See docs/autogenerate.md.\n"
             "return { migrations = { %s } }\n", ids);
    size_t n = strlen(dir) + strlen(schema_dir) + sizeof "/00_rbac.lua" + 2;
    char *schema_path = malloc(n), *path = malloc(n);
    int rc = -1;
    *created = false;
    *shown = NULL;
    if (!schema_path || !path || !(*shown = malloc(n))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    snprintf(schema_path, n, "%s/%s", dir, schema_dir);
    snprintf(path, n, "%s/00_rbac.lua", schema_path);
    snprintf(*shown, n, "%s/00_rbac.lua", schema_dir);
    if (mkdir(schema_path, 0755) != 0 && errno != EEXIST) {
        rb_errorf(err, RB_ERR_FAILURE, "cannot create directory '%s': %s", schema_path,
                  strerror(errno));
        goto done;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            rc = 0; /* kept: it may be the project's own by now */
        else
            rb_errorf(err, RB_ERR_FAILURE, "cannot create '%s': %s", path, strerror(errno));
        goto done;
    }
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len;
    if (close(fd) != 0 || !ok) {
        unlink(path);
        rb_errorf(err, RB_ERR_FAILURE, "cannot write '%s': %s", path, strerror(errno));
        goto done;
    }
    *created = true;
    rc = 0;
done:
    free(schema_path);
    free(path);
    return rc;
}

int cmd_init(cli_state *st, rb_error *err)
{
    config scratch;
    char *config_path = NULL, *migrations_shown = NULL, *rbac_declaration = NULL;
    bool declaration_created = false;
    scripts_init_result res = {0};
    int rc = -1;
    config_init(&scratch);
    const char *dir = st->args.positional.count ? st->args.positional.items[0] : NULL;
    bool rbac = cli_flag(st, "rbac");
    /* The project's config names its migrations directory: init makes that one, the one
     * every other command will read. Without DIR the config is the one already read (./
     * rbacmig.lua or -c FILE); with DIR it is DIR/rbacmig.lua, if there is one. The rbac/
     * directory of --rbac is found the same way. */
    const char *config_file = st->cfg.config_file, *migrations = st->cfg.migrations_dir;
    const char *rbac_dir = st->cfg.rbac_dir, *schema_dir = st->cfg.schema_dir;
    if (dir) {
        if (st->cfg.config_file_given) {
            rb_errorf(err, RB_ERR_USAGE, "'init DIR' uses DIR/rbacmig.lua; -c names another "
                      "config file (give one of them)");
            goto done;
        }
        size_t n = strlen(dir) + sizeof "/rbacmig.lua";
        struct stat sb;
        if (!(config_path = malloc(n))) {
            rb_errorf(err, RB_ERR_FAILURE, "out of memory");
            goto done;
        }
        snprintf(config_path, n, "%s/rbacmig.lua", dir);
        if (lua_host_read_config(st->host, config_path, false, &scratch, err) != 0)
            goto done;
        config_file = "rbacmig.lua";
        bool has_config = stat(config_path, &sb) == 0;
        migrations = has_config ? scratch.migrations_dir : "migrations";
        rbac_dir = has_config ? scratch.rbac_dir : "rbac";
        schema_dir = has_config ? scratch.schema_dir : "schema";
    }
    if (scripts_init_project(dir ? dir : ".", config_file, migrations, rbac ? rbac_dir : NULL,
                             &res, err) != 0)
        goto done;
    if (rbac && write_rbac_declaration(dir ? dir : ".", schema_dir, &declaration_created,
                                       &rbac_declaration, err) != 0)
        goto done;
    size_t n = strlen(migrations) + 2;
    if (!(migrations_shown = malloc(n))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    snprintf(migrations_shown, n, "%s/", migrations);
    const char *names[] = {config_file, migrations_shown, ".env.example"};
    bool created[] = {res.created_config, res.created_migrations, res.created_env};
    bool any = res.created_config || res.created_migrations || res.created_env ||
               res.rbac_created.count;
    out_progress("%s rbacmig project in '%s':", any ? "Initialised" : "Nothing to do: a complete",
                 dir ? dir : ".");
    for (int i = 0; i < 3; i++)
        out_progress("  %s %s", created[i] ? "created" : "kept", names[i]);
    for (int i = 0; i < res.rbac_created.count; i++)
        out_progress("  created %s", res.rbac_created.items[i]);
    for (int i = 0; i < res.rbac_kept.count; i++)
        out_progress("  kept %s", res.rbac_kept.items[i]);
    if (rbac_declaration)
        out_progress("  %s %s", declaration_created ? "created" : "kept", rbac_declaration);
    if (res.rbac_created.count)
        out_progress("Next: rbacmig upgrade head && rbacmig seed");
    rc = 0;
done:
    free(config_path);
    free(migrations_shown);
    free(rbac_declaration);
    scripts_init_result_release(&res);
    config_release(&scratch);
    return rc;
}

/* A revision named on the command line (exact, prefix, head, LABEL@head) -> its id. */
static int resolve_one(cli_state *st, const char *spec, const char **id, rb_error *err)
{
    int idx;
    if (graph_resolve_one(&st->g, spec, &idx, err) != 0)
        return -1;
    *id = st->g.revs[idx].id;
    return 0;
}

/* -m, which every file-writing command needs, with something in it. */
int cmd_message_check(cli_state *st, rb_error *err)
{
    const char *message = cli_value(st, "message");
    if (!message[0])
        return rb_errorf(err, RB_ERR_USAGE, "'%s' needs a message: rbacmig %s -m \"add users\"",
                         st->cmd->name, st->cmd->name);
    return 0;
}

static int write_revision(cli_state *st, const char *message, const str_list *parents,
                          const str_list *depends, rb_error *err)
{
    const char *rev_id = cli_value(st, "rev-id");
    new_revision spec = {.message = message, .rev_id = rev_id, .parents = parents,
                         .depends_on = depends, .branch_label = cli_value(st, "branch-label"),
                         .sql = strcmp(st->cmd->name, "revision") == 0 && cli_flag(st, "sql")};
    if (rev_id && graph_find(&st->g, rev_id) >= 0)
        return rb_errorf(err, RB_ERR_USAGE, "revision '%s' already exists", rev_id);
    char *path = NULL;
    str_list sql_paths = {0};
    if (scripts_write_revision(st->cfg.migrations_dir, &spec, &path, &sql_paths, err) != 0) {
        str_list_release(&sql_paths);
        return -1;
    }
    out_print("%s", path);
    for (int i = 0; i < sql_paths.count; i++)
        out_print("%s", sql_paths.items[i]);
    str_list_release(&sql_paths);
    free(path);
    return 0;
}

int cmd_revision(cli_state *st, rb_error *err)
{
    str_list parents = {0}, depends = {0};
    const char *message = cli_value(st, "message"), *id;
    int rc = -1;
    const char *head = cli_value(st, "head");
    if (head && strcmp(head, "base") == 0) {
        /* A new root is only allowed in an empty graph (one root per graph). */
        if (st->g.count) {
            rb_errorf(err, RB_ERR_USAGE, "--head base would make a second root revision");
            goto done;
        }
    } else if (head || st->g.count) {
        if (resolve_one(st, head ? head : "head", &id, err) != 0)
            goto done;
        if (str_list_push(&parents, id) != 0)
            goto oom;
    }
    const str_list *deps = cli_values(st, "depends-on");
    for (int i = 0; i < deps->count; i++) {
        if (resolve_one(st, deps->items[i], &id, err) != 0)
            goto done;
        if (str_list_push(&depends, id) != 0)
            goto oom;
    }
    if (cli_flag(st, "autogenerate"))
        rc = autogen_revision(st, &parents, &depends, err);
    else
        rc = write_revision(st, message, &parents, &depends, err);
    goto done;
oom:
    rb_errorf(err, RB_ERR_FAILURE, "out of memory");
done:
    str_list_release(&parents);
    str_list_release(&depends);
    return rc;
}

int cmd_merge(cli_state *st, rb_error *err)
{
    str_list parents = {0};
    int *heads = NULL, rc = -1;
    const char *message = cli_value(st, "message");
    if (!(heads = malloc(sizeof *heads * ((size_t)st->g.count + 1))))
        goto oom;
    /* `heads` stands for every head: the count is of revisions, after it is expanded. */
    const str_list *specs = &st->args.positional;
    for (int i = 0; i < specs->count; i++) {
        const char *spec = specs->items[i], *id;
        if (strcmp(spec, "heads") == 0) {
            int n = graph_heads(&st->g, heads);
            for (int h = 0; h < n; h++)
                if (!str_list_contains(&parents, st->g.revs[heads[h]].id) &&
                    str_list_push(&parents, st->g.revs[heads[h]].id) != 0)
                    goto oom;
            continue;
        }
        if (resolve_one(st, spec, &id, err) != 0)
            goto done;
        if (str_list_contains(&parents, id)) {
            rb_errorf(err, RB_ERR_USAGE, "revision '%s' is named twice", id);
            goto done;
        }
        if (str_list_push(&parents, id) != 0)
            goto oom;
    }
    if (parents.count < 2) {
        rb_errorf(err, RB_ERR_USAGE, "a merge needs at least two revisions, got %d%s",
                  parents.count, parents.count ? ": there is nothing to join" : "");
        goto done;
    }
    rc = write_revision(st, message, &parents, NULL, err);
    goto done;
oom:
    rb_errorf(err, RB_ERR_FAILURE, "out of memory");
done:
    free(heads);
    str_list_release(&parents);
    return rc;
}
