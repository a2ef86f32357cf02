/* shadow.c: the throwaway database `test` and `drift` replay migrations into (shadow.h).
 * PostgreSQL: CREATE DATABASE on the live database's server, through a second connection to
 * the live database (CREATE/DROP DATABASE cannot run inside a transaction, nor in the database
 * they drop); the shadow's URL is the live one with the database name replaced. */
#include "shadow.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "runner.h"

/* url with its database replaced by db: the path of a postgresql:// URL, else (a key=value
 * connection string) a dbname= appended, which libpq reads last and so wins. Caller frees. */
static char *url_with_database(const char *url, const char *db)
{
    const char *scheme = strstr(url, "://");
    size_t n = strlen(url) + strlen(db) + 16;
    char *out = malloc(n);
    if (!out)
        return NULL;
    if (!scheme) {
        snprintf(out, n, "%s dbname=%s", url, db);
        return out;
    }
    const char *auth = scheme + 3;
    const char *query = strchr(auth, '?');
    const char *path = strchr(auth, '/');
    if (path && query && path > query)
        path = NULL;
    size_t keep = path ? (size_t)(path - url) : query ? (size_t)(query - url) : strlen(url);
    snprintf(out, n, "%.*s/%s%s", (int)keep, url, db, query ? query : "");
    return out;
}

/* A name no other run picks: time, pid and random bits. */
static void random_name(char *buf, size_t size)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    srand((unsigned)(ts.tv_nsec ^ (long)getpid()));
    snprintf(buf, size, "rbacmig_shadow_%lx%04x%04x", (unsigned long)ts.tv_sec & 0xfffffff,
             (unsigned)getpid() & 0xffff, (unsigned)rand() & 0xffff);
}

static int open_url(shadow *sh, rb_error *err)
{
    sh->cfg.database_url = sh->url;
    db_open_options opts = {.lock_timeout_ms = sh->cfg.lock_timeout_ms};
    return db_open(&sh->cfg, &opts, &sh->conn, err);
}

/* --shadow-url: refused unless it holds nothing of a schema (up to three names shown). */
static int refuse_unless_empty(shadow *sh, rb_error *err)
{
    const char *sql = db_conn_dialect(sh->conn) == DIALECT_SQLITE
        ? "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
          "ORDER BY name LIMIT 4"
        : "SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'S' THEN 'sequence ' "
          "ELSE 'table ' END || n.nspname || '.' || c.relname FROM pg_class c "
          "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','v','m','S') "
          "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
          "AND n.nspname NOT LIKE 'pg_toast%' "
          "UNION ALL SELECT 'function ' || n.nspname || '.' || p.proname FROM pg_proc p "
          "JOIN pg_namespace n ON n.oid = p.pronamespace "
          "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND NOT EXISTS "
          "(SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') "
          "ORDER BY 1 LIMIT 4";
    db_result *res = NULL;
    if (db_exec(sh->conn, sql, 0, NULL, &res, NULL, err) != 0)
        return rb_error_prefix(err, "shadow database");
    int rc = 0;
    if (res->nrows > 0) {
        char names[512] = "";
        for (int i = 0; i < res->nrows && i < 3; i++) {
            const db_value *v = db_result_cell(res, i, 0);
            size_t len = strlen(names);
            snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "",
                     v->text ? v->text : "?");
        }
        rc = rb_errorf(err, RB_ERR_USAGE, "the shadow database (--shadow-url) is not empty: "
                       "it holds %s%s", names, res->nrows > 3 ? " and more" : "");
        rb_strlcpy(err->hint, "give an empty database: the replay must start from nothing",
                   sizeof err->hint);
    }
    db_result_free(res);
    return rc;
}

/* A new database on the live one's server, named by the caller's random name. */
static int create_pg(shadow *sh, const config *cfg, rb_error *err)
{
    char name[64];
    random_name(name, sizeof name);
    db_conn *admin = NULL;
    db_open_options opts = {.lock_timeout_ms = cfg->lock_timeout_ms};
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
    int rc = db_open(cfg, &opts, &admin, err);
    if (rc == 0)
        rc = db_run(admin, sql, err);
    db_close(admin);
    if (rc != 0) {
        rb_error_prefix(err, "cannot create the shadow database %s", name);
        if (!err->hint[0])
            rb_strlcpy(err->hint, "the user needs CREATEDB; or give an empty database to "
                       "replay into with --shadow-url URL", sizeof err->hint);
        return -1;
    }
    if (!(sh->created_db = strdup(name)) || !(sh->live_url = strdup(cfg->database_url)) || !(sh->url = url_with_database(cfg->database_url, name)))
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    return 0;
}

static int create_sqlite(shadow *sh, rb_error *err)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/rbacmig-shadow-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return rb_errorf(err, RB_ERR_FAILURE, "cannot create a shadow file in %s",
                         tmp && tmp[0] ? tmp : "/tmp");
    close(fd);
    if (!(sh->file = strdup(path)) || !(sh->url = malloc(strlen(path) + 8)))
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    sprintf(sh->url, "sqlite:%s", path);
    return 0;
}

int shadow_open(const config *cfg, const char *shadow_url, shadow *sh, rb_error *err)
{
    memset(sh, 0, sizeof *sh);
    sh->cfg = *cfg; /* a shallow copy: only the URL differs */
    runner_hold_exit(true);
    db_dialect dialect;
    if (config_url_dialect(cfg->database_url, &dialect, err) != 0)
        return -1;
    if (shadow_url) {
        config_register_url_secrets(shadow_url);
        if (!(sh->url = strdup(shadow_url)))
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        if (open_url(sh, err) != 0)
            return rb_error_prefix(err, "shadow database");
        return refuse_unless_empty(sh, err);
    }
    int rc = dialect == DIALECT_SQLITE ? create_sqlite(sh, err) : create_pg(sh, cfg, err);
    if (rc == 0 && open_url(sh, err) != 0)
        rc = rb_error_prefix(err, "shadow database");
    if (rc == 0)
        out_note("shadow: %s", sh->created_db ? sh->created_db : sh->file);
    return rc;
}

int shadow_migrate(shadow *sh, lua_host *host, const graph *g, direction dir, const char *to,
                   rb_error *err)
{
    runner r = {.cfg = &sh->cfg, .host = host, .g = g, .conn = sh->conn};
    migrate_options opts = {.dir = dir, .target = to};
    return runner_migrate(&r, &opts, err);
}

/* What the replay needs from outside the managed scope, as DDL read from the live database,
 * in the order it must run: Supabase's auth schema (its enums, tables with their columns and
 * keys, functions: what migrations name as auth.users and auth.uid()); then the environment
 * the migrations ran in: the default privileges of roles the user acts as in public, and the
 * grants on the public schema. Roles are the server's, so the shadow has them already. */
static const char BRING_SQL[] =
    "SELECT 1, 'CREATE SCHEMA IF NOT EXISTS auth' WHERE to_regnamespace('auth') IS NOT NULL "
    "UNION ALL SELECT 2, format('CREATE TYPE %I.%I AS ENUM (%s)', n.nspname, t.typname, "
    "  (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) "
    "   FROM pg_enum e WHERE e.enumtypid = t.oid)) "
    "  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
    "  WHERE n.nspname = 'auth' AND t.typtype = 'e' "
    "UNION ALL SELECT 3, format('CREATE TABLE %I.%I (%s%s)', n.nspname, c.relname, "
    "  (SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), "
    "   ', ' ORDER BY a.attnum) FROM pg_attribute a "
    "   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), "
    "  (SELECT ', ' || string_agg(pg_get_constraintdef(k.oid), ', ') FROM pg_constraint k "
    "   WHERE k.conrelid = c.oid AND k.contype IN ('p', 'u'))) "
    "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "  WHERE n.nspname = 'auth' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
    "UNION ALL SELECT 4, pg_get_functiondef(p.oid) FROM pg_proc p "
    "  JOIN pg_namespace n ON n.oid = p.pronamespace "
    "  WHERE n.nspname = 'auth' AND p.prokind = 'f' "
    "UNION ALL SELECT 5, format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT %s "
    "  ON %s TO %s', pg_get_userbyid(d.defaclrole), x.privilege_type, "
    "  CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' "
    "  WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' END, "
    "  CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END) "
    "  FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace, "
    "  aclexplode(d.defaclacl) x "
    "  WHERE n.nspname = 'public' AND d.defaclobjtype IN ('r', 'S', 'f', 'T') "
    "  AND pg_has_role(d.defaclrole, 'USAGE') "
    "UNION ALL SELECT 6, format('GRANT %s ON SCHEMA public TO %s', x.privilege_type, "
    "  CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END) "
    "  FROM pg_namespace n, aclexplode(n.nspacl) x "
    "  WHERE n.nspname = 'public' AND x.grantee <> n.nspowner "
    "ORDER BY 1, 2";

int shadow_bring(shadow *sh, db_conn *live, rb_error *err)
{
    if (db_conn_dialect(sh->conn) != DIALECT_POSTGRESQL)
        return 0;
    db_result *res = NULL;
    if (db_exec(live, BRING_SQL, 0, NULL, &res, NULL, err) != 0)
        return rb_error_prefix(err, "reading what the shadow needs from the live database");
    /* Bodies are checked when they run, not here: a function may name a table that comes
     * later in the list, or one out of reach. */
    int rc = db_run(sh->conn, "SET check_function_bodies = off", err);
    for (int i = 0; rc == 0 && i < res->nrows; i++) {
        const db_value *v = db_result_cell(res, i, 1);
        if (v->type == DBV_NULL)
            continue;
        rb_error one;
        rb_error_init(&one);
        /* Best effort: what cannot be brought (a type from an extension, a privilege the
         * user may not grant) is named, and the replay says whether it was needed. */
        if (db_run(sh->conn, v->text, &one) != 0)
            out_note("warning: shadow: could not bring over '%.80s': %s", v->text, one.message);
        else
            out_debug("shadow: %.120s", v->text);
    }
    db_result_free(res);
    return rc != 0 ? rb_error_prefix(err, "shadow database") : 0;
}

void shadow_close(shadow *sh)
{
    db_close(sh->conn);
    sh->conn = NULL;
    if (sh->created_db) {
        /* The live database's server, as the shadow was made; WITH (FORCE) ends a backend
         * still finishing a cancelled statement. */
        config cfg = sh->cfg;
        cfg.database_url = sh->live_url;
        db_conn *admin = NULL;
        rb_error err;
        rb_error_init(&err);
        char sql[160];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", sh->created_db);
        db_open_options opts = {0};
        if (db_open(&cfg, &opts, &admin, &err) != 0 || db_run(admin, sql, &err) != 0)
            out_note("warning: could not drop the shadow database %s (%s); drop it by hand",
                     sh->created_db, err.message);
        db_close(admin);
    }
    if (sh->file) {
        const char *suffix[] = {"", "-journal", "-wal", "-shm"};
        char path[4200];
        for (int i = 0; i < 4; i++) {
            snprintf(path, sizeof path, "%s%s", sh->file, suffix[i]);
            unlink(path);
        }
    }
    free(sh->created_db);
    free(sh->file);
    free(sh->url);
    free(sh->live_url);
    sh->created_db = sh->file = sh->url = sh->live_url = NULL;
    runner_hold_exit(false);
}
