// One monitoring pass over each configured log: verify the new tree head, prove it
// extends the stored one, scan exactly the leaves it commits to, classify matches,
// report, and only then store the new tree.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { TrustMaterial } from '../verify/index.js';
import { isKeylessError } from '../core/errors.js';
import type { LogTarget, MonitorConfig } from './config.js';
import { MonitorError, inconsistent } from './errors.js';
import { Frontier } from './frontier.js';
import type { Fetcher } from './http.js';
import { CertificateCache, Matcher, parsePrecertTbs, type IdentityMatch } from './match.js';
import type { Metrics } from './metrics.js';
import type { Alert, Notifier } from './notify.js';
import { openSource, type LogHead, type ScanEntry } from './sources.js';
import { appendDurably, fileSize, readState, rollBackOutput, writeState, type LogState, type StateFile } from './state.js';

/** Exit statuses, worst first: a dishonest log, an unexpected signing event, a log we could not read. */
export const MONITOR_EXIT = { OK: 0, FAILURE: 1, CONFIG: 2, UNEXPECTED: 3, INCONSISTENT: 4 } as const;

export interface MonitorOptions {
  config: MonitorConfig;
  trust: TrustMaterial;
  fetcher: Fetcher;
  stateFile?: string;
  /** Requests in flight per log (default 16). */
  concurrency?: number;
  notifiers?: Notifier[];
  metrics?: Metrics;
  /** One line per event for the operator (the CLI writes them to stderr). */
  report?(line: string): void;
}

export interface LogScanResult {
  log: LogTarget;
  outcome: 'ok' | 'unexpected' | 'inconsistent' | 'failed';
  error?: MonitorError | Error;
  fromSize: number;
  toSize: number;
  scanned: number;
  matches: IdentityMatch[];
  untrusted: number;
}

export interface PassResult {
  logs: LogScanResult[];
  exitCode: number;
}

const stateKey = (t: LogTarget) => `${t.kind} ${t.url}`;

/** Text line in rekor-monitor's format: the non-empty fields, space separated. */
export function textLine(m: IdentityMatch): string {
  return [
    m.CertSubject,
    m.Issuer,
    m.Fingerprint,
    m.Subject,
    String(m.Index),
    m.UUID,
    m.OIDExtension ? m.OIDExtension.join('.') : '',
    m.ExtensionValue,
  ]
    .filter((s) => s.trim() !== '')
    .join(' ');
}

export function jsonLine(m: IdentityMatch): string {
  const {
    MatchedIdentity,
    CertSubject,
    Issuer,
    Fingerprint,
    Subject,
    Index,
    UUID,
    OIDExtension,
    ExtensionValue,
    unexpected,
    expectedBy,
    log,
  } = m;
  return JSON.stringify({
    MatchedIdentity,
    CertSubject,
    Issuer,
    Fingerprint,
    Subject,
    Index,
    UUID,
    OIDExtension,
    ExtensionValue,
    unexpected,
    ...(expectedBy ? { expectedBy } : {}),
    log,
  });
}

/** Runs one pass over every log of the configuration. */
export async function monitorOnce(options: MonitorOptions): Promise<PassResult> {
  const results: LogScanResult[] = [];
  for (const target of options.config.logs) results.push(await scanLog(target, options));
  const codes = results.map((r) =>
    r.outcome === 'inconsistent'
      ? MONITOR_EXIT.INCONSISTENT
      : r.outcome === 'unexpected'
        ? MONITOR_EXIT.UNEXPECTED
        : r.outcome === 'failed'
          ? MONITOR_EXIT.FAILURE
          : MONITOR_EXIT.OK,
  );
  const order = [MONITOR_EXIT.INCONSISTENT, MONITOR_EXIT.UNEXPECTED, MONITOR_EXIT.FAILURE];
  const exitCode = order.find((c) => codes.includes(c)) ?? MONITOR_EXIT.OK;
  if (options.metrics) options.metrics.healthy = !codes.includes(MONITOR_EXIT.FAILURE);
  writeLogInfo(options, results);
  return { logs: results, exitCode };
}

function writeLogInfo(options: MonitorOptions, results: LogScanResult[]): void {
  const { logInfoFile, identityMetadataFile } = options.config;
  if (logInfoFile) {
    const info = results.map((r) => ({
      log: r.log.url,
      kind: r.log.kind,
      outcome: r.outcome,
      treeSize: r.toSize,
      scannedFrom: r.fromSize,
      scanned: r.scanned,
      matches: r.matches.length,
      unexpected: r.matches.filter((m) => m.unexpected).length,
      untrusted: r.untrusted,
      ...(r.error ? { error: r.error.message } : {}),
    }));
    writeFileSync(logInfoFile, `${JSON.stringify(info, null, 1)}\n`);
  }
  if (identityMetadataFile) {
    const done = results.filter((r) => r.outcome !== 'failed' && r.outcome !== 'inconsistent');
    if (done.length > 0)
      writeFileSync(identityMetadataFile, `${JSON.stringify({ LatestIndex: Math.max(...done.map((r) => r.toSize - 1)) })}\n`);
  }
}

async function scanLog(target: LogTarget, options: MonitorOptions): Promise<LogScanResult> {
  const { config, metrics } = options;
  const labels = { log: target.url, api: target.kind };
  const result: LogScanResult = { log: target, outcome: 'ok', fromSize: 0, toSize: 0, scanned: 0, matches: [], untrusted: 0 };
  const report = options.report ?? (() => undefined);
  const state = readState(options.stateFile);
  const key = stateKey(target);
  const stored = state.logs[key];
  try {
    if (stored?.pending) {
      rollBackOutput(stored.pending);
      delete stored.pending;
      writeState(options.stateFile, state);
    }
    const source = openSource(target, { fetcher: options.fetcher, trust: options.trust, concurrency: options.concurrency ?? 16 });
    const head = await source.head();
    let frontier: Frontier;
    if (stored) {
      frontier = storedFrontier(stored, options.stateFile);
      checkAgainstStored(stored, head, target);
      await source.proveConsistency({ size: stored.size, rootHash: Buffer.from(stored.rootHash, 'base64') }, head);
    } else {
      let start = config.startIndex ?? head.size;
      if (start > head.size) {
        report(`${target.url}: startIndex ${start} is beyond the tree size ${head.size}; starting at ${head.size}`);
        start = head.size;
      }
      frontier = start === 0 ? Frontier.empty() : await source.frontierAt(start, head);
    }
    result.fromSize = frontier.size;
    result.toSize = head.size;
    metrics?.set('keyless_monitor_scan_lag_entries', labels, head.size - frontier.size);
    const matchEnd = config.endIndex === undefined ? head.size : Math.min(head.size, config.endIndex + 1);
    const scan = new Scan(options, target, head.origin);
    for await (const batch of source.entries(frontier.size, head.size, head)) {
      for (const entry of batch) {
        if (entry.index !== frontier.size)
          throw inconsistent('entry-order', `${target.url}: expected entry ${frontier.size}, got ${entry.index}`);
        frontier.append(entry.leaf);
        if (entry.index < matchEnd) scan.entry(entry);
      }
      metrics?.add('keyless_monitor_entries_scanned_total', labels, batch.length);
      metrics?.set('keyless_monitor_scan_lag_entries', labels, head.size - frontier.size);
    }
    result.scanned = head.size - result.fromSize;
    const root = frontier.root();
    if (!root.equals(head.rootHash)) {
      throw inconsistent(
        'tree-root',
        `${target.url}: the entries do not hash to the checkpoint's root at size ${head.size} (or the tree does not extend the stored one)`,
        {
          expected: head.rootHash.toString('base64'),
          actual: root.toString('base64'),
        },
      );
    }
    result.matches = scan.matches;
    result.untrusted = scan.untrusted;
    await reportMatches(options, target, head, state, key, result);
    state.logs[key] = {
      kind: target.kind,
      url: target.url,
      origin: head.origin,
      size: head.size,
      rootHash: head.rootHash.toString('base64'),
      frontier: frontier.toJSON(),
      signed: head.signed,
    };
    writeState(options.stateFile, state);
    metrics?.set('keyless_monitor_verified_tree_size', labels, head.size);
    metrics?.add('keyless_monitor_matches_total', labels, result.matches.length);
    metrics?.add('keyless_monitor_unexpected_total', labels, result.matches.filter((m) => m.unexpected).length);
    metrics?.add('keyless_monitor_untrusted_total', labels, result.untrusted);
    metrics?.set('keyless_monitor_last_scan_timestamp_seconds', labels, Math.floor(Date.now() / 1000));
    if (result.matches.some((m) => m.unexpected)) result.outcome = 'unexpected';
  } catch (e) {
    result.error = e as Error;
    if (isKeylessError(e) && e.code === 'MONITOR_LOG_INCONSISTENT') {
      result.outcome = 'inconsistent';
      metrics?.add('keyless_monitor_consistency_failures_total', labels);
      report(`LOG INCONSISTENT ${target.url}: ${(e as Error).message}`);
      await notifyAll(options, {
        kind: 'log-inconsistent',
        log: stored?.origin ?? target.url,
        url: target.url,
        check: e.check ?? '',
        message: (e as Error).message,
      });
    } else if (isKeylessError(e) && e.code === 'MONITOR_STATE_INVALID') {
      throw e;
    } else {
      result.outcome = 'failed';
      metrics?.add('keyless_monitor_errors_total', labels);
      report(`error ${target.url}: ${(e as Error).message}`);
    }
  }
  return result;
}

function storedFrontier(stored: LogState, file: string | undefined): Frontier {
  let f: Frontier;
  try {
    f = Frontier.of(
      stored.size,
      stored.frontier.map((h) => Buffer.from(h, 'base64')),
    );
  } catch {
    throw new MonitorError('MONITOR_STATE_INVALID', `state file ${file}: the stored frontier does not fit a tree of ${stored.size}`);
  }
  if (f.root().toString('base64') !== stored.rootHash)
    throw new MonitorError('MONITOR_STATE_INVALID', `state file ${file}: the stored frontier does not hash to the stored root`);
  return f;
}

function checkAgainstStored(stored: LogState, head: LogHead, target: LogTarget): void {
  if (head.origin !== stored.origin)
    throw inconsistent(
      'origin',
      `${target.url}: the log now signs as ${JSON.stringify(head.origin)}, the stored tree is from ${JSON.stringify(stored.origin)}`,
    );
  if (head.size < stored.size) {
    throw inconsistent('tree-size', `${target.url}: the tree shrank from ${stored.size} to ${head.size} entries`, {
      expected: `>= ${stored.size}`,
      actual: head.size,
    });
  }
  if (head.size === stored.size && head.rootHash.toString('base64') !== stored.rootHash) {
    throw inconsistent('tree-root', `${target.url}: a different root for the same size ${head.size} (a forked history)`, {
      expected: stored.rootHash,
      actual: head.rootHash.toString('base64'),
    });
  }
}

/** Write-ahead: mark the report pending (with the output file's length), write it, notify. */
async function reportMatches(
  options: MonitorOptions,
  target: LogTarget,
  head: LogHead,
  state: StateFile,
  key: string,
  result: LogScanResult,
): Promise<void> {
  const { config } = options;
  const report = options.report ?? (() => undefined);
  if (result.matches.length === 0) return;
  const out = config.outputIdentities;
  const stored = state.logs[key];
  if (out && stored) {
    stored.pending = { outputFile: out, offset: fileSize(out) };
    writeState(options.stateFile, state);
  }
  if (out)
    appendDurably(out, result.matches.map((m) => `${config.outputIdentitiesFormat === 'json' ? jsonLine(m) : textLine(m)}\n`).join(''));
  for (const m of result.matches) {
    report(m.unexpected ? `UNEXPECTED ${head.origin} ${textLine(m)}` : `expected ${head.origin} ${textLine(m)} (${m.expectedBy})`);
  }
  const unexpected = result.matches.filter((m) => m.unexpected);
  if (unexpected.length > 0)
    await notifyAll(options, { kind: 'unexpected-entries', log: head.origin, url: target.url, entries: unexpected });
}

async function notifyAll(options: MonitorOptions, alert: Alert): Promise<void> {
  for (const n of options.notifiers ?? []) {
    try {
      await n.notify(alert);
    } catch (e) {
      options.report?.(`notifier ${n.name} failed: ${(e as Error).message}`);
    }
  }
}

/** Matching state of one scan: the certificate cache, trusted CA keys, the matches so far. */
class Scan {
  readonly matches: IdentityMatch[] = [];
  untrusted = 0;
  private readonly matcher: Matcher;
  private readonly cache = new CertificateCache();
  private caKeyHashes: Map<string, { validFor: { start: Date | undefined; end: Date | undefined } }[]> | undefined;

  constructor(
    private readonly options: MonitorOptions,
    target: LogTarget,
    private readonly origin: string,
  ) {
    this.matcher = new Matcher(options.config);
    void target;
  }

  entry(e: ScanEntry): void {
    if (!this.matcher.watchesSomething) return;
    const facts = { index: e.index, log: this.origin, ...(e.uuid ? { uuid: e.uuid } : {}) };
    const before = this.matches.length;
    const authorities = this.options.trust.x509.certificateAuthorities;
    for (const v of e.verifiers()) {
      if (v.certKey !== undefined) {
        const p = this.cache.get(v.certKey, v.cert);
        if (!p || !this.matcher.mayMatch(p)) continue;
        if (!this.cache.isTrusted(p, authorities, e.time)) {
          this.untrusted++;
          continue;
        }
        this.matcher.matchCertificate(p, facts, this.matches);
      } else {
        this.matcher.matchKey(v.key, facts, this.matches);
      }
    }
    const pre = e.precert?.();
    if (pre) {
      const cert = parsePrecertTbs(pre.tbs);
      if (cert) {
        const p = { cert, sans: [] as string[], issuer: cert.oidcIssuer, fingerprint: createHash('sha256').update(pre.tbs).digest('hex') };
        const sans = cert.subjectAltNames;
        for (const t of ['dns', 'email', 'ip', 'uri'] as const) for (const s of sans) if (s.type === t) p.sans.push(s.value as string);
        for (const s of sans) if (s.type === 'otherName') p.sans.push(s.value);
        if (this.matcher.mayMatch(p)) {
          if (this.precertTrusted(pre.issuerKeyHash, cert, e.time)) this.matcher.matchCertificate(p, facts, this.matches);
          else this.untrusted++;
        }
      }
    }
    // One entry may name the same identity twice (a DSSE envelope with two signatures by one key).
    if (this.matches.length - before > 1) dedupe(this.matches, before);
  }

  /** A precertificate counts when its issuer is a trusted CA key valid at the logged time (the log checked the signature). */
  private precertTrusted(issuerKeyHash: Buffer, cert: { validAt(t: Date): boolean; notBefore: Date }, time: Date | undefined): boolean {
    if (!this.caKeyHashes) {
      this.caKeyHashes = new Map();
      for (const ca of this.options.trust.x509.certificateAuthorities) {
        const h = createHash('sha256').update(ca.certChain[0]!.spkiDer).digest('hex');
        this.caKeyHashes.set(h, [...(this.caKeyHashes.get(h) ?? []), { validFor: ca.validFor }]);
      }
    }
    const at = time ?? cert.notBefore;
    const cas = this.caKeyHashes.get(issuerKeyHash.toString('hex')) ?? [];
    return (
      cert.validAt(at) &&
      cas.some((c) => c.validFor.start !== undefined && at >= c.validFor.start && (!c.validFor.end || at <= c.validFor.end))
    );
  }
}

function dedupe(matches: IdentityMatch[], from: number): void {
  const seen = new Set<string>();
  let w = from;
  for (let r = from; r < matches.length; r++) {
    const k = jsonLine(matches[r]!);
    if (seen.has(k)) continue;
    seen.add(k);
    matches[w++] = matches[r]!;
  }
  matches.length = w;
}
