-- A `db` backed by a real SQLite file through the sqlite3 command-line shell, to check by hand
-- that the schema builder's SQLite rebuild works on a live database (the lead's end-to-end
-- tests do this through the real binary). Statements are collected and replayed in one
-- transaction: every query runs after the statements so far inside BEGIN ... ROLLBACK, and
-- commit() runs them all with COMMIT, with foreign keys on as the host keeps them.
--
--   local cli = require("schema_sqlite_cli")
--   local db = cli.new("/tmp/x.db")
--   db:alter_column("books", "title", { nullable = false })
--   cli.commit(db)

local R = require("schema_recorder")

local C = {}

-- Just enough JSON for `sqlite3 -json` output: arrays, objects, strings, numbers, null.
local function decode_json(s)
  local i = 1
  local function ws() i = s:find("[^ \t\r\n]", i) or #s + 1 end
  local value
  local function str()
    local out = {}
    i = i + 1
    while true do
      local c = s:sub(i, i)
      if c == '"' then i = i + 1 return table.concat(out) end
      if c == "\\" then
        local e = s:sub(i + 1, i + 1)
        if e == "u" then
          out[#out + 1] = utf8.char(tonumber(s:sub(i + 2, i + 5), 16))
          i = i + 6
        else
          out[#out + 1] = ({ n = "\n", t = "\t", r = "\r", b = "\b", f = "\f" })[e] or e
          i = i + 2
        end
      elseif c == "" then error("json: unterminated string")
      else
        out[#out + 1] = c
        i = i + 1
      end
    end
  end
  function value()
    ws()
    local c = s:sub(i, i)
    if c == "[" or c == "{" then
      local close, out, n = c == "[" and "]" or "}", {}, 0
      i = i + 1
      ws()
      if s:sub(i, i) == close then i = i + 1 return out end
      while true do
        if close == "}" then
          ws()
          local k = str()
          ws()
          i = i + 1 -- ':'
          out[k] = value()
        else
          n = n + 1
          out[n] = value()
        end
        ws()
        local sep = s:sub(i, i)
        i = i + 1
        if sep == close then return out end
      end
    elseif c == '"' then return str()
    elseif s:sub(i, i + 3) == "null" then i = i + 4 return nil
    else
      local num = s:match("^-?[%d.eE+-]+", i)
      i = i + #num
      return math.tointeger(tonumber(num)) or tonumber(num)
    end
  end
  ws()
  if i > #s then return {} end
  return value()
end

local function run(path, script)
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "w"))
  f:write(script)
  f:close()
  local p = assert(io.popen("sqlite3 -bail -json " .. path .. " < " .. tmp .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  os.remove(tmp)
  if not ok then error("sqlite3: " .. out, 0) end
  return out
end

local function replay(db)
  local out = { "PRAGMA foreign_keys = " .. (db.foreign_keys and "ON" or "OFF") .. ";\nBEGIN;\n" }
  for _, e in ipairs(db.log) do
    if not e.query then out[#out + 1] = R.inline(e.sql, e.params, "sqlite") .. ";\n" end
  end
  return table.concat(out)
end

-- foreign_keys: the connection setting to replay with (default on).
function C.new(path, foreign_keys)
  local db
  db = R.new("sqlite", {
    respond = function(sql, params)
      return decode_json(run(path, replay(db) .. R.inline(sql, params, "sqlite") .. ";\nROLLBACK;\n"))
    end,
  })
  db.foreign_keys = foreign_keys ~= false
  db.cli_path = path
  return db
end

function C.commit(db)
  return run(db.cli_path, replay(db) .. "COMMIT;\n")
end

function C.exec_file(path, script)
  return run(path, script)
end

C.decode_json = decode_json

return C
