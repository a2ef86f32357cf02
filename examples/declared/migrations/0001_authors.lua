-- authors
--
-- Revision ID: 0001
-- Revises:
-- Create Date: 2026-12-03 12:00:00

return {
  revision = "0001",
  down_revision = nil,
  message = "authors",

  upgrade = function(db)
    db:create_table("authors", {
      { "id", "integer", primary_key = true },
      { "name", "text", not_null = true },
    })
  end,

  downgrade = function(db)
    db:drop_table("authors")
  end,
}
