// Notifiers: a generic webhook (POST JSON, retried, optional HMAC-SHA256 over the body
// with a key the caller takes from the environment) and a command that reads the alert
// JSON on stdin. Delivery is at least once: an alert of a scan that was interrupted
// before its state was saved is sent again.
import { createHmac } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { IdentityMatch } from './match.js';

export type Alert =
  | { kind: 'unexpected-entries'; log: string; url: string; entries: IdentityMatch[] }
  | { kind: 'log-inconsistent'; log: string; url: string; check: string; message: string };

export interface Notifier {
  readonly name: string;
  notify(alert: Alert): Promise<void>;
}

export const SIGNATURE_HEADER = 'x-keyless-signature';

export function webhookNotifier(options: { url: string; retries: number; hmacKey?: string; timeoutMs?: number }): Notifier {
  return {
    name: `webhook ${new URL(options.url).host}`,
    async notify(alert) {
      const body = JSON.stringify(alert);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'keyless-monitor' };
      if (options.hmacKey) headers[SIGNATURE_HEADER] = `sha256=${createHmac('sha256', options.hmacKey).update(body).digest('hex')}`;
      let last = '';
      for (let attempt = 0; attempt <= options.retries; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5000)));
        try {
          const res = await fetch(options.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
          await res.arrayBuffer();
          if (res.ok) return;
          last = `HTTP ${res.status}`;
          if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) break;
        } catch (e) {
          last = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
        }
      }
      throw new Error(`webhook ${options.url}: not delivered (${last})`);
    },
  };
}

export function commandNotifier(argv: readonly string[], env?: Record<string, string | undefined>): Notifier {
  return {
    name: `command ${argv[0]}`,
    notify(alert) {
      return new Promise((resolve, reject) => {
        const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'], ...(env ? { env } : {}) });
        let err = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-500)));
        child.once('error', (e) => reject(new Error(`command ${argv[0]}: ${e.message}`)));
        child.once('close', (code) =>
          code === 0 ? resolve() : reject(new Error(`command ${argv[0]} exited with ${code}: ${err.trim()}`)),
        );
        child.stdin.on('error', () => undefined);
        child.stdin.end(`${JSON.stringify(alert)}\n`);
      });
    },
  };
}
