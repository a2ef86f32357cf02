-- add slug to posts, backfilled, then required
--
-- Revision ID: 3c4d5e6f7081
-- Revises: 2b3c4d5e6f70
-- Create Date: 2026-11-25 16:22:00

-- The classic three-step column change: add it nullable, backfill, then make it NOT NULL.
-- On SQLite the last step is a table rebuild; on PostgreSQL an ALTER COLUMN. The backfill is
-- one UPDATE the database computes (lower and replace exist in both), so it runs the same
-- online and in an `upgrade --sql` script; a loop over db:query() rows could not: under
-- --sql there is no database to read from.
local slug = [[lower(replace(replace(trim(title), '''', '-'), ' ', '-'))]]

return {
  revision = "3c4d5e6f7081",
  down_revision = "2b3c4d5e6f70",
  message = "add slug to posts",

  upgrade = function(db)
    db:add_column("posts", { "slug", "text" })
    db:exec("UPDATE posts SET slug = " .. slug)
    db:alter_column("posts", "slug", { nullable = false })
    db:create_unique_constraint("posts", "posts_author_slug_key", { "author_id", "slug" })
  end,

  downgrade = function(db)
    db:drop_constraint("posts", "posts_author_slug_key")
    db:drop_column("posts", "slug")
  end,
}
