-- rbacmig.autogen.emit: Lua source text for generated migrations, written the way a person
-- writes a migration: `db:add_column("tenants", { "plan", "text", not_null = true })`.
-- Values become Lua literals (strings quoted, text of several lines as a long string whose
-- level is chosen so the text cannot end it), code such as db.fn.now() is passed through
-- as code, and a call too long for one line puts each option on a line of its own.
--
-- Pure: depends on nothing but base, string and table.

local M = {}

-- Code written as is where a value would go (db.fn.now(), db.fn.raw("...")).
local Code = {}
function M.code(text) return setmetatable({ text = text }, Code) end
local function is_code(v) return getmetatable(v) == Code end

-- An ordered table: M.fields{ {"name", value}, ... } keeps its keys in the order given.
local Fields = {}
function M.fields(list) return setmetatable({ list = list }, Fields) end

local LINE = 100

-- A string as a Lua literal: "..." on one line, a long string when it has several lines.
function M.string(s)
  if s:find("\n", 1, true) and not s:find("[%z\1-\8\11-\31\127]") then
    local eq = ""
    while s:find("]" .. eq .. "]", 1, true) or s:sub(-#eq - 1) == "]" .. eq do
      eq = eq .. "="
    end
    -- A long string drops the newline right after its opening bracket: one more keeps it.
    local lead = s:sub(1, 1) == "\n" and "\n" or ""
    return "[" .. eq .. "[" .. lead .. s .. "]" .. eq .. "]"
  end
  return (string.format("%q", s):gsub("\\\n", "\\n"))
end

local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or repeat "
    .. "return then true until while"):gmatch("%S+") do KEYWORDS[w] = true end

local function key_text(k)
  if type(k) == "string" and k:find("^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
  return "[" .. M.value(k) .. "]"
end

local function is_list(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

-- The fields of a Fields value or list, each as "key = value" or "value".
local function items_of(v)
  local items = {}
  if getmetatable(v) == Fields then
    for _, kv in ipairs(v.list) do
      if kv[1] == nil then items[#items + 1] = M.value(kv[2])
      elseif kv[2] ~= nil then items[#items + 1] = key_text(kv[1]) .. " = " .. M.value(kv[2]) end
    end
  else
    for i, item in ipairs(v) do items[i] = M.value(item) end
  end
  return items
end

-- A value as Lua source on one line (a long string may span several).
function M.value(v)
  local t = type(v)
  if t == "string" then return M.string(v) end
  if t == "number" then
    if math.type(v) == "integer" then return string.format("%d", v) end
    return string.format("%.17g", v)
  end
  if t == "boolean" or t == "nil" then return tostring(v) end
  if is_code(v) then return v.text end
  local items
  if getmetatable(v) == Fields or is_list(v) then
    items = items_of(v)
  else
    items = {}
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do items[#items + 1] = key_text(k) .. " = " .. M.value(v[k]) end
  end
  if #items == 0 then return "{}" end
  return "{ " .. table.concat(items, ", ") .. " }"
end

-- The step that runs `sql` as written, db:exec("..."): what the schema API cannot say.
function M.exec_step(ctx, sql)
  return { code = ctx.indent .. "db:exec(" .. M.string(sql) .. ")" }
end

-- `db:op(arg, ...)` at `indent`; the last table argument is spread over lines when the call
-- is too long or holds text of several lines. `lines` (a list of column specs) spreads the
-- list argument one item a line.
function M.call(indent, op, args, opts)
  opts = opts or {}
  local parts = {}
  for i, a in ipairs(args) do parts[i] = M.value(a) end
  local one = indent .. "db:" .. op .. "(" .. table.concat(parts, ", ") .. ")"
  local spread = opts.spread
  if opts.one_line or not spread and #one <= LINE and not one:find("\n", 1, true) then
    return one
  end
  -- Spread the last table argument (or the one named by opts.spread_arg).
  local at = opts.spread_arg or #args
  local a = args[at]
  if type(a) ~= "table" or is_code(a) then return one end
  local inner = indent .. "  "
  local items = items_of(a)
  if getmetatable(a) ~= Fields and not is_list(a) then return one end
  local head = {}
  for i = 1, at - 1 do head[i] = parts[i] end
  local out = indent .. "db:" .. op .. "(" .. table.concat(head, ", ") .. (at > 1 and ", " or "")
    .. "{\n"
  for _, item in ipairs(items) do out = out .. inner .. item .. ",\n" end
  out = out .. indent .. "}"
  for i = at + 1, #args do
    local a2 = args[i]
    -- An options table after the spread one that would make a long line is spread too.
    if #indent + 3 + #parts[i] > LINE and type(a2) == "table" and not is_code(a2) then
      out = out .. ", {\n"
      for _, item in ipairs(items_of(a2)) do out = out .. inner .. item .. ",\n" end
      out = out .. indent .. "}"
    else
      out = out .. ", " .. parts[i]
    end
  end
  return out .. ")"
end

return M
