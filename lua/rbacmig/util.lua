-- rbacmig.util: what rbacmig's Lua modules share: the error convention for mistakes in a
-- caller's arguments, how a value is shown in a message, the plain-list check and the
-- builder of numbered $n placeholders.
--
-- Depends on nothing but base, string, table and math: it runs inside the migration sandbox.

local M = {}

---------------------------------------------------------------------------------------------
-- Errors
---------------------------------------------------------------------------------------------

-- A mistake in a caller's arguments is raised inside a module as an ArgError value, from
-- however deep the check is, carrying its message without a position. Where it leaves
-- rbacmig's modules it gets the one position that means something to its reader: public(fn)
-- re-raises its text at level 2, the caller's line in a migration; call(fn) raises the text
-- alone, for a command line, which has no Lua line to show. Any other error (a SQL error from
-- the host, a bug) passes unchanged.
local ArgError = {}
ArgError.__tostring = function(e) return e.message end
M.ArgError = ArgError

-- Raises message as an ArgError; raise(fmt, ...) formats it first.
function M.fail(message)
  error(setmetatable({ message = message }, ArgError), 0)
end

function M.raise(fmt, ...)
  M.fail(string.format(fmt, ...))
end

function M.is_arg_error(e)
  return getmetatable(e) == ArgError
end

-- How many public functions (or calls) are running: only the outermost gives an ArgError its
-- position, so one public function calling another still blames the first one's caller.
local depth = 0

-- Runs fn(...) one level deeper; returns pcall's results as a packed table.
local function guarded(fn, ...)
  depth = depth + 1
  local r = table.pack(pcall(fn, ...))
  depth = depth - 1
  return r
end

-- fn wrapped so that an ArgError it raises blames the wrapper's caller; every result of fn
-- is returned.
function M.public(fn)
  return function(...)
    local r = guarded(fn, ...)
    if r[1] then return table.unpack(r, 2, r.n) end
    if depth == 0 and getmetatable(r[2]) == ArgError then error(r[2].message, 2) end
    error(r[2], 0)
  end
end

-- fn(...) for a command line (rbacmig.commands): its results, or its error raised as the
-- command shows it: an ArgError as its message alone ("rbac: unknown tenant 'acme'"), any
-- other error unchanged.
function M.call(fn, ...)
  local r = guarded(fn, ...)
  if r[1] then return table.unpack(r, 2, r.n) end
  if getmetatable(r[2]) == ArgError then error(r[2].message, 0) end
  error(r[2], 0)
end

---------------------------------------------------------------------------------------------
-- Values in messages
---------------------------------------------------------------------------------------------

-- A string quoted, anything else as tostring has it: "got 'x'", "got nil", "got 3".
function M.describe(v)
  if type(v) == "string" then return "'" .. v .. "'" end
  return tostring(v)
end

-- Returns n when t is a plain list (its keys exactly 1..n); otherwise nil and the first key
-- found that is not a list index (nil when the list only has holes).
function M.plain_list(t)
  local n, keys = #t, 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return nil, k end
    keys = keys + 1
  end
  if keys ~= n then return nil, nil end
  return n
end

---------------------------------------------------------------------------------------------
-- Placeholders
---------------------------------------------------------------------------------------------

-- Numbered placeholders, numbered as values are added, so that a statement and its
-- arguments are always built together: p:add(v) returns "$n" for v; p:list(values) the
-- placeholders of several, joined by ", "; table.unpack(p, 1, p.n) the arguments.
local Params = {}
Params.__index = Params

function M.params()
  return setmetatable({ n = 0 }, Params)
end

function Params:add(v)
  self.n = self.n + 1
  self[self.n] = v
  return "$" .. self.n
end

function Params:list(values)
  local out = {}
  for i, v in ipairs(values) do
    out[i] = self:add(v)
  end
  return table.concat(out, ", ")
end

return M
