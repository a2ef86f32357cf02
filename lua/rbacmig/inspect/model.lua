-- rbacmig.inspect.model: the normalised schema model the readers fill and diff compares, and
-- its text rendering. A model is plain data:
--
--   { dialect = "postgresql"|"sqlite",
--     profile = "supabase" | nil,
--     schemas = { "public", ... },                    -- the managed ones, sorted
--     objects = { [kind] = { [identity] = { attribute = value, ... } } },
--     not_compared = { [what] = count } }             -- in scope but not modelled
--
-- An identity is stable text: a table is schema.name, a column table.name, a policy
-- table.name, a function schema.name(argument types), a grant "object TO grantee". A value is
-- a string, an integer, a boolean or a list of strings; an absent attribute is nil (so a
-- default and an unset attribute read the same). Two models of equal schemas are equal
-- tables, and render to the same bytes: everything is sorted.
--
-- Pure: depends on nothing but base, string and table.

local M = {}

-- Kinds in the order a dump shows them: containers before what they contain.
M.KINDS = {
  "schema", "extension", "enum", "sequence", "table", "column", "constraint", "index", "view",
  "function", "trigger", "policy", "grant", "default_privilege",
}
local KIND_RANK = {}
for i, k in ipairs(M.KINDS) do KIND_RANK[k] = i end
M.KIND_RANK = KIND_RANK

function M.new(dialect)
  local objects = {}
  for _, k in ipairs(M.KINDS) do objects[k] = {} end
  return { dialect = dialect, schemas = {}, objects = objects, not_compared = {} }
end

-- Adds an object; a second object with the same identity is a reader bug, not data.
function M.add(model, kind, id, attrs)
  local of = model.objects[kind]
  if not of then error("inspect: unknown kind '" .. tostring(kind) .. "'", 2) end
  if of[id] then error(string.format("inspect: two %ss named '%s'", kind, id), 2) end
  of[id] = attrs
  return attrs
end

function M.count(model, what, n)
  if n and n > 0 then model.not_compared[what] = (model.not_compared[what] or 0) + n end
end

-- Sorted keys of a table (byte order: identities never depend on the locale).
function M.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- Whether two attribute values are equal (lists item by item).
function M.same(a, b)
  if type(a) == "table" and type(b) == "table" then
    if #a ~= #b then return false end
    for i = 1, #a do
      if a[i] ~= b[i] then return false end
    end
    return true
  end
  return a == b
end

---------------------------------------------------------------------------------------------
-- Text rendering: one block per object, "kind identity" then "  attribute: value" lines,
-- sorted; a value of several lines follows its attribute as "    | line" lines. Made for
-- `diff -u` of two dumps.
---------------------------------------------------------------------------------------------

-- A value on one line, unless it has several.
local function scalar(v)
  if type(v) == "string" then
    -- Control characters (terminal escapes) are shown, never sent to the terminal.
    return (v:gsub("[%c]", function(c)
      if c == "\n" or c == "\t" then return c end
      return string.format("\\x%02x", c:byte())
    end))
  end
  return tostring(v)
end

function M.value_text(v)
  if type(v) == "table" then
    local items = {}
    for i, item in ipairs(v) do
      local s = scalar(item)
      if s == "" or s:find("[,%[%]\"%s]") then s = string.format("%q", s) end
      items[i] = s
    end
    return "[" .. table.concat(items, ", ") .. "]"
  end
  return scalar(v)
end

local function render_attr(lines, name, v)
  local s = M.value_text(v)
  if s:find("\n", 1, true) then
    lines[#lines + 1] = "  " .. name .. ":"
    for line in (s .. "\n"):gmatch("(.-)\n") do
      lines[#lines + 1] = "    | " .. line
    end
  else
    lines[#lines + 1] = "  " .. name .. ": " .. s
  end
end

function M.render_object(lines, kind, id, attrs)
  lines[#lines + 1] = kind .. " " .. scalar(id)
  for _, name in ipairs(M.sorted_keys(attrs)) do
    render_attr(lines, name, attrs[name])
  end
end

-- The header of a dump: dialect, scope and what was not compared.
function M.header(model)
  local lines = { "-- rbacmig schema dump (" .. model.dialect .. ")" }
  if model.dialect == "postgresql" then
    lines[#lines + 1] = "-- managed schemas: " .. table.concat(model.schemas, ", ")
      .. (model.profile and " (profile: " .. model.profile .. ")" or "")
  end
  local nc = {}
  for _, what in ipairs(M.sorted_keys(model.not_compared)) do
    nc[#nc + 1] = string.format("%d %s", model.not_compared[what], what)
  end
  lines[#lines + 1] = "-- not compared: " .. (#nc > 0 and table.concat(nc, ", ") or "nothing")
  return lines
end

function M.render_text(model)
  local lines = M.header(model)
  for _, kind in ipairs(M.KINDS) do
    local of = model.objects[kind]
    for _, id in ipairs(M.sorted_keys(of)) do
      M.render_object(lines, kind, id, of[id])
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

return M
