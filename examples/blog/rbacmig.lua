-- The blog example's configuration. Run from this directory:
--   rbacmig upgrade head             (SQLite: blog.db)
--   rbacmig -d postgresql://... upgrade head
return {
  database_url = "sqlite:blog.db",
  migrations = "migrations",
}
