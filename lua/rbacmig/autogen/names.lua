-- rbacmig.autogen.names: the parts of the model's identities (rbacmig.inspect.model) and of
-- the server-printed definitions that the generator turns back into schema API arguments.
--
-- Pure: depends on nothing but base, string and table.

local M = {}

-- "public.t" -> "public", "t" (PostgreSQL); "t" -> nil, "t" (SQLite).
function M.split_table(dialect, id)
  if dialect == "sqlite" then return nil, id end
  local s, n = id:match("^([^.]+)%.(.+)$")
  return s, n
end

-- "public.t.c" -> "public.t", "c"; "t.c" -> "t", "c" (what is on a table).
function M.split_member(id)
  local t, n = id:match("^(.*)%.([^.]*)$")
  return t, n
end

-- SQLite constraint identities hold parentheses and dots ("t.foreign key(a) -> p(id)"): the
-- table is the part before the first dot.
function M.member_table(dialect, kind, id)
  if dialect == "sqlite" and kind == "constraint" then return id:match("^([^.]*)%.") end
  if dialect == "sqlite" and (kind == "trigger" or kind == "index" or kind == "column") then
    return id:match("^([^.]*)%.")
  end
  return (M.split_member(id))
end

-- "public.f(uuid, text)" -> "public", "f", "uuid, text".
function M.split_function(id)
  local s, n, args = id:match("^([^.]+)%.([^(]+)%((.*)%)$")
  return s, n, args
end

-- An identifier as the server prints it, unquoted ("a" stays a; "\"Odd\"" becomes Odd).
function M.unquote(s)
  s = s:match("^%s*(.-)%s*$")
  local inner = s:match('^"(.*)"$')
  if inner then return (inner:gsub('""', '"')) end
  return s
end

-- An identifier as SQL text: bare when the dialect reads it back unchanged (PostgreSQL folds
-- unquoted names to lower case, SQLite does not fold them), in double quotes otherwise.
local PLAIN = { postgresql = "^[a-z_][a-z0-9_$]*$", sqlite = "^[%a_][%w_]*$" }

function M.quote(dialect, name)
  if name:find(PLAIN[dialect]) then return name end
  return '"' .. name:gsub('"', '""') .. '"'
end

-- Items of a list at the top level of parentheses and quotes ("a, lower(b, c)" -> 2 items).
function M.split_top(s, sep)
  sep = sep or ","
  local items, depth, start, i, n = {}, 0, 1, 1, #s
  while i <= n do
    local c = s:sub(i, i)
    if c == "'" or c == '"' then
      local j = i + 1
      while j <= n do
        if s:sub(j, j) == c then
          if s:sub(j + 1, j + 1) == c then j = j + 1 else break end
        end
        j = j + 1
      end
      i = j
    elseif c == "(" or c == "[" then depth = depth + 1
    elseif c == ")" or c == "]" then depth = depth - 1
    elseif depth == 0 and s:sub(i, i + #sep - 1) == sep then
      items[#items + 1] = s:sub(start, i - 1):match("^%s*(.-)%s*$")
      start = i + #sep
      i = i + #sep - 1
    end
    i = i + 1
  end
  local last = s:sub(start):match("^%s*(.-)%s*$")
  if last ~= "" or #items > 0 then items[#items + 1] = last end
  return items
end

-- A list of column names as the server prints it ("a, \"B\"") or nil when an item is not a
-- plain name.
function M.column_names(s)
  local out = {}
  for i, item in ipairs(M.split_top(s)) do
    if not (item:find("^[%a_][%w_$]*$") or item:find('^"[^"]*"$')) then return nil end
    out[i] = M.unquote(item)
  end
  return out
end

-- The expression inside one pair of parentheses that wraps all of s, or nil.
function M.unwrap(s)
  if s:sub(1, 1) ~= "(" or s:sub(-1) ~= ")" then return nil end
  local depth = 0
  for i = 1, #s do
    local c = s:sub(i, i)
    if c == "(" then depth = depth + 1
    elseif c == ")" then
      depth = depth - 1
      if depth == 0 and i < #s then return nil end
    end
  end
  return s:sub(2, -2)
end

return M
