-- The SaaS example's configuration. Run from this directory:
--   rbacmig upgrade head                  (SQLite: saas.db)
--   DATABASE_URL=postgresql://... rbacmig upgrade head
return {
  database_url = "sqlite:saas.db",
  migrations = "migrations",
  rbac = "rbac",
}
