-- seed authors and posts
--
-- Revision ID: 2b3c4d5e6f70
-- Revises: 1a2b3c4d5e6f
-- Create Date: 2026-11-25 16:21:00

return {
  revision = "2b3c4d5e6f70",
  down_revision = "1a2b3c4d5e6f",
  message = "seed authors and posts",

  upgrade = function(db)
    db:bulk_insert("authors", {
      { name = "Ursula", email = "ursula@example.com" },
      { name = "Octavia", email = "octavia@example.com" },
    })
    -- Values are always parameters: a quote in the data is just data. The author's id is
    -- looked up by the statement, not read back into Lua, so this also works under --sql
    -- (where there is no database to read from).
    db:exec("INSERT INTO posts (author_id, title, published) " ..
            "SELECT id, $1, $2 FROM authors WHERE email = $3",
            "It's a fine day", true, "ursula@example.com")
  end,

  downgrade = function(db)
    db:exec("DELETE FROM authors WHERE email IN ($1, $2)", "ursula@example.com", "octavia@example.com")
  end,
}
