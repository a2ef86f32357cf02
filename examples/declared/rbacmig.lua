-- The declared-schema example (README.md): migrations/ holds what has been released,
-- schema/ what the schema should be; `rbacmig revision --autogenerate` writes the difference.
return {
  migrations = "migrations",
  schema_dir = "schema",
}
