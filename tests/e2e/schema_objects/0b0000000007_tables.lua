-- Table and column attributes the reader keeps: collations and generated columns (both
-- dialects); identity columns, UNLOGGED, storage parameters, partitioning, triggers that are
-- disabled or fire always or in replicas (PostgreSQL).
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
    db:alter_table("scratch", { unlogged = false, options = "fillfactor=80",
      reset_options = "autovacuum_enabled" })
    db:create_function("people_noop", { returns = "trigger", language = "plpgsql",
      body = "BEGIN RETURN NEW; END" })
    for _, t in ipairs({ "people_off", "people_always", "people_replica" }) do
      db:create_trigger("people", t, { timing = "before", events = "insert", for_each = "row",
        execute = "people_noop" })
    end
    db:disable_trigger("people", "people_off")
    db:enable_trigger("people", "people_always", { mode = "always" })
    db:enable_trigger("people", "people_replica", { mode = "replica" })
  end,
  downgrade = function(db)
    if db.dialect == "postgresql" then
      db:drop_view("people_mv", { materialized = true })
      db:drop_table("people")
      db:drop_function("people_noop")
      db:drop_table("scratch")
      db:drop_table("events")
      return
    end
    db:drop_table("people")
  end,
}
