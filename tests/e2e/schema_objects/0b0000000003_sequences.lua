-- Sequences (PostgreSQL): every attribute, an owning column, then changes in place.
return {
  revision = "0b0000000003",
  down_revision = "0b0000000002",
  message = "sequences",
  upgrade = function(db)
    if db.dialect ~= "postgresql" then return end
    db:create_sequence("ticket_seq", { as = "integer", start = 100, increment = 5,
      min_value = 10, max_value = 100000, cache = 3, cycle = true })
    db:create_table("tickets", { { "id", "integer" } })
    db:create_sequence("tickets_id_seq", { as = "bigint", owned_by = "tickets.id" })
    db:alter_sequence("ticket_seq", { increment = 7, max_value = "200000", cycle = false,
      restart = 105, cache = 1, owned_by = "public.tickets.id" })
    db:alter_sequence("ticket_seq", { owned_by = "none" })
  end,
  downgrade = function(db)
    if db.dialect ~= "postgresql" then return end
    db:drop_sequence("tickets_id_seq")
    db:drop_table("tickets")
    db:drop_sequence("ticket_seq", { if_exists = true, cascade = true })
  end,
}
