-- Comments (PostgreSQL) on every kind the reader reads a comment of; the downgrade removes
-- them with nil (and drops what the upgrade created for them).
local function comments(db, text)
  local function t(s) return text and s or nil end
  db:comment_on("table", "items", t("what is for sale"))
  db:comment_on("column", "items.price", t("in cents"), { schema = "public" })
  db:comment_on("view", "cheap_items", t("under 10"))
  db:comment_on("materialized_view", "item_totals", t("refreshed nightly"))
  db:comment_on("function", "item_names", t("names at a price"), { args = "integer" })
  db:comment_on("procedure", "bump_price", t("one cent more"))
  db:comment_on("schema", "notes", t("the app's notes"))
  db:comment_on("type", "mood", t("how it's going"))
  db:comment_on("sequence", "ticket_seq", t("ticket numbers"))
  db:comment_on("index", "items_name_idx", t("by name"))
  db:comment_on("policy", "items_all", t("everyone"), { table = "items" })
  db:comment_on("trigger", "items_touch", t("a no-op"), { table = "items" })
  db:comment_on("constraint", "items_price_positive", t("no freebies"), { table = "items" })
end

return {
  revision = "0b0000000005",
  down_revision = "0b0000000004",
  message = "comments",
  upgrade = function(db)
    if db.dialect ~= "postgresql" then return end
    db:create_schema("notes")
    db:create_index("items", { "name" })
    db:create_policy("items", "items_all", { using = "true" })
    db:create_function("noop", { returns = "trigger", language = "plpgsql",
      body = "BEGIN RETURN NEW; END" })
    db:create_trigger("items", "items_touch", { timing = "before", events = "update",
      for_each = "row", execute = "noop" })
    db:create_check_constraint("items", "items_price_positive", "price > 0")
    comments(db, true)
  end,
  downgrade = function(db)
    if db.dialect ~= "postgresql" then return end
    comments(db, false)
    db:drop_constraint("items", "items_price_positive")
    db:drop_trigger("items", "items_touch")
    db:drop_function("noop")
    db:drop_policy("items", "items_all")
    db:drop_index("items_name_idx")
    db:drop_schema("notes")
  end,
}
