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
-- however deep the check is; public(fn) re-raises its text at level 2, so the position is the
-- caller's line, not a line of rbacmig's modules. Any other error (a SQL error from the host,
-- a bug) passes unchanged.
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

-- fn wrapped so that an ArgError it raises blames the wrapper's caller; every result of fn
-- is returned.
function M.public(fn)
  return function(...)
    local r = table.pack(pcall(fn, ...))
    if r[1] then return table.unpack(r, 2, r.n) end
    if getmetatable(r[2]) == ArgError then error(r[2].message, 2) end
    error(r[2], 0)
  end
end

-- An error as a command line shows it: a table (a host error object) as it is, a message
-- without the position inside rbacmig's own modules ("[rbacmig] rbacmig.rbac:12: "), which
-- would only be noise where the message names the value ("unknown tenant 'acme'").
function M.message(err)
  if type(err) == "table" then return err end
  return (tostring(err):gsub("^%[rbacmig%][^:]*:%d+: ", ""))
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
