-- Required by test_sandbox.lua: what a module, loaded as a migration's modules are, sees of
-- the names lua_runner grants its suites and of those the sandbox never gives.
return {
  read_file = read_file, debug = debug, io = io, loadfile = loadfile, dofile = dofile,
  package = package, exit = os.exit, execute = os.execute, _G = _G,
}
