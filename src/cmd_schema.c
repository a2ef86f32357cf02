/* cmd_schema.c: the commands that read schemas back: `schema dump` prints the live
 * database's schema model, `diff FROM_URL TO_URL` what differs between two databases, each
 * difference classified (exit 0 none, 4 differences, 5 security-weakening differences).
 * The reading, comparing and rendering are Lua (lua/rbacmig/inspect/, through
 * lua_host_call_inspect); here are the connections and the READ ONLY transaction each
 * database is read in, rolled back afterwards: the reader never writes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"

/* --format text|json. */
static int parse_format(const cli_state *st, bool *json, rb_error *err)
{
    const char *format = cli_value(st, "format");
    *json = false;
    if (!format || strcmp(format, "text") == 0)
        return 0;
    if (strcmp(format, "json") == 0) {
        *json = true;
        return 0;
    }
    return rb_errorf(err, RB_EXIT_USAGE, "--format takes 'text' or 'json', got '%s'", format);
}

/* The transaction the reader runs in. On PostgreSQL one READ ONLY snapshot, so a schema
 * changed while it is read is seen whole or not at all, and a write would fail; on SQLite
 * the connection is opened read-only (cli_connect, db_open with read_only) and query_only
 * refuses writes on it too. */
static int begin_read_only(db_conn *c, rb_error *err)
{
    if (strcmp(db_dialect_name(c), "postgresql") == 0)
        return db_run(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
    if (db_run(c, "PRAGMA query_only = ON", err) != 0)
        return -1;
    return db_run(c, "BEGIN", err);
}

/* Ends it; nothing was written, so nothing is lost if this fails. */
static void end_read_only(db_conn *c)
{
    rb_error ignored;
    rb_error_init(&ignored);
    db_run(c, "ROLLBACK", &ignored);
}

/* Prints what the Lua side rendered (it ends with a newline, which out_print adds). */
static void print_block(char *text)
{
    size_t len = strlen(text);
    if (len > 0 && text[len - 1] == '\n')
        text[len - 1] = '\0';
    out_print("%s", text);
}

static int exit_code(int status)
{
    return status == 2 ? RB_EXIT_WEAKENING : status == 1 ? RB_EXIT_DIFFERENCES : RB_EXIT_OK;
}

int cmd_schema(cli_state *st, int argc, char **argv, rb_error *err)
{
    (void)argc, (void)argv;
    const str_list *pos = &st->args.positional;
    char *out = NULL;
    bool json, begun = false;
    int status = 0, rc = -1;
    if (strcmp(pos->items[0], "dump") != 0) {
        rb_errorf(err, RB_EXIT_USAGE, "unknown schema command '%s' (expected dump)",
                  pos->items[0]);
        goto done;
    }
    if (parse_format(st, &json, err) != 0 || cli_connect(st, false, true, err) != 0)
        goto done;
    if (begin_read_only(st->conn, err) != 0)
        goto done;
    begun = true;
    if (lua_host_call_inspect(st->host, "dump", &st->conn, 1, cli_values(st, "schema"), json,
                              &out, &status, err) != 0)
        goto done;
    print_block(out);
    rc = RB_EXIT_OK;
done:
    if (begun)
        end_read_only(st->conn);
    free(out);
    return rc;
}

/* Opens the database at url (a diff's FROM or TO) with the run's settings, read-only. */
static int open_url(cli_state *st, const char *which, const char *url, db_conn **out,
                    rb_error *err)
{
    config_register_url_secrets(url);
    config cfg = st->cfg; /* a shallow copy: only the URL differs, and it stays borrowed */
    cfg.database_url = (char *)(uintptr_t)url;
    db_open_options opts = {.read_only = true, .lock_timeout_ms = st->lock_timeout_ms};
    char *masked = config_mask_url(url);
    out_note("%s: %s", which, masked ? masked : "");
    free(masked);
    if (db_open(&cfg, &opts, out, err) != 0)
        return rb_error_prefix(err, "%s", which);
    return 0;
}

int cmd_diff(cli_state *st, int argc, char **argv, rb_error *err)
{
    (void)argc, (void)argv;
    const str_list *pos = &st->args.positional;
    db_conn *conns[2] = {NULL, NULL};
    bool begun[2] = {false, false};
    char *out = NULL;
    bool json;
    int status = 0, rc = -1;
    if (parse_format(st, &json, err) != 0)
        goto done;
    static const char *const which[] = {"from", "to"};
    for (int i = 0; i < 2; i++) {
        if (open_url(st, which[i], pos->items[i], &conns[i], err) != 0)
            goto done;
        if (begin_read_only(conns[i], err) != 0) {
            rb_error_prefix(err, "%s", which[i]);
            goto done;
        }
        begun[i] = true;
    }
    if (lua_host_call_inspect(st->host, "diff", conns, 2, cli_values(st, "schema"), json, &out,
                              &status, err) != 0)
        goto done;
    print_block(out);
    rc = exit_code(status);
done:
    for (int i = 0; i < 2; i++) {
        if (begun[i])
            end_read_only(conns[i]);
        db_close(conns[i]);
    }
    free(out);
    return rc;
}
