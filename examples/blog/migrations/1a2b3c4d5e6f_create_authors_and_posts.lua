-- create authors and posts
--
-- Revision ID: 1a2b3c4d5e6f
-- Revises:
-- Create Date: 2026-11-25 16:20:00

return {
  revision = "1a2b3c4d5e6f",
  down_revision = nil,
  message = "create authors and posts",

  upgrade = function(db)
    db:create_table("authors", {
      { "id", "bigserial", primary_key = true },
      { "name", "text", not_null = true },
      { "email", "varchar(320)", not_null = true, unique = true },
      { "created_at", "timestamptz", not_null = true, default = db.fn.now() },
    })
    db:create_table("posts", {
      { "id", "bigserial", primary_key = true },
      { "author_id", "bigint", not_null = true, references = "authors.id", on_delete = "cascade" },
      { "title", "text", not_null = true },
      { "body", "text", not_null = true, default = "" },
      { "published", "boolean", not_null = true, default = false },
    }, { unique = { { "author_id", "title" } } })
    db:create_index("posts", { "author_id" })
  end,

  downgrade = function(db)
    db:drop_table("posts")
    db:drop_table("authors")
  end,
}
