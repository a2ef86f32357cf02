-- Views: a plain view on both dialects; on PostgreSQL also a security_invoker view with a
-- check option, a security_barrier view and a materialized view created without data.
return {
  revision = "0b0000000001",
  down_revision = nil,
  message = "views",
  upgrade = function(db)
    db:create_table("items", {
      { "id", "integer", primary_key = true }, { "name", "text" }, { "price", "integer" },
    })
    db:create_view("cheap_items", { as = "SELECT id, name FROM items WHERE price < 10;" })
    if db.dialect ~= "postgresql" then return end
    db:create_view("priced_items", {
      as = "SELECT id, name, price FROM items WHERE price IS NOT NULL -- a comment",
      security_invoker = true, check_option = "local",
    })
    db:create_view("guarded_items", { as = "SELECT id FROM items", security_barrier = true })
    db:create_view("guarded_items", { as = "SELECT id, name FROM items",
      security_barrier = true, security_invoker = false, replace = true })
    db:create_view("item_totals", { as = "SELECT count(*) AS n FROM items",
      materialized = true, with_data = false })
  end,
  downgrade = function(db)
    if db.dialect == "postgresql" then
      db:drop_view("item_totals", { materialized = true })
      db:drop_view("guarded_items")
      db:drop_view("priced_items", { if_exists = true })
    end
    db:drop_view("cheap_items")
    db:drop_table("items")
  end,
}
