// `keyless monitor`: reads the configuration, the trusted root and the environment
// (webhook HMAC key), runs passes and maps their outcome to the exit status.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import {
  Metrics,
  MONITOR_EXIT,
  MonitorError,
  commandNotifier,
  httpFetcher,
  monitorOnce,
  parseMonitorConfig,
  serveMetrics,
  webhookNotifier,
  type LogTarget,
  type MonitorConfig,
  type Notifier,
  type PassResult,
} from '../../monitor/index.js';
import { PRODUCTION_TRUSTED_ROOT, trustMaterialFor } from '../../verify/index.js';
import { isKeylessError } from '../../core/errors.js';
import type { MonitorCommandOptions } from './monitor.js';

const say = (line: string) => process.stderr.write(`${line}\n`);

class UsageError extends Error {}

function loadConfig(opts: MonitorCommandOptions): MonitorConfig {
  if (opts.configFile && opts.config) throw new UsageError('give --config-file or --config, not both');
  let text = opts.config ?? '';
  if (opts.configFile) {
    try {
      text = readFileSync(opts.configFile, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read --config-file ${opts.configFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return parseMonitorConfig(text);
}

async function targetFromFlags(opts: MonitorCommandOptions, fetcherTimeout: number): Promise<LogTarget | undefined> {
  if (!opts.url) {
    if (opts.ct || opts.apiVersion) throw new UsageError('--ct and --api-version describe --url, which is missing');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new UsageError(`--url ${opts.url} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--url must be an http(s) URL');
  const base = opts.url.replace(/\/+$/, '');
  if (opts.ct) {
    if (opts.apiVersion) throw new UsageError('--ct and --api-version exclude each other');
    return { url: base, kind: 'ct' };
  }
  if (opts.apiVersion) return { url: base, kind: opts.apiVersion === 1 ? 'rekor-v1' : 'rekor-v2' };
  // Detection is a convenience: a base serving a tlog-tiles checkpoint is read as Rekor v2.
  try {
    const res = await fetch(`${base}/checkpoint`, { signal: AbortSignal.timeout(Math.min(fetcherTimeout, 10_000)) });
    await res.arrayBuffer();
    return { url: base, kind: res.ok ? 'rekor-v2' : 'rekor-v1' };
  } catch {
    return { url: base, kind: 'rekor-v1' };
  }
}

function notifiers(config: MonitorConfig): Notifier[] {
  const out: Notifier[] = [];
  if (config.webhook) {
    let hmacKey: string | undefined;
    if (config.webhook.hmacSecretEnv) {
      hmacKey = process.env[config.webhook.hmacSecretEnv];
      if (!hmacKey)
        throw new MonitorError(
          'MONITOR_CONFIG_INVALID',
          `config notifications.webhook.hmacSecretEnv: environment variable ${config.webhook.hmacSecretEnv} is not set`,
        );
    }
    out.push(webhookNotifier({ url: config.webhook.url, retries: config.webhook.retries, ...(hmacKey ? { hmacKey } : {}) }));
  }
  if (config.command) out.push(commandNotifier(config.command));
  return out;
}

function summary(result: PassResult): void {
  for (const r of result.logs) {
    const unexpected = r.matches.filter((m) => m.unexpected).length;
    const what =
      r.outcome === 'failed' || r.outcome === 'inconsistent'
        ? `${r.outcome === 'failed' ? 'FAILED' : 'INCONSISTENT'} (state kept)`
        : `verified tree size ${r.toSize}, scanned ${r.scanned} entries from ${r.fromSize}: ${r.matches.length} matches, ${unexpected} unexpected, ${r.untrusted} untrusted`;
    say(`monitor: ${r.log.url} (${r.log.kind}): ${what}`);
  }
}

export async function runMonitorCommand(opts: MonitorCommandOptions): Promise<void> {
  let metricsServer: Server | undefined;
  try {
    if (opts.once && opts.interval) throw new UsageError('--once and --interval exclude each other');
    const config = loadConfig(opts);
    for (const w of config.warnings) say(`warning: ${w}`);
    const fetcher = httpFetcher({ timeoutMs: opts.timeout, ...(opts.userAgent ? { userAgent: opts.userAgent } : {}) });
    const flagTarget = await targetFromFlags(opts, opts.timeout);
    if (flagTarget) config.logs = [flagTarget, ...config.logs.filter((l) => l.url !== flagTarget.url || l.kind !== flagTarget.kind)];
    if (config.logs.length === 0) throw new UsageError('no log to monitor: give --url or rekorLogs/ctLogs in the configuration');
    let rootJson: unknown = PRODUCTION_TRUSTED_ROOT;
    if (opts.trustedRoot) {
      try {
        rootJson = JSON.parse(readFileSync(opts.trustedRoot, 'utf8'));
      } catch (e) {
        throw new UsageError(`--trusted-root ${opts.trustedRoot}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    const trust = trustMaterialFor(rootJson);
    const metrics = new Metrics();
    if (opts.monitorPort !== undefined) {
      metricsServer = await serveMetrics(metrics, opts.monitorPort);
      const addr = metricsServer.address();
      say(`monitor: metrics on http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : opts.monitorPort}/metrics`);
    }
    const options = {
      config,
      trust,
      fetcher,
      metrics,
      notifiers: notifiers(config),
      report: say,
      concurrency: opts.concurrency,
      ...(opts.file ? { stateFile: opts.file } : {}),
    };
    if (!opts.interval) {
      const result = await monitorOnce(options);
      summary(result);
      process.exitCode = result.exitCode;
      return;
    }
    // Service mode: a pass every interval until SIGTERM/SIGINT; the worst outcome so far is the exit status.
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((r) => (stop = r));
    let stopping = false;
    const onSignal = () => {
      stopping = true;
      stop();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    let worst = 0;
    while (!stopping) {
      const result = await monitorOnce(options);
      summary(result);
      if (
        result.exitCode === MONITOR_EXIT.INCONSISTENT ||
        (result.exitCode === MONITOR_EXIT.UNEXPECTED && worst !== MONITOR_EXIT.INCONSISTENT)
      )
        worst = result.exitCode;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise<void>((r) => (timer = setTimeout(r, opts.interval)))]);
      clearTimeout(timer);
    }
    process.exitCode = worst;
  } catch (e) {
    if (e instanceof UsageError || (isKeylessError(e) && e.code === 'MONITOR_CONFIG_INVALID')) {
      say(`error: ${(e as Error).message}`);
      process.exitCode = MONITOR_EXIT.CONFIG;
      return;
    }
    if (isKeylessError(e)) {
      say(`error: ${e.message}`);
      process.exitCode = MONITOR_EXIT.FAILURE;
      return;
    }
    throw e;
  } finally {
    metricsServer?.close();
  }
}
