-- A stand-in for the host's `db` object, for the schema builder's tests: it records every
-- db:exec instead of running it and answers db:query/db:scalar from a responder function, so
-- golden tests can compare the exact SQL and the SQLite rebuild can be fed captured
-- introspection rows. Methods come from rbacmig.schema the way the host installs them.

local schema = require("rbacmig.schema")

local R = {}

local function quote_ident(_, name)
  return '"' .. name:gsub('"', '""') .. '"'
end

-- options: offline (boolean), respond(sql, params) -> list of rows (for query/scalar).
function R.new(dialect, options)
  options = options or {}
  local methods = {}
  for k, v in pairs(schema) do methods[k] = v end
  local db = setmetatable({
    dialect = dialect, offline = options.offline or false, x = {}, schema = "public",
    log = {}, queries = {},
  }, { __index = methods })

  function methods.quote_ident(self, name) return quote_ident(self, name) end

  function methods.exec(self, sql, ...)
    assert(type(sql) == "string", "exec: sql must be a string")
    self.log[#self.log + 1] = { sql = sql, params = table.pack(...) }
    return 0
  end

  function methods.query(self, sql, ...)
    if self.offline then error("query is not available in --sql mode") end
    local params = table.pack(...)
    self.queries[#self.queries + 1] = { sql = sql, params = params }
    -- Statements run so far are visible to later queries, as in one transaction.
    self.log[#self.log + 1] = { sql = sql, params = params, query = true }
    local rows = options.respond and options.respond(sql, params, self)
    if rows == nil then error("recorder: no answer for query: " .. sql) end
    return rows
  end

  function methods.scalar(self, sql, ...)
    local row = self:query(sql, ...)[1]
    if row == nil then return nil end
    local _, v = next(row)
    return v
  end

  return db
end

-- The statements a db recorded, without the queries.
function R.statements(db)
  local out = {}
  for _, e in ipairs(db.log) do
    if not e.query then out[#out + 1] = e.sql end
  end
  return out
end

local function literal(v, dialect)
  if v == nil then return "NULL" end
  if type(v) == "boolean" then
    if dialect == "postgresql" then return v and "TRUE" or "FALSE" end
    return v and "1" or "0"
  end
  if type(v) == "number" then return tostring(v) end
  return "'" .. tostring(v):gsub("'", "''") .. "'"
end

-- A statement with its parameters inlined, as the host writes it in --sql mode.
function R.inline(sql, params, dialect)
  if params.n == 0 then return sql end
  return (sql:gsub("%$(%d+)", function(n) return literal(params[tonumber(n)], dialect) end))
end

-- The recorded statements as one script, ready for sqlite3 or psql.
function R.script(db)
  local out = {}
  for _, e in ipairs(db.log) do
    if not e.query then out[#out + 1] = R.inline(e.sql, e.params, db.dialect) .. ";\n" end
  end
  return table.concat(out)
end

return R
