-- index published posts without blocking writes
--
-- Revision ID: 4d5e6f708192
-- Revises: 3c4d5e6f7081
-- Create Date: 2026-11-25 16:23:00

-- CREATE INDEX CONCURRENTLY cannot run inside a transaction on PostgreSQL, so this
-- migration is non-transactional (through a transaction-mode pooler, use the direct URL).
return {
  revision = "4d5e6f708192",
  down_revision = "3c4d5e6f7081",
  message = "index published posts",
  transactional = false,

  upgrade = function(db)
    db:create_index("posts", { "author_id" }, {
      name = "posts_published_idx", where = "published", concurrently = true,
    })
  end,

  downgrade = function(db)
    db:drop_index("posts_published_idx", { table = "posts", concurrently = true })
  end,
}
