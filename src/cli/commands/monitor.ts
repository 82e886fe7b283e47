import { InvalidArgumentError, type Command } from 'commander';

function parseDuration(value: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('must be a duration such as 30s, 5m or 1h');
  const n = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be positive');
  return n;
}

function parseInteger(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return n;
  };
}

export interface MonitorCommandOptions {
  url?: string;
  apiVersion?: number;
  ct?: boolean;
  configFile?: string;
  config?: string;
  file?: string;
  once?: boolean;
  interval?: number;
  trustedRoot?: string;
  timeout: number;
  monitorPort?: number;
  concurrency: number;
  userAgent?: string;
}

/** `keyless monitor`: rekor-monitor's flags and YAML, for Rekor v1, Rekor v2 and CT logs. */
export function defineMonitorCommands(program: Command): void {
  program
    .command('monitor')
    .description(
      'watch transparency logs for signing events of your identities and check that the logs stay consistent (exit 3: unexpected event, 4: log inconsistent)',
    )
    .option('--url <url>', 'log base URL (Rekor v1, Rekor v2 / tlog-tiles, or CT with --ct)')
    .option('--api-version <n>', 'Rekor API of --url: 1 or 2 (default: 2 when the URL serves /checkpoint)', parseInteger(1, 2))
    .option('--ct', '--url is an RFC 6962 certificate transparency log')
    .option('--config-file <file>', 'YAML configuration (rekor-monitor\'s format; docs in README "Monitor your identity")')
    .option('--config <yaml>', 'YAML configuration given inline')
    .option('--file <state>', 'state file: the last verified tree of each log (written after each completed scan)')
    .option('--once', 'one pass, then exit (the default unless --interval is given)')
    .option('--interval <duration>', 'run as a service: a pass every DURATION (e.g. 5m)', parseDuration)
    .option('--trusted-root <file>', 'TrustedRoot JSON with the log keys and CAs (default: the public-good production root)')
    .option(
      '--timeout <duration>',
      'give up on a log that does not answer (a request with its retries) after this long (default 60s)',
      parseDuration,
      60_000,
    )
    .option('--monitor-port <port>', 'serve Prometheus /metrics and /healthz on this port (127.0.0.1)', parseInteger(0, 65535))
    .option('--concurrency <n>', 'requests in flight per log', parseInteger(1, 256), 16)
    .option('--user-agent <text>', 'User-Agent of the log requests')
    .action(async (opts: MonitorCommandOptions) => {
      const { runMonitorCommand } = await import('./monitor-run.js');
      await runMonitorCommand(opts);
    });
}
