-- Functions and procedures (PostgreSQL): settings, parallel, cost, rows, a procedure, and
-- alter_function's changes in place.
return {
  revision = "0b0000000004",
  down_revision = "0b0000000003",
  message = "functions",
  upgrade = function(db)
    if db.dialect ~= "postgresql" then return end
    db:create_function("item_names", {
      args = "min integer", returns = "setof text", language = "sql", volatility = "stable",
      parallel = "safe", cost = 5, rows = 20, security = "definer",
      settings = { search_path = "", work_mem = "8MB" },
      body = "SELECT name FROM public.items WHERE price >= min",
    })
    db:create_function("ordered_settings", {
      returns = "integer", language = "sql", parallel = "restricted", strict = true,
      settings = { { "work_mem", "4MB" }, { "search_path", { "pg_catalog", "public" } } },
      body = "SELECT 1",
    })
    db:create_function("bump_price", { procedure = true, args = { "p_id integer" },
      language = "plpgsql", settings = { search_path = { "public" } },
      body = "BEGIN UPDATE items SET price = price + 1 WHERE id = p_id; END" })
    db:alter_function("ordered_settings", { volatility = "immutable", strict = false,
      parallel = "safe", cost = 50, reset = "work_mem", settings = { statement_timeout = "5s" } })
    db:alter_function("item_names", { args = "integer", reset = "all", security = "invoker" })
    db:alter_function("bump_price", { procedure = true, args = "integer",
      settings = { lock_timeout = 1000 } })
  end,
  downgrade = function(db)
    if db.dialect ~= "postgresql" then return end
    db:drop_function("bump_price", { procedure = true, args = "integer" })
    db:drop_function("ordered_settings")
    db:drop_function("item_names", { args = { "integer" } })
  end,
}
