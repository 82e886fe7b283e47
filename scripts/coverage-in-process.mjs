// Loaded into each test file's process when `run-tests.mjs --coverage` runs. V8 coverage of
// this process is already on; dropping the variable keeps the processes a test spawns
// (bin/keyless, peers) from writing their own coverage of the bundled dist/ files, which
// Node 20's reporter cannot map back through their source maps (it crashes on them). The
// report covers the library code the tests run in-process.
delete process.env.NODE_V8_COVERAGE;
