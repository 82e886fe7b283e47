// A node:test reporter for scripts/run-tests.mjs: writes, as JSON, the test files that failed
// before any of their tests started (`notStarted`) and whether anything else failed. A file
// that never starts is run once more by run-tests.mjs: on Node 20 a test process has been
// seen to hang for good while tsx's loader hooks load the file (idle, no test started), which
// says nothing about the code under test. A file that fails that way twice fails the run.
export default async function* notStartedReporter(source) {
  const started = new Set();
  const fileFailures = new Set();
  let otherFailures = 0;
  for await (const { type, data } of source) {
    if (type !== 'test:start' && type !== 'test:fail') continue;
    // The test standing for a whole file is named after the file; its tests carry it in `file`.
    const isFile = data.file !== undefined && data.name === data.file;
    if (type === 'test:start' && !isFile && data.file !== undefined) started.add(data.file);
    if (type === 'test:fail') {
      if (isFile) fileFailures.add(data.file);
      else otherFailures++;
    }
  }
  const notStarted = [...fileFailures].filter((f) => !started.has(f));
  yield JSON.stringify({ notStarted, otherFailures: otherFailures + fileFailures.size - notStarted.length });
}
