// Prometheus text exposition of the monitor's counters and /healthz, on --monitor-port.
import { createServer, type Server } from 'node:http';

type Labels = Record<string, string>;

const HELP: Record<string, [string, 'counter' | 'gauge']> = {
  keyless_monitor_entries_scanned_total: ['Log entries fetched, hashed against the checkpoint and matched', 'counter'],
  keyless_monitor_matches_total: ['Entries matching a monitored value (trusted certificates only)', 'counter'],
  keyless_monitor_unexpected_total: ['Matches no expectation allows', 'counter'],
  keyless_monitor_untrusted_total: ['Certificates that would match but do not chain to a trusted CA', 'counter'],
  keyless_monitor_consistency_failures_total: ['Checkpoints or entries contradicting the stored tree or the log key', 'counter'],
  keyless_monitor_errors_total: ['Scans that failed: log unreachable or answering garbage', 'counter'],
  keyless_monitor_verified_tree_size: ['Size of the last verified tree', 'gauge'],
  keyless_monitor_scan_lag_entries: ['Entries in the latest checkpoint not yet scanned', 'gauge'],
  keyless_monitor_last_scan_timestamp_seconds: ['End of the last completed scan', 'gauge'],
};

export class Metrics {
  private readonly values = new Map<string, Map<string, number>>();
  healthy = true;

  private key(labels: Labels): string {
    return Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
      .join(',');
  }

  add(name: string, labels: Labels, by = 1): void {
    const m = this.values.get(name) ?? new Map<string, number>();
    this.values.set(name, m);
    const k = this.key(labels);
    m.set(k, (m.get(k) ?? 0) + by);
  }

  set(name: string, labels: Labels, value: number): void {
    const m = this.values.get(name) ?? new Map<string, number>();
    this.values.set(name, m);
    m.set(this.key(labels), value);
  }

  get(name: string, labels: Labels): number | undefined {
    return this.values.get(name)?.get(this.key(labels));
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, [help, type]] of Object.entries(HELP)) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of this.values.get(name) ?? []) lines.push(`${name}{${labels}} ${v}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/** Serves /metrics and /healthz; resolves with the server once it listens. */
export function serveMetrics(metrics: Metrics, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return void res.writeHead(405).end();
    if (path === '/metrics') return void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.render());
    if (path === '/healthz')
      return void res.writeHead(metrics.healthy ? 200 : 503, { 'content-type': 'text/plain' }).end(metrics.healthy ? 'ok\n' : 'failing\n');
    res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
