-- The one harness of the Lua suites (tests/lua/test_*.lua). tests/lua_runner.c runs each
-- suite in rbacmig's own sandbox, where this module is found by the sandbox's `require` in
-- the suite's directory, like a project module of a migration:
--
--   local T = require("harness")
--   T.test("what the case shows", function()
--     T.eq(got, want, "what is compared")
--   end)
--   return T.done()
--
-- Cases run at once, in file order (a suite's top-level code between them runs in between),
-- each protected: a failed check ends its case with "FAIL <case>: <file:line>: <message>"
-- and the next case runs. done() prints "<n> passed, <m> failed" and returns the counts, from
-- which the runner's exit code follows. RBACMIG_TEST=<text> runs only the cases whose name
-- contains the text. Output goes through the sandbox's print, to stderr.

local T = {}

local passed, failed = 0, 0
local only = os.getenv("RBACMIG_TEST")

-- A value as a message shows it: strings quoted, so "" and " " differ from nothing.
function T.show(v)
  return type(v) == "string" and string.format("%q", v) or tostring(v)
end
local show = T.show

-- An error value as text: rbacmig's database errors are tables with a message.
local function message(e)
  if type(e) == "table" and e.message ~= nil then return tostring(e.message) end
  return tostring(e)
end

function T.test(name, fn)
  if only and not name:find(only, 1, true) then return end
  local ok, err = pcall(fn)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    print(string.format("FAIL %s: %s\n", name, message(err)))
  end
end

-- Each check raises at its caller's line (level 2), which the FAIL line then shows.
function T.check(cond, what)
  if not cond then error(what or "check failed", 2) end
  return cond
end

function T.eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what or "value", show(got), show(want)), 2)
  end
end

-- Two lists, item by item; a difference shows both items and all of `got`, one a line.
function T.same(got, want, what)
  for i = 1, math.max(#got, #want) do
    if got[i] ~= want[i] then
      error(string.format("%s %d differs\n--- want\n%s\n--- got\n%s\n--- all got\n%s",
        what or "item", i, tostring(want[i]), tostring(got[i]), table.concat(got, ";\n")), 2)
    end
  end
end

-- fn(...) must raise an error whose message contains `expected` (a string, or each string
-- of a list); returns the message.
function T.raises(expected, fn, ...)
  local parts = type(expected) == "table" and expected or { expected }
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error mentioning " .. show(parts[1]), 2) end
  err = message(err)
  for _, part in ipairs(parts) do
    if not err:find(part, 1, true) then
      error(string.format("error %s does not mention %s", show(err), show(part)), 2)
    end
  end
  return err
end

-- The end of a suite: `return T.done()`. The runner reads the counts it returns: it fails a
-- suite with a failed case, one that ran no case, and one that returns nothing (it stopped
-- before its end).
function T.done()
  print(string.format("%d passed, %d failed", passed, failed))
  return { passed = passed, failed = failed }
end

return T
