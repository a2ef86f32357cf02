---@meta
-- LuaLS annotations for the `db` object that migrations call: the host's methods (exec,
-- exec_script, exec_file, query, scalar, quote_ident, load_rbac, copy) and the schema
-- operations of rbacmig.schema. Editors read this file for completion and checking; it is
-- never required at run time. See docs/schema-api.md.

---@alias rbacmig.Dialect "postgresql"|"sqlite"

---A value bound to a $n parameter. nil is NULL.
---@alias rbacmig.Value string|number|boolean|nil

---Portable column types; on PostgreSQL any other string is used as written (e.g. "text[]").
---@alias rbacmig.Type
---| "integer" | "bigint" | "smallint"
---| "serial" # integer identity column (INTEGER PRIMARY KEY AUTOINCREMENT on SQLite)
---| "bigserial" # bigint identity column (INTEGER PRIMARY KEY AUTOINCREMENT on SQLite)
---| "boolean" | "text" | "varchar(n)" | "numeric(p,s)" | "real" | "double" | "uuid"
---| "date" | "timestamp" | "timestamptz" | "json" | "jsonb" | "bytea" | "blob"
---| string

---@alias rbacmig.Action "cascade"|"restrict"|"no action"|"set null"|"set default"

---A value made by db.fn: an SQL expression, never a literal.
---@class rbacmig.Fn
---@field kind "now"|"uuid"|"raw"
---@field sql? string

---A column default: a string, number or boolean is a literal; db.fn values are expressions.
---@alias rbacmig.Default string|number|boolean|rbacmig.Fn

---@class rbacmig.FnLib
local FnLib = {}

---The current date and time: now() on PostgreSQL, CURRENT_TIMESTAMP (UTC text) on SQLite.
---@return rbacmig.Fn
function FnLib.now() end

---A random version-4 UUID: gen_random_uuid() on PostgreSQL, text built from randomblob on SQLite.
---@return rbacmig.Fn
function FnLib.uuid() end

---SQL used as written: a default expression, or an index expression.
---@param sql string
---@return rbacmig.Fn
function FnLib.raw(sql) end

---A column: `{ "name", "type", key = value... }`.
---@class rbacmig.ColumnSpec
---@field [1] string column name
---@field [2] rbacmig.Type column type
---@field primary_key? boolean the column is the primary key (implies NOT NULL)
---@field not_null? boolean
---@field nullable? boolean the opposite of not_null; give one of them
---@field unique? boolean
---@field default? rbacmig.Default
---@field check? string CHECK expression, as SQL
---@field references? string "table", "table.column" or (PostgreSQL) "schema.table.column"
---@field on_delete? rbacmig.Action
---@field on_update? rbacmig.Action
---@field collation? string COLLATE ("C"; "NOCASE" on SQLite; "schema.name" on PostgreSQL)
---@field generated? string GENERATED ALWAYS AS (expression) STORED
---@field identity? "always"|"by default" PostgreSQL: an identity column
---@field renamed_from? string declarations only (schema/*.lua): the column's old name; autogenerate renames it (as --rename TABLE.OLD:NEW); refused in a migration

---Columns of a key, optionally named: `{ "a", "b" }` or `{ name = "k", columns = { "a", "b" } }`.
---@class rbacmig.Key
---@field name? string constraint name
---@field columns? string[]

---@class rbacmig.Check
---@field name? string constraint name
---@field expr string CHECK expression, as SQL

---@class rbacmig.ForeignKey
---@field name? string constraint name
---@field columns string|string[]
---@field references_table string
---@field references_columns? string|string[] default: the referenced table's primary key
---@field references_schema? string PostgreSQL only
---@field on_delete? rbacmig.Action
---@field on_update? rbacmig.Action

---@class rbacmig.CreateTableOptions
---@field if_not_exists? boolean
---@field schema? string PostgreSQL only: create the table in this schema
---@field primary_key? string|string[]|rbacmig.Key table-level (composite or named) primary key
---@field unique? (string[]|rbacmig.Key)[] unique constraints, each a list of columns
---@field check? string one unnamed CHECK expression
---@field checks? (string|rbacmig.Check)[]
---@field foreign_keys? rbacmig.ForeignKey[]
---@field without_rowid? boolean SQLite: WITHOUT ROWID (needs a primary key, no serial); nothing on PostgreSQL
---@field unlogged? boolean PostgreSQL only: UNLOGGED
---@field options? string PostgreSQL only: WITH (storage parameters), as SQL
---@field partition_by? string PostgreSQL only: PARTITION BY, as SQL, e.g. "RANGE (at)"
---@field partition_of? string PostgreSQL only: a partition of this table ("t" or "schema.t"); columns must be {}
---@field bound? string PostgreSQL only: the partition's bound, "FOR VALUES ..." or "DEFAULT"
---@field renamed_from? string declarations only (schema/*.lua): the table's old name; autogenerate renames it (as --rename OLD:NEW); refused in a migration

---@class rbacmig.SchemaOption
---@field schema? string PostgreSQL only: the schema of the table (default: search_path)

---@class rbacmig.DropOptions: rbacmig.SchemaOption
---@field if_exists? boolean
---@field cascade? boolean PostgreSQL only

---@class rbacmig.AddColumnOptions: rbacmig.SchemaOption
---@field if_not_exists? boolean PostgreSQL only

---@class rbacmig.AlterColumnOptions: rbacmig.SchemaOption
---@field type? rbacmig.Type new type
---@field using? string expression converting old values (needs type)
---@field nullable? boolean
---@field not_null? boolean
---@field default? rbacmig.Default new default
---@field drop_default? boolean remove the default

---An index element: a column name, or an expression as db.fn.raw(sql) or { expr = sql }.
---@alias rbacmig.IndexElement string|rbacmig.Fn|{ expr: string }

---@class rbacmig.CreateIndexOptions: rbacmig.SchemaOption
---@field name? string default: <table>_<columns>_idx (required for expressions)
---@field unique? boolean
---@field where? string partial index predicate, as SQL
---@field concurrently? boolean PostgreSQL: CONCURRENTLY (ignored on SQLite)
---@field if_not_exists? boolean
---@field method? string PostgreSQL only: btree, gin, gist, hash, brin...

---@class rbacmig.DropIndexOptions: rbacmig.DropOptions
---@field table? string the index's table, for readability (index names are per schema)
---@field concurrently? boolean PostgreSQL: CONCURRENTLY (ignored on SQLite)

---@class rbacmig.ForeignKeyOptions: rbacmig.SchemaOption
---@field on_delete? rbacmig.Action
---@field on_update? rbacmig.Action
---@field references_schema? string PostgreSQL only

---@class rbacmig.CreateSchemaOptions
---@field if_not_exists? boolean
---@field authorization? string owner role

---@class rbacmig.DropSchemaOptions
---@field if_exists? boolean
---@field cascade? boolean

---@class rbacmig.CreateExtensionOptions
---@field if_not_exists? boolean
---@field schema? string WITH SCHEMA
---@field version? string
---@field cascade? boolean

---@class rbacmig.EnableRlsOptions: rbacmig.SchemaOption
---@field force? boolean also FORCE ROW LEVEL SECURITY (policies apply to the owner too)

---@class rbacmig.PolicyOptions: rbacmig.SchemaOption
---@field command? "all"|"select"|"insert"|"update"|"delete" default all
---@field restrictive? boolean AS RESTRICTIVE (default permissive)
---@field to? string|string[] roles; "public", "current_user", "session_user", "current_role" are keywords
---@field using? string USING expression
---@field with_check? string WITH CHECK expression

---@class rbacmig.DropPolicyOptions: rbacmig.SchemaOption
---@field if_exists? boolean

---A configuration parameter's value: a literal, a list (of literals), or db.fn.raw(sql).
---@alias rbacmig.SettingValue string|number|boolean|string[]|rbacmig.Fn

---SET clauses: `{ work_mem = "64MB", search_path = "" }` (in name order), or a list of
---`{ name, value }` pairs (in that order, which the catalog keeps).
---@alias rbacmig.Settings table<string, rbacmig.SettingValue>|{ [1]: string, [2]: rbacmig.SettingValue }[]

---@class rbacmig.FunctionOptions: rbacmig.SchemaOption
---@field args? string|string[] argument list as SQL, e.g. { "a integer", "b text" }
---@field returns? string return type as SQL, e.g. "trigger" (required unless procedure)
---@field language string e.g. "plpgsql", "sql"
---@field body string the function body (dollar-quoted for you)
---@field replace? boolean CREATE OR REPLACE
---@field procedure? boolean CREATE PROCEDURE (no returns, volatility, strict, leakproof, parallel, cost, rows)
---@field volatility? "immutable"|"stable"|"volatile"
---@field security? "definer"|"invoker"
---@field strict? boolean
---@field leakproof? boolean LEAKPROOF (PostgreSQL allows it to superusers only)
---@field parallel? "safe"|"restricted"|"unsafe"
---@field cost? number COST estimate (above 0)
---@field rows? number ROWS estimate (set-returning functions)
---@field search_path? string|string[] SET search_path for the function (schema names)
---@field settings? rbacmig.Settings SET clauses of any configuration parameter

---@class rbacmig.AlterFunctionOptions: rbacmig.SchemaOption
---@field args? string|string[] argument types, to pick one overload
---@field procedure? boolean ALTER PROCEDURE
---@field volatility? "immutable"|"stable"|"volatile"
---@field security? "definer"|"invoker"
---@field strict? boolean false: CALLED ON NULL INPUT
---@field leakproof? boolean false: NOT LEAKPROOF
---@field parallel? "safe"|"restricted"|"unsafe"
---@field cost? number
---@field rows? number
---@field search_path? string|string[]
---@field settings? rbacmig.Settings
---@field reset? "all"|string|string[] RESET these parameters, or RESET ALL
---@field owner? string OWNER TO (a statement of its own)

---@class rbacmig.DropFunctionOptions: rbacmig.DropOptions
---@field args? string|string[] argument types, to pick one overload
---@field procedure? boolean DROP PROCEDURE

---@class rbacmig.TriggerOptions: rbacmig.SchemaOption
---@field timing "before"|"after"|"instead of"
---@field events "insert"|"update"|"delete"|"truncate"|("insert"|"update"|"delete"|"truncate")[]
---@field columns? string|string[] UPDATE OF these columns
---@field for_each "row"|"statement"
---@field when? string WHEN condition, as SQL
---@field execute string trigger function name
---@field execute_schema? string schema of the trigger function
---@field arguments? (string|number)[] arguments passed to the function (as strings)
---@field replace? boolean CREATE OR REPLACE (PostgreSQL 14+)

---@alias rbacmig.GrantType
---| "table" | "sequence" | "function" | "schema" | "database"
---| "all_tables_in_schema" | "all_sequences_in_schema" | "all_functions_in_schema"

---@class rbacmig.GrantOptions
---@field type? rbacmig.GrantType default "table"
---@field columns? string|string[] column privileges (table only)
---@field args? string|string[] argument types (function only)
---@field schema? string schema of the tables, sequences or functions
---@field with_grant_option? boolean

---@class rbacmig.RevokeOptions
---@field type? rbacmig.GrantType default "table"
---@field columns? string|string[]
---@field args? string|string[]
---@field schema? string
---@field grant_option_for? boolean revoke only the grant option
---@field cascade? boolean

---@class rbacmig.DefaultPrivilegeOptions
---@field schema? string|string[] IN SCHEMA (not with on = "schemas")
---@field for_role? string|string[] FOR ROLE: whose future objects (default: the current role)

---@class rbacmig.GrantDefaultOptions: rbacmig.DefaultPrivilegeOptions
---@field with_grant_option? boolean

---@class rbacmig.RevokeDefaultOptions: rbacmig.DefaultPrivilegeOptions
---@field grant_option_for? boolean
---@field cascade? boolean

---@alias rbacmig.DefaultObjects "tables"|"sequences"|"functions"|"types"|"schemas"

---@alias rbacmig.OwnedKind
---| "table" | "view" | "materialized_view" | "sequence" | "function" | "procedure" | "schema" | "type"

---@class rbacmig.SetOwnerOptions: rbacmig.SchemaOption
---@field args? string|string[] argument types (function, procedure)

---@class rbacmig.CreateViewOptions: rbacmig.SchemaOption
---@field as string the query, as SQL (a trailing ';' is dropped)
---@field replace? boolean CREATE OR REPLACE (PostgreSQL)
---@field materialized? boolean MATERIALIZED VIEW (PostgreSQL)
---@field with_data? boolean materialized only; false: WITH NO DATA
---@field security_invoker? boolean PostgreSQL 15+: WITH (security_invoker=...)
---@field security_barrier? boolean PostgreSQL: WITH (security_barrier=...)
---@field check_option? "local"|"cascaded" PostgreSQL: WITH LOCAL|CASCADED CHECK OPTION
---@field options? string PostgreSQL: other WITH (...) parameters, as SQL

---@class rbacmig.DropViewOptions: rbacmig.DropOptions
---@field materialized? boolean DROP MATERIALIZED VIEW

---@class rbacmig.AddEnumValueOptions: rbacmig.SchemaOption
---@field before? string place the value before this one
---@field after? string place the value after this one
---@field if_not_exists? boolean

---@class rbacmig.SequenceOptions: rbacmig.SchemaOption
---@field as? "smallint"|"integer"|"bigint"
---@field start? integer|string
---@field increment? integer|string not 0
---@field min_value? integer|string
---@field max_value? integer|string
---@field cache? integer|string at least 1
---@field cycle? boolean false: NO CYCLE
---@field owned_by? string "table.column", "schema.table.column" or (alter_sequence) "none"

---@class rbacmig.CreateSequenceOptions: rbacmig.SequenceOptions
---@field if_not_exists? boolean

---@class rbacmig.AlterSequenceOptions: rbacmig.SequenceOptions
---@field restart? boolean|integer|string RESTART (true) or RESTART WITH n

---@alias rbacmig.CommentKind
---| "table" | "column" | "view" | "materialized_view" | "function" | "procedure" | "schema"
---| "type" | "sequence" | "index" | "policy" | "trigger" | "constraint"

---@class rbacmig.CommentOptions: rbacmig.SchemaOption
---@field args? string|string[] argument types (function, procedure)
---@field table? string the table of a policy, trigger or constraint (required for them)

---@class rbacmig.BulkInsertOptions: rbacmig.SchemaOption
---@field columns? string[] insert exactly these columns (a missing key is NULL); default: each row's keys (a missing key takes the column default)
---@field batch_size? integer at most this many rows per statement

---What a declaration's `db` carries: the file it runs and the renames it says (renamed_from,
---as --rename spells them), which autogenerate passes to the generator.
---@class rbacmig.Declaration
---@field file string
---@field renames { rename: string, where: string }[]

---The database a migration works on.
---@class rbacmig.Db
---@field dialect rbacmig.Dialect
---@field offline boolean true under --sql: statements are written, not run
---@field x table<string, string> values given with -x key=value
---@field schema string PostgreSQL schema the search_path is set to
---@field fn rbacmig.FnLib
---@field declaration? rbacmig.Declaration set only while a declaration file (schema/*.lua) runs
local Db = {}

---Runs one SQL statement with $1..$n bound to the extra arguments; returns the affected row
---count (0 under --sql, where the statement is written instead).
---@param sql string
---@param ... rbacmig.Value
---@return integer
function Db:exec(sql, ...) end

---Runs a script of several statements (no parameters), as psql or sqlite3 would: comments,
---strings holding ';' and $$ bodies are the database's to read. PostgreSQL sends it as one
---simple-protocol query, SQLite prepares one statement after another; all of it runs in the
---step's transaction. An error names the failing statement and its line ("script:7: statement
---3: ..."). COPY ... FROM STDIN is refused. Under --sql the script is written as it is.
---@param sql string
function Db:exec_script(sql) end

---Runs one of the migration's own SQL files as a script (see exec_script): a file named
---`<stem>.<part>.sql` beside the migration's `<stem>.lua`, such as `<rev>_<slug>.up.sql`.
---Those files are part of the migration's checksum (check, repair). Absolute paths, `..`,
---subdirectories, other names and symbolic links leading outside are refused.
---@param name string the file name, e.g. "1f2e3d4c5b6a_add_docs.up.sql"
function Db:exec_file(name) end

---Runs a query and returns its rows keyed by column name (an error under --sql).
---@param sql string
---@param ... rbacmig.Value
---@return table<string, any>[]
function Db:query(sql, ...) end

---The first column of the first row of a query, or nil (an error under --sql).
---@param sql string
---@param ... rbacmig.Value
---@return any
function Db:scalar(sql, ...) end

---The identifier quoted for the dialect ("a""b" style).
---@param name string
---@return string
function Db:quote_ident(name) end

---The project's rbac/permissions.lua and rbac/roles.lua, each loaded in its own sandbox.
---@return { permissions: any, roles: any, files: { permissions: string, roles: string } }
function Db:load_rbac() end

---Streams rows[first..last] into a table with COPY ... FROM STDIN (PostgreSQL, not in --sql
---mode); bulk_insert uses it. target is quoted SQL (db:quote_ident); a missing key is NULL.
---@param target string
---@param columns string[]
---@param rows table<string, rbacmig.Value>[]
---@param first? integer
---@param last? integer
---@return integer copied
function Db:copy(target, columns, rows, first, last) end

---Creates a table.
---@param name string
---@param columns rbacmig.ColumnSpec[]
---@param options? rbacmig.CreateTableOptions
function Db:create_table(name, columns, options) end

---Drops a table.
---@param name string
---@param options? rbacmig.DropOptions
function Db:drop_table(name, options) end

---Renames a table.
---@param name string
---@param new_name string
---@param options? rbacmig.SchemaOption
function Db:rename_table(name, new_name, options) end

---Adds a column (on SQLite, a key or computed default rebuilds the table).
---@param table_name string
---@param column rbacmig.ColumnSpec
---@param options? rbacmig.AddColumnOptions
function Db:add_column(table_name, column, options) end

---Drops a column (on SQLite, drop its indexes and constraints first).
---@param table_name string
---@param column string
---@param options? rbacmig.DropOptions
function Db:drop_column(table_name, column, options) end

---Renames a column.
---@param table_name string
---@param column string
---@param new_name string
---@param options? rbacmig.SchemaOption
function Db:rename_column(table_name, column, new_name, options) end

---Changes a column's type, nullability or default (a table rebuild on SQLite).
---@param table_name string
---@param column string
---@param options rbacmig.AlterColumnOptions
function Db:alter_column(table_name, column, options) end

---Creates an index on columns or expressions.
---@param table_name string
---@param columns rbacmig.IndexElement|rbacmig.IndexElement[]
---@param options? rbacmig.CreateIndexOptions
function Db:create_index(table_name, columns, options) end

---Drops an index.
---@param name string
---@param options? rbacmig.DropIndexOptions
function Db:drop_index(name, options) end

---Adds a named UNIQUE constraint (a table rebuild on SQLite).
---@param table_name string
---@param name string
---@param columns string|string[]
---@param options? rbacmig.SchemaOption
function Db:create_unique_constraint(table_name, name, columns, options) end

---Adds a named CHECK constraint (a table rebuild on SQLite).
---@param table_name string
---@param name string
---@param expr string
---@param options? rbacmig.SchemaOption
function Db:create_check_constraint(table_name, name, expr, options) end

---Adds a named FOREIGN KEY constraint (a table rebuild on SQLite).
---@param table_name string
---@param name string
---@param columns string|string[]
---@param ref_table string
---@param ref_columns string|string[]
---@param options? rbacmig.ForeignKeyOptions
function Db:create_foreign_key(table_name, name, columns, ref_table, ref_columns, options) end

---Drops a named constraint (a table rebuild on SQLite).
---@param table_name string
---@param name string
---@param options? rbacmig.DropOptions
function Db:drop_constraint(table_name, name, options) end

---PostgreSQL only: creates a schema.
---@param name string
---@param options? rbacmig.CreateSchemaOptions
function Db:create_schema(name, options) end

---PostgreSQL only: drops a schema.
---@param name string
---@param options? rbacmig.DropSchemaOptions
function Db:drop_schema(name, options) end

---PostgreSQL only: creates an extension.
---@param name string
---@param options? rbacmig.CreateExtensionOptions
function Db:create_extension(name, options) end

---PostgreSQL only: drops an extension.
---@param name string
---@param options? rbacmig.DropSchemaOptions
function Db:drop_extension(name, options) end

---PostgreSQL only: enables row-level security on a table.
---@param table_name string
---@param options? rbacmig.EnableRlsOptions
function Db:enable_rls(table_name, options) end

---PostgreSQL only: disables (and un-forces) row-level security on a table.
---@param table_name string
---@param options? rbacmig.SchemaOption
function Db:disable_rls(table_name, options) end

---PostgreSQL only: creates a row-level security policy.
---@param table_name string
---@param name string
---@param options rbacmig.PolicyOptions
function Db:create_policy(table_name, name, options) end

---PostgreSQL only: drops a policy.
---@param table_name string
---@param name string
---@param options? rbacmig.DropPolicyOptions
function Db:drop_policy(table_name, name, options) end

---PostgreSQL only: creates a function (or, with procedure = true, a procedure).
---@param name string
---@param options rbacmig.FunctionOptions
function Db:create_function(name, options) end

---PostgreSQL only: drops a function.
---@param name string
---@param options? rbacmig.DropFunctionOptions
function Db:drop_function(name, options) end

---PostgreSQL only: creates a trigger that executes a function.
---@param table_name string
---@param name string
---@param options rbacmig.TriggerOptions
function Db:create_trigger(table_name, name, options) end

---PostgreSQL only: drops a trigger.
---@param table_name string
---@param name string
---@param options? rbacmig.DropOptions
function Db:drop_trigger(table_name, name, options) end

---PostgreSQL only: grants privileges on objects to roles ("public" is PUBLIC).
---@param privileges string|string[] e.g. "select", { "select", "insert" }, "all"
---@param objects string|string[] names of objects of options.type
---@param roles string|string[]
---@param options? rbacmig.GrantOptions
function Db:grant(privileges, objects, roles, options) end

---PostgreSQL only: revokes privileges.
---@param privileges string|string[]
---@param objects string|string[]
---@param roles string|string[]
---@param options? rbacmig.RevokeOptions
function Db:revoke(privileges, objects, roles, options) end

---@class rbacmig.AlterTableOptions: rbacmig.SchemaOption
---@field unlogged? boolean true: SET UNLOGGED; false: SET LOGGED
---@field options? string SET (storage parameters), as SQL
---@field reset_options? string|string[] RESET these storage parameters

---PostgreSQL only: changes a table's attributes in place (UNLOGGED/LOGGED, storage parameters).
---@param name string
---@param options rbacmig.AlterTableOptions
function Db:alter_table(name, options) end

---@class rbacmig.EnableTriggerOptions: rbacmig.SchemaOption
---@field mode? "origin"|"replica"|"always" default origin (ENABLE TRIGGER)

---PostgreSQL only: makes a trigger fire (in origin sessions, replicas or always).
---@param table_name string
---@param name string
---@param options? rbacmig.EnableTriggerOptions
function Db:enable_trigger(table_name, name, options) end

---PostgreSQL only: stops a trigger from firing.
---@param table_name string
---@param name string
---@param options? rbacmig.SchemaOption
function Db:disable_trigger(table_name, name, options) end

---Creates a view (a plain view on SQLite; materialized views and view options on PostgreSQL).
---@param name string
---@param options rbacmig.CreateViewOptions
function Db:create_view(name, options) end

---Drops a view (materialized = true for a materialized view).
---@param name string
---@param options? rbacmig.DropViewOptions
function Db:drop_view(name, options) end

---PostgreSQL only: forces row-level security on the table's owner too.
---@param table_name string
---@param options? rbacmig.SchemaOption
function Db:force_rls(table_name, options) end

---PostgreSQL only: stops forcing row-level security on the table's owner.
---@param table_name string
---@param options? rbacmig.SchemaOption
function Db:no_force_rls(table_name, options) end

---PostgreSQL only: changes a function or procedure in place (attributes, settings, owner).
---@param name string
---@param options rbacmig.AlterFunctionOptions
function Db:alter_function(name, options) end

---PostgreSQL only: creates an enum type (values may be an empty list).
---@param name string
---@param values string[]
---@param options? rbacmig.SchemaOption
function Db:create_enum(name, values, options) end

---PostgreSQL only: drops an enum type.
---@param name string
---@param options? rbacmig.DropOptions
function Db:drop_enum(name, options) end

---PostgreSQL only: adds a value to an enum (usable only after the transaction commits).
---@param name string
---@param value string
---@param options? rbacmig.AddEnumValueOptions
function Db:add_enum_value(name, value, options) end

---PostgreSQL only: renames a value of an enum.
---@param name string
---@param old string
---@param new string
---@param options? rbacmig.SchemaOption
function Db:rename_enum_value(name, old, new, options) end

---PostgreSQL only: creates a sequence.
---@param name string
---@param options? rbacmig.CreateSequenceOptions
function Db:create_sequence(name, options) end

---PostgreSQL only: changes a sequence.
---@param name string
---@param options rbacmig.AlterSequenceOptions
function Db:alter_sequence(name, options) end

---PostgreSQL only: drops a sequence.
---@param name string
---@param options? rbacmig.DropOptions
function Db:drop_sequence(name, options) end

---PostgreSQL only: sets (text) or removes (nil) an object's comment.
---@param kind rbacmig.CommentKind
---@param name string "table.column" for a column
---@param text string|nil
---@param options? rbacmig.CommentOptions
function Db:comment_on(kind, name, text, options) end

---PostgreSQL only: default privileges on objects created later (ALTER DEFAULT PRIVILEGES ... GRANT).
---@param privileges string|string[]
---@param on rbacmig.DefaultObjects
---@param roles string|string[]
---@param options? rbacmig.GrantDefaultOptions
function Db:grant_default(privileges, on, roles, options) end

---PostgreSQL only: ALTER DEFAULT PRIVILEGES ... REVOKE.
---@param privileges string|string[]
---@param on rbacmig.DefaultObjects
---@param roles string|string[]
---@param options? rbacmig.RevokeDefaultOptions
function Db:revoke_default(privileges, on, roles, options) end

---PostgreSQL only: ALTER ... OWNER TO role.
---@param kind rbacmig.OwnedKind
---@param name string
---@param role string a role, or "current_user", "session_user", "current_role"
---@param options? rbacmig.SetOwnerOptions
function Db:set_owner(kind, name, role, options) end

---Inserts rows (tables keyed by column name) with multi-row INSERTs and bound parameters;
---returns the affected row count.
---@param table_name string
---@param rows table<string, rbacmig.Value>[]
---@param options? rbacmig.BulkInsertOptions
---@return integer
function Db:bulk_insert(table_name, rows, options) end

---Runs any one SQL statement with $1..$n parameters (the same as db:exec).
---@param sql string
---@param ... rbacmig.Value
---@return integer
function Db:execute(sql, ...) end

---A migration file's table (see README "Migration files"); annotate it with
---`---@type rbacmig.Migration` above `return {`, or the functions with `---@param db rbacmig.Db`.
---@class rbacmig.Migration
---@field revision string
---@field down_revision? string|string[] parent; a list for a merge; nil for the root
---@field branch_labels? string[]
---@field depends_on? string[]
---@field message? string
---@field transactional? boolean false: run outside a transaction
---@field upgrade fun(db: rbacmig.Db)
---@field downgrade? fun(db: rbacmig.Db)
