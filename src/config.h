/* config.h: where settings come from, and how the database URL is shown.
 *
 * The database URL, first found wins: -d/--database-url; DATABASE_URL in the environment;
 * DATABASE_URL in ./.env; `database_url` in the config file (rbacmig.lua, read by lua_host);
 * else the embedded default "sqlite:rbacmig.db". Passwords are registered with output.c
 * as soon as a URL is known, so no message can print them. Depends on libpq (for
 * PQconninfoParse), never on Lua. */
#ifndef RBACMIG_CONFIG_H
#define RBACMIG_CONFIG_H

#include <stdbool.h>

#include "dialect.h"
#include "error.h"
#include "str_list.h"

#define CONFIG_DEFAULT_URL "sqlite:rbacmig.db"

typedef struct config_kv {
    char *key;
    char *value;
} config_kv;

/* One per run; every string is owned by the config and freed by config_release. */
typedef struct config {
    char *flag_url;          /* -d/--database-url, or NULL */
    char *file_url;          /* database_url from the config file, or NULL */
    char *database_url;      /* the resolved URL */
    const char *url_source;  /* static: "--database-url", "DATABASE_URL", ".env", the file, "default" */
    char *config_file;       /* -c FILE, or "rbacmig.lua" */
    bool config_file_given;  /* -c was used: a missing file is an error */
    char *migrations_dir;    /* "migrations" */
    char *rbac_dir;          /* "rbac" */
    char *lua_dir;           /* the project's own Lua modules: "lua" */
    char *schema_dir;        /* the declared schema (revision --autogenerate): "schema" */
    char *version_table;     /* "rbacmig_version" */
    char *history_table;     /* "rbacmig_history" */
    char *schema;            /* PostgreSQL schema for rbacmig's tables: "public" */
    int lock_timeout_ms;     /* PostgreSQL lock_timeout for migration sessions; 0 = none */
    int statement_timeout_ms;/* PostgreSQL statement_timeout; 0 = none */
    str_list managed_schemas;/* the schemas the reader compares (schema dump, diff, drift,
                              * test); empty: all but the system's (and Supabase's) */
    str_list test_dialects;  /* what `rbacmig test` runs on: "postgresql", "sqlite", "both";
                              * empty: the database URL's dialect */
    bool keep_shadows;       /* autogenerate and check keep their two shadow databases
                              * between runs (PostgreSQL; shadow.h); default true */
    config_kv *x;            /* -x KEY=VALUE, in order */
    int x_count;
} config;

void config_init(config *cfg);
void config_release(config *cfg);

/* Replaces *field with a copy of value (NULL allowed). Returns -1 only when out of memory. */
int config_set(char **field, const char *value, rb_error *err);
/* Adds a -x argument; "KEY=VALUE" with a non-empty key, else a usage error. */
int config_add_x(config *cfg, const char *arg, rb_error *err);

/* Applies the precedence above and registers the URL's secrets. A URL set but empty, in any
 * of the places above, is a usage error naming the place. With -c FILE, first makes the
 * project's relative paths (migrations, rbac, lua, a sqlite: database_url of the file)
 * relative to FILE's directory. */
int config_resolve_url(config *cfg, rb_error *err);

/* Reads KEY from a .env file: `KEY=value`, `export KEY=value`, comments, single and double
 * quotes (double quotes take \n, \", \\ escapes). *value is NULL when the file or the key is
 * absent; a malformed line is an error naming path:line. Caller frees *value. */
int dotenv_lookup(const char *path, const char *key, char **value, rb_error *err);

/* Which driver a URL is for; an unknown scheme, a string libpq cannot parse, or a URI libpq
 * would read part of a password from as host, port or database, is a usage error naming
 * the (masked) URL. */
int config_url_dialect(const char *url, db_dialect *dialect, rb_error *err);

/* sqlite:PATH, sqlite:///relative, sqlite:////absolute, sqlite::memory:. Caller frees. */
int config_sqlite_path(const char *url, char **path, rb_error *err);

/* Registers every password the URL carries (user:pass@, ?password=, password=,
 * sslpassword=, and what a user may have meant: PASSWORD=, "double quotes", a raw '/' or
 * '@'), decoded and as written, with out_register_secret, and its credential forms (the
 * URL as given, ":password@", "password=...") with out_register_credential. */
void config_register_url_secrets(const char *url);

/* How url is shown: libpq's reading of it (PQconninfoParse) written back with "****" for
 * each password; a URI libpq cannot read soundly masked from "://" to its last '@' (and from
 * a password-like query value to the end); a key=value string libpq cannot parse not at
 * all. sqlite: URLs as they are. Caller frees (NULL when out of memory). */
char *config_mask_url(const char *url);

#endif
