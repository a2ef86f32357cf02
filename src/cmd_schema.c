/* cmd_schema.c: the commands that read schemas back: `schema dump` prints the live
 * database's schema model, `diff FROM_URL TO_URL` what differs between two databases, each
 * difference classified (exit 0 none, 4 differences, 5 security-weakening differences).
 * The reading, comparing and rendering are Lua (lua/rbacmig/inspect/, through
 * lua_host_call_inspect); here are the connections and the read-only transaction each
 * database is read in (db_begin_read: PostgreSQL's one REPEATABLE READ READ ONLY snapshot;
 * the connection opened read-only), which is never committed: the reader never writes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"

/* What `diff` exits with when it found differences: not errors (README, "Exit codes"). */
enum { EXIT_DIFFERENCES = 4, EXIT_WEAKENING = 5 };

/* --format text|json, checked before anything connects. */
int cmd_schema_check(cli_state *st, rb_error *err)
{
    const char *format = cli_value(st, "format");
    if (!format || strcmp(format, "text") == 0 || strcmp(format, "json") == 0)
        return 0;
    return rb_errorf(err, RB_ERR_USAGE, "--format takes 'text' or 'json', got '%s'", format);
}

static bool want_json(const cli_state *st)
{
    const char *format = cli_value(st, "format");
    return format && strcmp(format, "json") == 0;
}

/* Prints what the Lua side rendered (it ends with a newline, which out_print adds). */
static void print_block(char *text)
{
    size_t len = strlen(text);
    if (len > 0 && text[len - 1] == '\n')
        text[len - 1] = '\0';
    out_print("%s", text);
}

/* The dispatcher has opened the database read-only and begun the read transaction
 * (commands.c: CMD_DB | CMD_READ_ONLY | CMD_READ_TX). */
int cmd_schema_dump(cli_state *st, rb_error *err)
{
    char *out = NULL;
    int status = 0;
    if (lua_host_call_inspect(st->host, "dump", &st->conn, 1, cli_values(st, "schema"),
                              want_json(st), &out, &status, err) != 0)
        return -1;
    print_block(out);
    free(out);
    return 0;
}

/* Opens both databases read-only, with the run's settings, and begins their read
 * transactions, both at once (db_open_read_many): a connection's wait is mostly the
 * server's (a process started, its round trips), so two overlap. An error names its side. */
static int open_both(cli_state *st, const char *const *which, db_conn **conns, rb_error *err)
{
    const str_list *pos = &st->args.positional;
    config cfgs[2];
    for (int i = 0; i < 2; i++) {
        const char *url = pos->items[i];
        config_register_url_secrets(url);
        cfgs[i] = st->cfg; /* a shallow copy: only the URL differs, and it stays borrowed */
        cfgs[i].database_url = (char *)(uintptr_t)url;
        char *masked = config_mask_url(url);
        out_note("%s: %s", which[i], masked ? masked : "");
        free(masked);
    }
    db_open_options opts = {.read_only = true, .lock_timeout_ms = st->lock_timeout_ms};
    int failed = -1;
    if (db_open_read_many(cfgs, 2, &opts, conns, &failed, err) != 0)
        return rb_error_prefix(err, "%s", failed >= 0 ? which[failed] : "diff");
    return 0;
}

int cmd_diff(cli_state *st, rb_error *err)
{
    static const char *const which[] = {"from", "to"};
    db_conn *conns[2] = {NULL, NULL};
    char *out = NULL;
    int status = 0, rc = -1;
    if (open_both(st, which, conns, err) != 0)
        goto done;
    if (lua_host_call_inspect(st->host, "diff", conns, 2, cli_values(st, "schema"),
                              want_json(st), &out, &status, err) != 0)
        goto done;
    print_block(out);
    rc = status == 2 ? EXIT_WEAKENING : status == 1 ? EXIT_DIFFERENCES : 0;
done:
    /* No ROLLBACK first: the transactions only read, and closing a connection ends its
     * transaction on the server (one round trip less per database). */
    for (int i = 0; i < 2; i++)
        db_close(conns[i]);
    free(out);
    return rc;
}
