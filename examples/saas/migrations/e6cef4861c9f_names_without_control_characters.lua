-- names without control characters
--
-- Revision ID: e6cef4861c9f
-- Revises: 91759229c32b
-- Create Date: 2026-12-03 10:48:34
--
-- Tenant names and role names are shown on one line, by the CLI and by the
-- application. On Supabase a tenant admin writes both through the Data API
-- (PostgREST), so the database is the only place that sees every writer: a
-- newline, tab or terminal escape in a name could forge lines ("owner" for
-- someone not in the tenant) or send escapes to whoever reads it (issue 12,
-- item 8). These checks refuse C0 controls (tab and newline included), DEL
-- and the C1 controls U+0080..U+009F. rbacmig itself escapes what it prints
-- (rbac.printable) and refuses such names before writing (rbac.create_tenant).
--
-- Slugs, permission names and template names already allow only [a-z0-9_.-].
-- Existing rows that break a check make the upgrade fail, naming the
-- constraint: rename them first.
--
-- PostgreSQL gets CHECK constraints. SQLite gets the same test as BEFORE
-- INSERT and UPDATE triggers: adding a CHECK there rebuilds the table, which
-- --sql cannot do (there is no live definition to copy) and which would turn
-- foreign keys off around tenants, the parent of every tenant-scoped row.

-- The characters refused, as a PostgreSQL regular expression and as a SQLite
-- GLOB character class (GLOB ranges compare code points; GLOB stops at a NUL,
-- which SQLite text can hold and PostgreSQL text cannot, hence instr()).
local PG_BAD = [[name ~ '[\x01-\x1f\x7f-\x9f]']]
local SQLITE_BAD = "(name GLOB '*[' || char(1) || '-' || char(31) || char(127) || '-' || char(159)"
  .. " || ']*' OR instr(name, char(0)) > 0)"

local CHECKS = {
  { "tenants", "tenants_name_printable_check" },
  { "roles", "roles_name_printable_check" },
}

return {
  revision = "e6cef4861c9f",
  down_revision = "91759229c32b",
  message = "names without control characters",

  upgrade = function(db)
    if db.dialect == "postgresql" then
      for _, c in ipairs(CHECKS) do
        db:create_check_constraint(c[1], c[2], "NOT (" .. PG_BAD .. ")")
      end
      return
    end
    for _, c in ipairs(CHECKS) do
      local tbl, name = c[1], c[2]
      if not db.offline then
        local bad = db:scalar("SELECT count(*) FROM " .. tbl .. " WHERE " .. SQLITE_BAD)
        if tonumber(bad) > 0 then
          error(("%s: %d row(s) of %s break %s: rename them first"):format(
            "names without control characters", bad, tbl, name), 0)
        end
      end
      for _, event in ipairs({ "INSERT", "UPDATE OF name" }) do
        db:exec(("CREATE TRIGGER %s_%s BEFORE %s ON %s FOR EACH ROW WHEN %s"
          .. " BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: %s'); END"):format(
          name, event == "INSERT" and "insert" or "update", event, tbl,
          (SQLITE_BAD:gsub("name", "NEW.name")), name))
      end
    end
  end,

  downgrade = function(db)
    for i = #CHECKS, 1, -1 do
      local tbl, name = CHECKS[i][1], CHECKS[i][2]
      if db.dialect == "postgresql" then
        db:drop_constraint(tbl, name)
      else
        db:exec("DROP TRIGGER IF EXISTS " .. name .. "_update")
        db:exec("DROP TRIGGER IF EXISTS " .. name .. "_insert")
      end
    end
  end,
}
