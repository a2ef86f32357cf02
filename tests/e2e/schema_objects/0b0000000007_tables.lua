-- Table and column attributes the reader keeps: collations and generated columns (both
-- dialects); identity columns, UNLOGGED, storage parameters, partitioning (PostgreSQL).
return {
  revision = "0b0000000007",
  down_revision = "0b0000000006",
  message = "table and column attributes",
  upgrade = function(db)
    local pg = db.dialect == "postgresql"
    db:create_table("people", {
      { "id", "bigint", primary_key = true },
      { "name", "text", not_null = true, collation = pg and "C" or "NOCASE" },
      { "shout", "text", generated = "upper(name)" },
    })
    if not pg then return end
    db:create_table("events", {
      { "id", "bigint", identity = "always" },
      { "n", "integer", identity = "by default" },
      { "at", "date", not_null = true },
    }, { partition_by = "RANGE (at)" })
    db:create_table("events_2026", {}, { partition_of = "events",
      bound = "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')" })
    db:create_table("events_other", {}, { partition_of = "public.events", bound = "DEFAULT" })
    db:create_table("scratch", { { "x", "integer" } },
      { unlogged = true, options = "fillfactor=70, autovacuum_enabled=false" })
    db:create_view("people_mv", { as = "SELECT id FROM people", materialized = true,
      options = "fillfactor=50" })
  end,
  downgrade = function(db)
    if db.dialect == "postgresql" then
      db:drop_view("people_mv", { materialized = true })
      db:drop_table("scratch")
      db:drop_table("events")
    end
    db:drop_table("people")
  end,
}
