/* shadow.c: the throwaway database `test` and `drift` replay migrations into (shadow.h).
 * PostgreSQL: CREATE DATABASE on the live database's server, through a second connection to
 * the live database (CREATE/DROP DATABASE cannot run inside a transaction, nor in the database
 * they drop); the shadow's URL is the live one with the database name replaced. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "shadow.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "revision.h"
#include "runner.h"
#include "sha256.h"
#include "version.h"

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

/* DROP DATABASE ... WITH (FORCE), on a connection to another database of its server.
 * FORCE terminates the sessions still in it, but PostgreSQL 15 refuses when one of them
 * is an autovacuum worker (it has no role the dropping user is a member of: SQLSTATE
 * 42501), which a shadow that just had a hundred tables made often has: so a few more
 * tries, a fifth of a second apart, while the worker finishes. */
static int drop_database(db_conn *admin, const char *name, rb_error *err)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
    int rc = -1;
    for (int attempt = 0; attempt < 10 && rc != 0; attempt++) {
        if (attempt > 0) {
            if (strcmp(err->sqlstate, "42501") != 0 || runner_stop_signal())
                break;
            nanosleep(&(struct timespec){.tv_nsec = 200 * 1000 * 1000}, NULL);
        }
        rb_error_init(err);
        rc = db_run(admin, sql, err);
    }
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

static int bring_from(shadow *sh, db_conn *live, rb_error *err);

/* PostgreSQL: what the replay needs from outside the managed scope, read through a
 * connection of its own to the live database. A live database out of reach (`test` with
 * --shadow-url needs nothing else of it) is a warning: the replay says what it missed. */
static int bring_from_live(shadow *sh, const config *cfg, rb_error *err)
{
    if (db_conn_dialect(sh->conn) != DIALECT_POSTGRESQL)
        return 0;
    db_conn *live = NULL;
    db_open_options opts = {.read_only = true, .lock_timeout_ms = cfg->lock_timeout_ms};
    rb_error open_err;
    rb_error_init(&open_err);
    if (db_open(cfg, &opts, &live, &open_err) != 0) {
        out_note("warning: shadow: nothing brought from outside the managed scope: cannot "
                 "connect to the live database (%s)", open_err.message);
        return 0;
    }
    int rc = bring_from(sh, live, err);
    db_close(live);
    return rc;
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
        if (refuse_unless_empty(sh, err) != 0)
            return -1;
        return bring_from_live(sh, cfg, err);
    }
    int rc = dialect == DIALECT_SQLITE ? create_sqlite(sh, err) : create_pg(sh, cfg, err);
    if (rc == 0 && open_url(sh, err) != 0)
        rc = rb_error_prefix(err, "shadow database");
    /* A temporary file outlives no crash that matters: each commit's fsync (a replay of
     * 100 migrations, the proofs: a thousand of them) was most of a SQLite autogenerate. */
    if (rc == 0 && sh->file && (db_run(sh->conn, "PRAGMA synchronous = OFF", err) != 0 ||
                                db_run(sh->conn, "PRAGMA journal_mode = MEMORY", err) != 0))
        rc = rb_error_prefix(err, "shadow database");
    if (rc == 0)
        out_note("shadow: %s", sh->created_db ? sh->created_db : sh->file);
    if (rc == 0)
        rc = bring_from_live(sh, cfg, err);
    return rc;
}

/* ---- kept shadows --------------------------------------------------------------------
 *
 * Creating a database copies template1 through the WAL, and dropping one forces a
 * checkpoint that writes every dirty buffer of the server: together most of an
 * autogenerate run. So `revision --autogenerate` and `check` keep their two shadows between
 * runs (keep_shadows, on by default), named from the live database and the project:
 *   rbacmig_shadow_<id>_head      the migrations replayed; left at the new revision's parents
 *                                 by the downgrade proof, and marked clean (its database
 *                                 comment names the rbacmig build) only when a run ends with
 *                                 it there: a next run upgrades it from there (only the new
 *                                 migrations run), and one that finds it unmarked, or built
 *                                 by another rbacmig, or not at the parents, builds it again
 *   rbacmig_shadow_<id>_declared  always empty: each run brings and applies the declarations
 *                                 in one transaction that is rolled back once they are read
 * A session advisory lock on the live database keeps two runs off one pair; a run that
 * cannot take it makes throwaway shadows, as keep_shadows = false does. */

/* What a kept shadow's comment says when a run left it clean: rbacmig's build, whose
 * replay made it. */
static void clean_mark(char *buf, size_t size)
{
    snprintf(buf, size, "rbacmig %s (%s): kept shadow, clean", RBACMIG_VERSION,
             RBACMIG_GIT_REVISION);
}

int shadow_kept_id(const config *cfg, char id[13])
{
    char real[4096];
    const char *dir = realpath(cfg->migrations_dir, real) ? real : cfg->migrations_dir;
    /* The URL as masked: a new password keeps the pair. */
    char *masked = config_mask_url(cfg->database_url);
    if (!masked)
        return -1;
    sha256_ctx ctx;
    unsigned char digest[32];
    sha256_init(&ctx);
    const char *parts[] = {masked, dir, cfg->schema ? cfg->schema : "public",
                           cfg->version_table ? cfg->version_table : ""};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        sha256_update(&ctx, parts[i], strlen(parts[i]) + 1);
    sha256_final(&ctx, digest);
    free(masked);
    for (int i = 0; i < 6; i++)
        snprintf(id + 2 * i, 3, "%02x", digest[i]);
    return 0;
}

int shadow_kept_lock(db_conn *live, const char *id, bool *locked, rb_error *err)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_catalog.pg_try_advisory_lock(x'%s'::bigint)", id);
    db_result *res = NULL;
    *locked = false;
    if (db_exec(live, sql, 0, NULL, &res, NULL, err) != 0)
        return -1;
    *locked = res->nrows == 1 && db_result_cell(res, 0, 0)->type == DBV_BOOL &&
              db_result_cell(res, 0, 0)->b;
    db_result_free(res);
    return 0;
}

/* The kept database's comment ("" for none), through the shadow's own connection. */
static int read_mark(shadow *sh, char *buf, size_t size, rb_error *err)
{
    db_result *res = NULL;
    buf[0] = '\0';
    if (db_exec(sh->conn, "SELECT pg_catalog.shobj_description(d.oid, 'pg_database') FROM "
                "pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()",
                0, NULL, &res, NULL, err) != 0)
        return -1;
    if (res->nrows == 1 && db_result_cell(res, 0, 0)->type == DBV_TEXT)
        rb_strlcpy(buf, db_result_cell(res, 0, 0)->text, size);
    db_result_free(res);
    return 0;
}

int shadow_mark(shadow *sh, bool clean, rb_error *err)
{
    if (!sh->kept)
        return 0;
    char mark[200], *literal = NULL, sql[400];
    clean_mark(mark, sizeof mark);
    size_t len = 0;
    db_value v = dbv_text(mark);
    if (clean && db_literal(&v, DIALECT_POSTGRESQL, &literal, &len, err) != 0)
        return -1;
    snprintf(sql, sizeof sql, "COMMENT ON DATABASE \"%s\" IS %s", sh->created_db,
             literal ? literal : "NULL");
    free(literal);
    return db_run(sh->conn, sql, err);
}

/* Drops the kept database (ours: the lock is held) and makes it anew. */
static int remake_kept(shadow *sh, bool existed, rb_error *err)
{
    db_close(sh->conn);
    sh->conn = NULL;
    config cfg = sh->cfg;
    cfg.database_url = sh->live_url;
    db_conn *admin = NULL;
    db_open_options opts = {.lock_timeout_ms = cfg.lock_timeout_ms};
    char sql[160];
    int rc = db_open(&cfg, &opts, &admin, err);
    if (rc == 0 && existed)
        rc = drop_database(admin, sh->created_db, err);
    if (rc == 0) {
        snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", sh->created_db);
        rc = db_run(admin, sql, err);
    }
    db_close(admin);
    if (rc != 0) {
        rb_error_prefix(err, "cannot create the shadow database %s", sh->created_db);
        if (!err->hint[0])
            rb_strlcpy(err->hint, "the user needs CREATEDB; or set keep_shadows = false, or "
                       "give empty databases with --shadow-url", sizeof err->hint);
        return -1;
    }
    if (open_url(sh, err) != 0)
        return rb_error_prefix(err, "shadow database");
    sh->reused = false;
    return 0;
}

int shadow_open_kept(const config *cfg, db_conn *live, const char *id, const char *role,
                     bool fresh, shadow *sh, rb_error *err)
{
    shadow_close(sh);
    memset(sh, 0, sizeof *sh);
    sh->cfg = *cfg;
    sh->kept = true;
    runner_hold_exit(true);
    char name[64];
    snprintf(name, sizeof name, "rbacmig_shadow_%s_%s", id, role);
    if (!(sh->created_db = strdup(name)) || !(sh->live_url = strdup(cfg->database_url)) ||
        !(sh->url = url_with_database(cfg->database_url, name)))
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    db_value v = dbv_text(name);
    db_result *res = NULL;
    if (db_exec(live, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", 1, &v, &res,
                NULL, err) != 0)
        return -1;
    bool existed = res->nrows > 0;
    db_result_free(res);
    char mark[200], want[200];
    clean_mark(want, sizeof want);
    if (existed && !fresh && open_url(sh, err) == 0 &&
        read_mark(sh, mark, sizeof mark, err) == 0) {
        /* The declared one must also be empty: only a COMMIT in a declaration, or a hand,
         * could have left something there. */
        rb_error ignored;
        rb_error_init(&ignored);
        sh->reused = strcmp(mark, want) == 0 &&
                     (strcmp(role, "declared") != 0 || refuse_unless_empty(sh, &ignored) == 0);
    }
    if (sh->reused) {
        out_note("shadow: %s (kept from an earlier run)", name);
        return 0;
    }
    if (remake_kept(sh, existed, err) != 0)
        return -1;
    out_note("shadow: %s (%s; kept for the next run: keep_shadows)", name,
             existed ? "made again" : "new");
    /* The declared shadow is left empty for good: clean from the start. */
    return strcmp(role, "declared") == 0 ? shadow_mark(sh, true, err) : 0;
}

int shadow_bring_from_live(shadow *sh, rb_error *err)
{
    if (sh->brought)
        return 0;
    config live = sh->cfg; /* sh->cfg names the shadow: its URL is the live one's */
    live.database_url = sh->live_url;
    return bring_from_live(sh, &live, err);
}

int shadow_migrate(shadow *sh, lua_host *host, const graph *g, direction dir, const char *to,
                   rb_error *err)
{
    runner r = {.cfg = &sh->cfg, .host = host, .g = g, .conn = sh->conn};
    migrate_options opts = {.dir = dir, .target = to};
    if (runner_migrate(&r, &opts, err) == 0)
        return 0;
    if (sh->not_brought && err->kind != RB_ERR_INTERRUPTED) {
        size_t len = strlen(err->message);
        snprintf(err->message + len, sizeof err->message - len,
                 " (the shadow could not bring from the live database: %s)", sh->not_brought);
    }
    return -1;
}

/* ---- bringing what the replay needs from outside the managed scope ---------------------
 *
 * Migrations refer to what they do not make: Supabase's auth.users and auth.uid(), a storage
 * bucket, an extension's function in `extensions`, a type in a schema the project leaves
 * out of managed_schemas. The shadow gets each of those schemas as the live database has it,
 * rendered from the live catalogs by the parts below, one statement per object, each with a
 * label for the warning and, where a simpler form still serves the replay, a fallback:
 *
 *   the brought schemas   every schema that is not PostgreSQL's own, not rbacmig's (its
 *                         `schema`, where migrations run), not an extension's, and not managed:
 *                         not in managed_schemas; without that list, on a Supabase database
 *                         (it has `auth`), Supabase's platform schemas (the reader's default
 *                         scope, lua/rbacmig/inspect/scope.lua) and on any other none
 *   extensions            those installed in a brought schema, at the live version: only
 *                         trusted ones can be created as a non-superuser such as Supabase's
 *                         `postgres`, and the rest are named in the warning
 *   types                 enums, domains (fallback: without default and checks), composites
 *   sequences             but not those of identity columns, which come with their table
 *   tables                columns with types, defaults, identity, NOT NULL, primary and unique
 *                         keys: enough for a foreign key, a policy or a function to refer to
 *                         (fallback: without defaults, which may call what is not there)
 *   functions             pg_get_functiondef, with check_function_bodies off
 *   views                 pg_get_viewdef (fallback: a table of the view's columns)
 *   the environment       the default privileges of roles the user acts as in public, and the
 *                         grants on the public schema, which decide what a replayed CREATE
 *                         grants to whom (roles are the server's: the shadow has them)
 *
 * Objects an extension made come with the extension, so no part renders them. The live
 * connection reads with search_path = pg_catalog, so that every name the server prints is
 * schema-qualified. Each part takes $1: the brought schemas, one per line. */

/* Schemas the reader leaves alone on a Supabase database: the same list as SUPABASE_SCHEMAS
 * in lua/rbacmig/inspect/scope.lua. */
static const char SUPABASE_SCHEMAS[] =
    "_analytics\n_realtime\n_supavisor\nauth\ncron\nextensions\ngraphql\ngraphql_public\nnet\n"
    "pgbouncer\npgsodium\npgsodium_masks\npgtle\nrealtime\nstorage\nsupabase_functions\n"
    "supabase_migrations\nvault";

#define IN_BROUGHT(nsp) nsp " = ANY (string_to_array($1::text, chr(10)))"
#define NOT_FROM_EXTENSION(catalog, oid)                                                      \
    "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '" catalog "'::regclass "       \
    "AND d.objid = " oid " AND d.deptype = 'e')"

/* $1: the managed schemas, one per line, or NULL for the default scope; $2: rbacmig's
 * schema; $3: Supabase's schemas, one per line. */
static const char BROUGHT_SCHEMAS_SQL[] =
    "SELECT n.nspname FROM pg_namespace n "
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)' AND n.nspname <> $2::text "
    "AND " NOT_FROM_EXTENSION("pg_namespace", "n.oid") " "
    "AND CASE WHEN $1::text IS NOT NULL "
    "  THEN n.nspname <> ALL (string_to_array($1::text, chr(10))) "
    "  ELSE to_regnamespace('auth') IS NOT NULL "
    "    AND n.nspname = ANY (string_to_array($3::text, chr(10))) END "
    "ORDER BY 1";

static const char SCHEMAS_PART[] =
    "SELECT 'schema ' || quote_ident(n.nspname), "
    "  format('CREATE SCHEMA IF NOT EXISTS %I', n.nspname), NULL "
    "FROM pg_namespace n WHERE " IN_BROUGHT("n.nspname") " ORDER BY n.nspname";

/* In the order they were created, so that one another needs comes first. */
static const char EXTENSIONS_PART[] =
    "SELECT 'extension ' || quote_ident(e.extname), "
    "  format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA %I VERSION %L', "
    "    e.extname, n.nspname, e.extversion), NULL "
    "FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
    "WHERE " IN_BROUGHT("n.nspname") " AND e.extname <> 'plpgsql' ORDER BY e.oid";

/* Enums, then domains (which may be over an enum), then composite types. */
static const char TYPES_PART[] =
    "SELECT 'type ' || t.oid::regtype::text, "
    "  CASE t.typtype "
    "  WHEN 'e' THEN format('CREATE TYPE %s AS ENUM (%s)', t.oid::regtype, "
    "    (SELECT coalesce(string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder),"
    "     '') FROM pg_enum e WHERE e.enumtypid = t.oid)) "
    "  WHEN 'd' THEN format('CREATE DOMAIN %s AS %s%s%s%s', t.oid::regtype, "
    "    format_type(t.typbasetype, t.typtypmod), "
    "    coalesce(' DEFAULT ' || t.typdefault, ''), "
    "    CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END, "
    "    (SELECT coalesce(string_agg(format(' CONSTRAINT %I %s', k.conname, "
    "     pg_get_constraintdef(k.oid)), '' ORDER BY k.conname), '') "
    "     FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c')) "
    "  ELSE format('CREATE TYPE %s AS (%s)', t.oid::regtype, "
    "    (SELECT coalesce(string_agg(format('%I %s', a.attname, "
    "     format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum), '') "
    "     FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 "
    "     AND NOT a.attisdropped)) END, "
    "  CASE WHEN t.typtype = 'd' THEN format('CREATE DOMAIN %s AS %s', t.oid::regtype, "
    "    format_type(t.typbasetype, t.typtypmod)) END "
    "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
    "WHERE " IN_BROUGHT("n.nspname") " AND " NOT_FROM_EXTENSION("pg_type", "t.oid") " "
    "AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' "
    "  AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')) "
    "ORDER BY CASE t.typtype WHEN 'e' THEN 0 WHEN 'd' THEN 1 ELSE 2 END, 1";

static const char SEQUENCES_PART[] =
    "SELECT 'sequence ' || c.oid::regclass::text, "
    "  format('CREATE SEQUENCE %s AS %s INCREMENT %s MINVALUE %s MAXVALUE %s START %s "
    "    CACHE %s%s', c.oid::regclass, format_type(s.seqtypid, NULL), s.seqincrement, "
    "    s.seqmin, s.seqmax, s.seqstart, s.seqcache, "
    "    CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END), NULL "
    "FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE " IN_BROUGHT("n.nspname") " AND " NOT_FROM_EXTENSION("pg_class", "c.oid") " "
    "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
    "  AND d.objid = c.oid AND d.deptype = 'i') "
    "ORDER BY 1";

/* A table's columns, each its name and type, then (when `full` is true) its default,
 * identity or generation expression, then NOT NULL. */
#define COLUMNS(rel, full)                                                                    \
    "(SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)) "   \
    "  || CASE WHEN NOT " full " THEN '' "                                                    \
    "     WHEN a.attidentity = 'a' THEN ' GENERATED ALWAYS AS IDENTITY' "                     \
    "     WHEN a.attidentity = 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' "                 \
    "     WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' "                           \
    "       || pg_get_expr(ad.adbin, ad.adrelid) || ') STORED' "                              \
    "     WHEN ad.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid) "   \
    "     ELSE '' END "                                                                       \
    "  || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END, ', ' ORDER BY a.attnum) "      \
    " FROM pg_attribute a LEFT JOIN pg_attrdef ad "                                           \
    "   ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum "                                  \
    " WHERE a.attrelid = " rel " AND a.attnum > 0 AND NOT a.attisdropped)"
#define KEYS(rel)                                                                             \
    "coalesce((SELECT ', ' || string_agg(format('CONSTRAINT %I %s', k.conname, "             \
    "  pg_get_constraintdef(k.oid)), ', ' ORDER BY k.conname) FROM pg_constraint k "          \
    "  WHERE k.conrelid = " rel " AND k.contype IN ('p', 'u')), '')"

/* Tables (partitioned ones as plain tables, without their partitions; foreign ones as
 * plain tables too). */
static const char TABLES_PART[] =
    "SELECT 'table ' || c.oid::regclass::text, "
    "  format('CREATE TABLE %s (%s%s)', c.oid::regclass, " COLUMNS("c.oid", "true") ", "
    "    " KEYS("c.oid") "), "
    "  format('CREATE TABLE %s (%s%s)', c.oid::regclass, " COLUMNS("c.oid", "false") ", "
    "    " KEYS("c.oid") ") "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE " IN_BROUGHT("n.nspname") " AND " NOT_FROM_EXTENSION("pg_class", "c.oid") " "
    "AND c.relkind IN ('r', 'p', 'f') AND NOT c.relispartition ORDER BY 1";

/* Functions and procedures (aggregates and window functions are not brought). */
static const char FUNCTIONS_PART[] =
    "SELECT 'function ' || p.oid::regprocedure::text, pg_get_functiondef(p.oid), NULL "
    "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
    "WHERE " IN_BROUGHT("n.nspname") " AND " NOT_FROM_EXTENSION("pg_proc", "p.oid") " "
    "AND p.prokind IN ('f', 'p') ORDER BY 1";

static const char VIEWS_PART[] =
    "SELECT 'view ' || c.oid::regclass::text, "
    "  format('CREATE %sVIEW %s AS %s%s', "
    "    CASE c.relkind WHEN 'm' THEN 'MATERIALIZED ' ELSE '' END, c.oid::regclass, "
    "    regexp_replace(pg_get_viewdef(c.oid), ';\\s*$', ''), "
    "    CASE c.relkind WHEN 'm' THEN ' WITH NO DATA' ELSE '' END), "
    "  format('CREATE TABLE %s (%s)', c.oid::regclass, " COLUMNS("c.oid", "false") ") "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE " IN_BROUGHT("n.nspname") " AND " NOT_FROM_EXTENSION("pg_class", "c.oid") " "
    "AND c.relkind IN ('v', 'm') ORDER BY 1";

/* The environment the migrations ran in (public's, whichever schemas are brought). */
static const char ENVIRONMENT_PART[] =
    "SELECT 'default privileges of ' || quote_ident(pg_get_userbyid(d.defaclrole)) "
    "  || ' in public', "
    "  format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT %s ON %s TO %s', "
    "  pg_get_userbyid(d.defaclrole), x.privilege_type, "
    "  CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' "
    "  WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' END, "
    "  CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END),"
    "  NULL "
    "FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace, "
    "  aclexplode(d.defaclacl) x "
    "WHERE n.nspname = 'public' AND d.defaclobjtype IN ('r', 'S', 'f', 'T') "
    "  AND pg_has_role(d.defaclrole, 'USAGE') AND $1::text IS NOT NULL "
    "UNION ALL SELECT 'grant on schema public', "
    "  format('GRANT %s ON SCHEMA public TO %s', x.privilege_type, "
    "  CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END),"
    "  NULL "
    "FROM pg_namespace n, aclexplode(n.nspacl) x "
    "WHERE n.nspname = 'public' AND x.grantee <> n.nspowner";

/* In the order they can be created; what fails for want of a later one is tried again. */
static const char *const BRING_PARTS[] = {SCHEMAS_PART,   EXTENSIONS_PART, TYPES_PART,
                                          SEQUENCES_PART, TABLES_PART,     FUNCTIONS_PART,
                                          VIEWS_PART,     ENVIRONMENT_PART};
enum { NPARTS = sizeof BRING_PARTS / sizeof BRING_PARTS[0] };

/* One statement to run in the shadow; the strings are the parts' results'. */
typedef struct bring_item {
    const char *label, *ddl, *fallback;
    char failure[200]; /* the last attempt's error, or "" once brought */
    bool done;
} bring_item;

/* The brought schemas, one per line, into *out (the caller frees): see BROUGHT_SCHEMAS_SQL. */
static int brought_schemas(const config *cfg, db_conn *live, char **out, rb_error *err)
{
    size_t size = 1;
    for (int i = 0; i < cfg->managed_schemas.count; i++)
        size += strlen(cfg->managed_schemas.items[i]) + 1;
    char *managed = calloc(1, size);
    db_result *res = NULL;
    int rc = -1;
    *out = NULL;
    if (!managed)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    for (int i = 0; i < cfg->managed_schemas.count; i++) {
        if (i > 0)
            strcat(managed, "\n");
        strcat(managed, cfg->managed_schemas.items[i]);
    }
    db_value params[3] = {dbv_text(cfg->managed_schemas.count > 0 ? managed : NULL),
                          dbv_text(cfg->schema ? cfg->schema : "public"),
                          dbv_text(SUPABASE_SCHEMAS)};
    if (db_exec(live, BROUGHT_SCHEMAS_SQL, 3, params, &res, NULL, err) != 0)
        goto done;
    size = 1;
    for (int i = 0; i < res->nrows; i++)
        size += db_result_cell(res, i, 0)->len + 1;
    if (!(*out = calloc(1, size))) {
        rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    for (int i = 0; i < res->nrows; i++) {
        if (i > 0)
            strcat(*out, "\n");
        strcat(*out, db_result_cell(res, i, 0)->text);
    }
    rc = 0;
done:
    db_result_free(res);
    free(managed);
    return rc;
}

/* One statement of the bring. Inside a transaction (a kept declared shadow brings in the
 * transaction its declarations are rolled back with), in a savepoint of its own: a failure
 * must not abort the rest. */
static int run_one(db_conn *c, const char *sql, rb_error *err)
{
    if (!db_in_transaction(c))
        return db_run(c, sql, err);
    if (db_run(c, "SAVEPOINT rbacmig_bring", err) != 0)
        return -1;
    if (db_run(c, sql, err) == 0)
        return db_run(c, "RELEASE SAVEPOINT rbacmig_bring", err);
    rb_error ignored;
    rb_error_init(&ignored);
    db_run(c, "ROLLBACK TO SAVEPOINT rbacmig_bring", &ignored);
    return -1;
}

/* Runs what is not done yet, the fallback instead where `fallback` says; true when any ran. */
static bool bring_round(shadow *sh, bring_item *items, int n, bool fallback)
{
    bool progress = false;
    for (int i = 0; i < n; i++) {
        bring_item *it = &items[i];
        const char *sql = fallback ? it->fallback : it->ddl;
        if (it->done || !sql)
            continue;
        if (runner_stop_signal())
            return false;
        rb_error one;
        rb_error_init(&one);
        if (run_one(sh->conn, sql, &one) == 0) {
            it->done = progress = true;
            out_debug("shadow: %.120s", sql);
        } else {
            rb_strlcpy(it->failure, one.message, sizeof it->failure);
        }
    }
    return progress;
}

/* What could not be brought (up to five, each with its error; --verbose names every one),
 * kept in sh->not_brought for shadow_migrate: a failed replay names it as the likely cause.
 * It is not a warning of its own, since on Supabase some of it is always there (untrusted
 * extensions, C functions) and a replay that never refers to it needs none of it. */
static void note_not_brought(shadow *sh, const bring_item *items, int n)
{
    int failed = 0;
    char list[1024] = "";
    for (int i = 0; i < n; i++) {
        if (items[i].done)
            continue;
        out_debug("shadow: could not bring %s: %s", items[i].label, items[i].failure);
        if (failed++ < 5) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s (%.80s)", len ? "; " : "",
                     items[i].label, items[i].failure);
        }
    }
    if (failed > 5) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "; and %d more (--verbose names them)",
                 failed - 5);
    }
    free(sh->not_brought);
    sh->not_brought = failed > 0 ? strdup(list) : NULL;
}

/* Reads the parts from live and runs them in the shadow, in rounds: a statement that fails
 * (a table whose default calls a function not there yet) is tried again after the others,
 * until a round brings nothing more; then the fallbacks, and rounds again. Best effort:
 * only a failure to read the live database is an error. */
static int bring_from(shadow *sh, db_conn *live, rb_error *err)
{
    db_result *parts[NPARTS] = {0};
    bring_item *items = NULL;
    char *brought = NULL;
    int n = 0, rc = -1;
    if (db_run(live, "SET search_path = pg_catalog", err) != 0 ||
        brought_schemas(&sh->cfg, live, &brought, err) != 0)
        goto done;
    db_value param = dbv_text(brought);
    for (int p = 0; p < NPARTS; p++) {
        if (db_exec(live, BRING_PARTS[p], 1, &param, &parts[p], NULL, err) != 0)
            goto done;
        n += parts[p]->nrows;
    }
    if (!(items = calloc((size_t)n + 1, sizeof *items))) {
        rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    n = 0;
    for (int p = 0; p < NPARTS; p++)
        for (int i = 0; i < parts[p]->nrows; i++) {
            const db_value *ddl = db_result_cell(parts[p], i, 1);
            if (ddl->type == DBV_NULL)
                continue;
            items[n].label = db_result_cell(parts[p], i, 0)->text;
            items[n].ddl = ddl->text;
            items[n++].fallback = db_result_cell(parts[p], i, 2)->text;
        }
    /* Bodies are checked when they run, not here: a function may name a table that comes
     * later, or one out of reach. The replay itself checks them, as the live database did. */
    if (db_run(sh->conn, "SET check_function_bodies = off", err) != 0)
        goto done;
    while (bring_round(sh, items, n, false) || bring_round(sh, items, n, true))
        ;
    if (!runner_stop_signal())
        note_not_brought(sh, items, n);
    rc = db_run(sh->conn, "RESET check_function_bodies", err);
done:; /* a label cannot precede a declaration before C23 (clang refuses it) */
    rb_error ignored; /* only a read connection's setting */
    rb_error_init(&ignored);
    db_run(live, "RESET search_path", &ignored); /* the caller's connection as it was */
    for (int p = 0; p < NPARTS; p++)
        db_result_free(parts[p]);
    free(items);
    free(brought);
    if (rc == 0)
        sh->brought = true;
    return rc != 0 ? rb_error_prefix(err, "bringing what the replay needs into the shadow") : 0;
}

int shadow_bring(shadow *sh, db_conn *live, rb_error *err)
{
    if (sh->brought || db_conn_dialect(sh->conn) != DIALECT_POSTGRESQL)
        return 0;
    return bring_from(sh, live, err);
}

void shadow_close(shadow *sh)
{
    db_close(sh->conn);
    sh->conn = NULL;
    if (sh->created_db && !sh->kept) {
        /* The live database's server, as the shadow was made; WITH (FORCE) ends a backend
         * still finishing a cancelled statement. */
        config cfg = sh->cfg;
        cfg.database_url = sh->live_url;
        db_conn *admin = NULL;
        rb_error err;
        rb_error_init(&err);
        db_open_options opts = {0};
        if (db_open(&cfg, &opts, &admin, &err) != 0 || drop_database(admin, sh->created_db, &err) != 0)
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
    free(sh->not_brought);
    free(sh->url);
    free(sh->live_url);
    sh->created_db = sh->file = sh->url = sh->live_url = NULL;
    runner_hold_exit(false);
}
