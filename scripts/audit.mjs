// `npm audit --omit=dev` for CI: fails on any advisory against a runtime dependency. When
// the registry's advisory endpoint cannot be reached (some build networks only mirror
// package downloads), it says so on one line and does not fail the run.
import { spawnSync } from 'node:child_process';

const r = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' });
let report;
try {
  report = JSON.parse(r.stdout);
} catch {
  console.error(`npm audit: no report (exit ${r.status}): ${r.stderr.trim().split('\n').pop() ?? ''}`);
  process.exit(1);
}
if (report.metadata?.vulnerabilities) {
  const v = report.metadata.vulnerabilities;
  const total = Object.values(v).reduce((a, b) => a + b, 0);
  console.log(`npm audit --omit=dev: ${total} advisories (${JSON.stringify(v)})`);
  if (total > 0) {
    spawnSync('npm', ['audit', '--omit=dev'], { stdio: 'inherit' });
    process.exit(1);
  }
} else if (report.statusCode || report.message) {
  console.log(
    `npm audit --omit=dev: the advisory endpoint is unreachable from here (${report.statusCode ?? ''} ${report.message ?? ''}); not checked`,
  );
} else {
  console.error('npm audit: unexpected report shape');
  process.exit(1);
}
