-- The suites run where migrations run: in rbacmig's sandbox, with the modules the binary
-- embeds. What lua_runner grants a suite (read_file, debug) stays in the suite's own _ENV:
-- a chunk loaded like a migration and a module it requires still see none of it.

local T = require("harness")
local test, eq, check = T.test, T.eq, T.check

-- The names no migration may reach; the first two are the runner's grants to suites.
local GUARDED = { "read_file", "debug", "io", "loadfile", "dofile", "package", "exit",
                  "execute", "_G" }

-- The names of GUARDED that env has (a table with GUARDED's names as keys).
local function reachable(env)
  local found = {}
  for _, name in ipairs(GUARDED) do
    if env[name] ~= nil then found[#found + 1] = name end
  end
  return table.concat(found, ", ")
end

test("the suite has the runner's grants", function()
  eq(type(read_file), "function", "read_file")
  eq(type(debug.getinfo), "function", "debug.getinfo")
  check(read_file("tests/lua/test_sandbox.lua"):find("stays in the suite's own _ENV", 1, true),
    "read_file reads a fixture")
end)

test("a chunk loaded like a migration reaches none of them", function()
  local seen = load([[
    return { read_file = read_file, debug = debug, io = io, loadfile = loadfile,
             dofile = dofile, package = package, exit = os.exit, execute = os.execute,
             _G = _G }]], "=migration")()
  eq(reachable(seen), "", "reachable from a migration")
end)

test("a module the suite requires reaches none of them", function()
  eq(reachable(require("sandbox_probe")), "", "reachable from a module")
end)

test("rbacmig's modules are the embedded bytecode, not lua/ on disk", function()
  local rbac = require("rbacmig.rbac")
  local info = debug.getinfo(rbac.is_slug, "S")
  eq(info.source, "=[rbacmig] rbacmig.rbac", "where rbac.is_slug comes from")
  local ok, err = pcall(require, "rbacmig.no_such_module")
  check(not ok and err:find("not embedded in rbacmig", 1, true), tostring(err))
end)

return T.done()
