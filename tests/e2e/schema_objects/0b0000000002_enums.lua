-- Enums (PostgreSQL): create, add values before and after, rename a value.
return {
  revision = "0b0000000002",
  down_revision = "0b0000000001",
  message = "enums",
  upgrade = function(db)
    if db.dialect ~= "postgresql" then return end
    db:create_enum("mood", { "sad", "ok" })
    db:create_enum("empty_enum", {})
    db:add_enum_value("mood", "happy", { after = "ok" })
    db:add_enum_value("mood", "awful", { before = "sad" })
    db:add_enum_value("mood", "happy", { if_not_exists = true })
    db:rename_enum_value("mood", "ok", "fine")
    db:create_table("moods", { { "id", "integer", primary_key = true }, { "m", "mood" } })
  end,
  downgrade = function(db)
    if db.dialect ~= "postgresql" then return end
    db:drop_table("moods")
    db:drop_enum("empty_enum")
    db:drop_enum("mood", { if_exists = true })
  end,
}
