// The monitor's YAML configuration: rekor-monitor's shape (so an existing file works
// unchanged) plus Keyless's `expected` expectations, several logs (MonitorConfig's
// rekorLogs/ctLogs) and notifiers. Patterns are JavaScript regular expressions applied
// like rekor-monitor's RE2 MatchString: unanchored, a match anywhere in the value.
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { configError } from './errors.js';

/** rekor-monitor's fulcioExtensions keys and the Fulcio OIDs they name. */
export const FULCIO_EXTENSION_OIDS: Readonly<Record<string, string>> = {
  'github-workflow-trigger': '1.3.6.1.4.1.57264.1.2',
  'github-workflow-sha': '1.3.6.1.4.1.57264.1.3',
  'github-workflow-name': '1.3.6.1.4.1.57264.1.4',
  'github-workflow-repository': '1.3.6.1.4.1.57264.1.5',
  'github-workflow-ref': '1.3.6.1.4.1.57264.1.6',
  'build-signer-uri': '1.3.6.1.4.1.57264.1.9',
  'build-signer-digest': '1.3.6.1.4.1.57264.1.10',
  'runner-environment': '1.3.6.1.4.1.57264.1.11',
  'source-repository-uri': '1.3.6.1.4.1.57264.1.12',
  'source-repository-digest': '1.3.6.1.4.1.57264.1.13',
  'source-repository-ref': '1.3.6.1.4.1.57264.1.14',
  'source-repository-identifier': '1.3.6.1.4.1.57264.1.15',
  'source-repository-owner-uri': '1.3.6.1.4.1.57264.1.16',
  'source-repository-owner-identifier': '1.3.6.1.4.1.57264.1.17',
  'build-config-uri': '1.3.6.1.4.1.57264.1.18',
  'build-config-digest': '1.3.6.1.4.1.57264.1.19',
  'build-trigger': '1.3.6.1.4.1.57264.1.20',
  'run-invocation-uri': '1.3.6.1.4.1.57264.1.21',
  'source-repository-visibility-at-signing': '1.3.6.1.4.1.57264.1.22',
};

/** One expectation: every key's pattern must match (`issuer` or a Fulcio extension). */
export interface Expectation {
  /** As written, for `expectedBy` in reports. */
  text: string;
  issuer?: RegExp;
  extensions: Array<{ oid: string; pattern: RegExp }>;
}

export interface CertIdentity {
  certSubject: RegExp;
  /** As written (rekor-monitor's MatchedIdentity). */
  certSubjectText: string;
  issuers: RegExp[];
  issuersText: string[];
  /** Absent: every match is unexpected. */
  expected?: Expectation[];
}

export interface OidMatcher {
  oid: string;
  values: string[];
}

export interface LogTarget {
  url: string;
  kind: 'rekor-v1' | 'rekor-v2' | 'ct';
  /** Expected checkpoint origin (MonitorConfig log_origin); optional. */
  origin?: string;
}

export interface WebhookConfig {
  url: string;
  /** Name of the environment variable holding the HMAC key (never the key itself). */
  hmacSecretEnv?: string;
  retries: number;
}

export interface MonitorConfig {
  startIndex?: number;
  endIndex?: number;
  certIdentities: CertIdentity[];
  subjects: Array<{ pattern: RegExp; text: string }>;
  fingerprints: string[];
  oidMatchers: OidMatcher[];
  outputIdentities?: string;
  outputIdentitiesFormat: 'text' | 'json';
  logInfoFile?: string;
  identityMetadataFile?: string;
  logs: LogTarget[];
  webhook?: WebhookConfig;
  command?: string[];
  /** Non-fatal remarks (unanchored patterns, ignored rekor-monitor keys). */
  warnings: string[];
}

/** rekor-monitor keys Keyless reads but does not act on (its own notifiers, its CA files). */
const IGNORED_KEYS = new Set([
  'githubIssue',
  'emailNotificationSMTP',
  'emailNotificationMailgun',
  'emailNotificationSendGrid',
  'caRootsFile',
  'caIntermediatesFile',
  'ctShards',
  'serverURL',
]);
const TOP_KEYS = new Set([
  'startIndex',
  'endIndex',
  'monitoredValues',
  'outputIdentities',
  'outputIdentitiesFormat',
  'logInfoFile',
  'identityMetadataFile',
  'rekorLogs',
  'ctLogs',
  'notifications',
  ...IGNORED_KEYS,
]);

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, key: string): Obj {
  if (!isObj(v)) throw configError(key, 'must be a map');
  return v;
}

function list(v: unknown, key: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw configError(key, 'must be a list');
  return v;
}

function str(v: unknown, key: string): string {
  if (typeof v !== 'string' || v.length === 0) throw configError(key, 'must be a non-empty string');
  return v;
}

function index(v: unknown, key: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw configError(key, 'must be a non-negative integer');
  return v;
}

function onlyKeys(o: Obj, key: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) throw configError(`${key}.${k}`, `unknown key (expected one of ${allowed.join(', ')})`);
}

/**
 * Compiles a pattern the way rekor-monitor applies it (a match anywhere). Warns when a
 * pattern has no anchors and contains a `.` that is not escaped: `user@domain.com` also
 * matches `user@domainXcom.evil.example`.
 */
function pattern(v: unknown, key: string, warnings: string[]): RegExp {
  const text = str(v, key);
  let re: RegExp;
  try {
    re = new RegExp(text, 'u');
  } catch (e) {
    throw configError(key, `invalid regular expression ${JSON.stringify(text)}: ${(e as Error).message}`);
  }
  if (!text.startsWith('^') || !text.endsWith('$')) {
    warnings.push(
      `${key}: pattern ${JSON.stringify(text)} is unanchored and matches anywhere in the value; write ^...$ to match the whole value`,
    );
  }
  return re;
}

function expectation(v: unknown, key: string, warnings: string[]): Expectation {
  const o = obj(v, key);
  if (Object.keys(o).length === 0) throw configError(key, 'an expectation needs at least one key');
  const e: Expectation = {
    text: Object.entries(o)
      .map(([k, p]) => `${k}=${String(p)}`)
      .join(','),
    extensions: [],
  };
  for (const [k, p] of Object.entries(o)) {
    if (k === 'issuer') e.issuer = pattern(p, `${key}.issuer`, warnings);
    else if (FULCIO_EXTENSION_OIDS[k]) e.extensions.push({ oid: FULCIO_EXTENSION_OIDS[k]!, pattern: pattern(p, `${key}.${k}`, warnings) });
    else
      throw configError(
        `${key}.${k}`,
        `unknown key (expected issuer or a Fulcio extension name: ${Object.keys(FULCIO_EXTENSION_OIDS).join(', ')})`,
      );
  }
  return e;
}

function dottedOid(v: unknown, key: string): string {
  if (Array.isArray(v)) {
    if (v.length < 2 || !v.every((n) => Number.isSafeInteger(n) && (n as number) >= 0))
      throw configError(key, 'must be a list of at least two non-negative integers');
    return v.join('.');
  }
  const s = str(v, key);
  if (!/^[0-9]+(\.[0-9]+)+$/.test(s)) throw configError(key, `${JSON.stringify(s)} is not a dotted object identifier`);
  return s;
}

function stringList(v: unknown, key: string): string[] {
  return list(v, key).map((s, i) => str(s, `${key}[${i}]`));
}

function logTargets(doc: Obj): LogTarget[] {
  const out: LogTarget[] = [];
  list(doc.rekorLogs, 'rekorLogs').forEach((l, i) => {
    const key = `rekorLogs[${i}]`;
    const o = obj(l, key);
    onlyKeys(o, key, ['readUrl', 'logOrigin', 'majorApiVersion']);
    const v = o.majorApiVersion;
    if (v !== 1 && v !== 2) throw configError(`${key}.majorApiVersion`, 'must be 1 or 2');
    out.push({
      url: url(o.readUrl, `${key}.readUrl`),
      kind: v === 1 ? 'rekor-v1' : 'rekor-v2',
      ...(o.logOrigin ? { origin: str(o.logOrigin, `${key}.logOrigin`) } : {}),
    });
  });
  list(doc.ctLogs, 'ctLogs').forEach((l, i) => {
    const key = `ctLogs[${i}]`;
    const o = obj(l, key);
    onlyKeys(o, key, ['readUrl', 'logOrigin', 'majorApiVersion']);
    out.push({
      url: url(o.readUrl, `${key}.readUrl`),
      kind: 'ct',
      ...(o.logOrigin ? { origin: str(o.logOrigin, `${key}.logOrigin`) } : {}),
    });
  });
  return out;
}

export function url(v: unknown, key: string): string {
  const s = str(v, key);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw configError(key, `${JSON.stringify(s)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw configError(key, 'must be an http(s) URL');
  return s.replace(/\/+$/, '');
}

/** Parses and checks the YAML text; throws MONITOR_CONFIG_INVALID naming the key. */
export function parseMonitorConfig(text: string): MonitorConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` at line ${e.linePos[0].line}` : '';
    throw configError('yaml', `not valid YAML${where}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) doc = {};
  const top = obj(doc, 'document');
  const warnings: string[] = [];
  for (const k of Object.keys(top)) {
    if (!TOP_KEYS.has(k)) throw configError(k, 'unknown key');
    if (IGNORED_KEYS.has(k))
      warnings.push(`${k}: not used by keyless monitor (CA trust comes from --trusted-root; notifiers from notifications:)`);
  }
  const mv = top.monitoredValues === undefined ? {} : obj(top.monitoredValues, 'monitoredValues');
  onlyKeys(mv, 'monitoredValues', ['certIdentities', 'subjects', 'fingerprints', 'oidMatchers']);
  const certIdentities = list(mv.certIdentities, 'monitoredValues.certIdentities').map((c, i): CertIdentity => {
    const key = `monitoredValues.certIdentities[${i}]`;
    const o = obj(c, key);
    onlyKeys(o, key, ['certSubject', 'issuers', 'expected']);
    const issuersText = stringList(o.issuers, `${key}.issuers`);
    const id: CertIdentity = {
      certSubject: pattern(o.certSubject, `${key}.certSubject`, warnings),
      certSubjectText: str(o.certSubject, `${key}.certSubject`),
      issuers: issuersText.map((s, j) => pattern(s, `${key}.issuers[${j}]`, warnings)),
      issuersText,
    };
    if (o.expected !== undefined)
      id.expected = list(o.expected, `${key}.expected`).map((e, j) => expectation(e, `${key}.expected[${j}]`, warnings));
    return id;
  });
  const subjects = stringList(mv.subjects, 'monitoredValues.subjects').map((s, i) => ({
    pattern: pattern(s, `monitoredValues.subjects[${i}]`, warnings),
    text: s,
  }));
  const fingerprints = stringList(mv.fingerprints, 'monitoredValues.fingerprints').map((f, i) => {
    const key = `monitoredValues.fingerprints[${i}]`;
    if (!/^[0-9a-fA-F]+$/.test(f)) throw configError(key, 'must be hexadecimal (SHA-256 of the DER certificate or public key)');
    return f.toLowerCase();
  });
  const oidMatchers: OidMatcher[] = [];
  if (mv.oidMatchers !== undefined) {
    const om = obj(mv.oidMatchers, 'monitoredValues.oidMatchers');
    onlyKeys(om, 'monitoredValues.oidMatchers', ['fulcioExtensions', 'oidExtensions', 'customExtensions']);
    if (om.fulcioExtensions !== undefined) {
      for (const [name, values] of Object.entries(obj(om.fulcioExtensions, 'monitoredValues.oidMatchers.fulcioExtensions'))) {
        const key = `monitoredValues.oidMatchers.fulcioExtensions.${name}`;
        const oid = FULCIO_EXTENSION_OIDS[name];
        if (!oid) throw configError(key, `unknown Fulcio extension (expected one of ${Object.keys(FULCIO_EXTENSION_OIDS).join(', ')})`);
        oidMatchers.push({ oid, values: stringList(values, key) });
      }
    }
    for (const field of ['oidExtensions', 'customExtensions'] as const) {
      list(om[field], `monitoredValues.oidMatchers.${field}`).forEach((e, i) => {
        const key = `monitoredValues.oidMatchers.${field}[${i}]`;
        const o = obj(e, key);
        onlyKeys(o, key, ['objectIdentifier', 'extensionValues']);
        oidMatchers.push({
          oid: dottedOid(o.objectIdentifier, `${key}.objectIdentifier`),
          values: stringList(o.extensionValues, `${key}.extensionValues`),
        });
      });
    }
  }
  const format = top.outputIdentitiesFormat ?? 'text';
  if (format !== 'text' && format !== 'json') throw configError('outputIdentitiesFormat', 'must be text or json');
  const config: MonitorConfig = {
    certIdentities,
    subjects,
    fingerprints,
    oidMatchers,
    outputIdentitiesFormat: format,
    logs: logTargets(top),
    warnings,
  };
  const start = index(top.startIndex, 'startIndex');
  const end = index(top.endIndex, 'endIndex');
  if (start !== undefined) config.startIndex = start;
  if (end !== undefined) config.endIndex = end;
  if (start !== undefined && end !== undefined && end < start) throw configError('endIndex', `${end} is before startIndex ${start}`);
  for (const k of ['outputIdentities', 'logInfoFile', 'identityMetadataFile'] as const)
    if (top[k] !== undefined) config[k] = str(top[k], k);
  if (top.notifications !== undefined) {
    const n = obj(top.notifications, 'notifications');
    onlyKeys(n, 'notifications', ['webhook', 'command']);
    if (n.webhook !== undefined) {
      const w = obj(n.webhook, 'notifications.webhook');
      onlyKeys(w, 'notifications.webhook', ['url', 'hmacSecretEnv', 'retries']);
      const retries = index(w.retries, 'notifications.webhook.retries') ?? 3;
      config.webhook = { url: url(w.url, 'notifications.webhook.url'), retries };
      if (w.hmacSecretEnv !== undefined) {
        const env = str(w.hmacSecretEnv, 'notifications.webhook.hmacSecretEnv');
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(env))
          throw configError(
            'notifications.webhook.hmacSecretEnv',
            'must name an environment variable (the secret itself never goes in the file)',
          );
        config.webhook.hmacSecretEnv = env;
      }
    }
    if (n.command !== undefined) {
      const argv = stringList(n.command, 'notifications.command');
      if (argv.length === 0) throw configError('notifications.command', 'must name a program');
      config.command = argv;
    }
  }
  const total = certIdentities.length + subjects.length + fingerprints.length + oidMatchers.length;
  if (total === 0) warnings.push("monitoredValues: nothing to watch; the monitor only checks the log's consistency");
  return config;
}
