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
    -- Values are always parameters: a quote in the data is just data.
    local ursula = db:scalar("SELECT id FROM authors WHERE email = $1", "ursula@example.com")
    db:exec("INSERT INTO posts (author_id, title, published) VALUES ($1, $2, $3)",
            ursula, "It's a fine day", true)
  end,

  downgrade = function(db)
    db:exec("DELETE FROM authors WHERE email IN ($1, $2)", "ursula@example.com", "octavia@example.com")
  end,
}
