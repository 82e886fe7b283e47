// The Keyless log explorer: search, entry pages that check their proofs in the browser,
// and a live view. State is in the URL (`?q=…`, `?log=…&index=…`, `?view=root`), so
// every view can be shared and the back button works.
import { parseCtLeaf, verifySth, type CtLeaf, type Sth } from './ct.js';
import {
  identityOf,
  oidcIssuerOf,
  parseCertificate,
  parseTbsCertificate,
  SCT_LIST_OID,
  tbsWithoutExtensions,
  type Certificate,
} from './der.js';
import { decodeEntryBundle, TileReader, tilePath } from './tiles.js';
import {
  equal,
  fromBase64,
  fromHex,
  hex,
  leafHash,
  parseCheckpoint,
  rootFromInclusionProof,
  sha256,
  toBase64,
  verifyCertificateSignature,
  verifyChain,
  verifyCheckpoint,
  verifySet,
  type Checkpoint,
  type LogKey,
} from './verify.js';

type LogName = 'rekor-v1' | 'rekor-v2' | 'ct';
const LOG_TITLES: Record<LogName, string> = {
  'rekor-v1': 'Rekor v1',
  'rekor-v2': 'Rekor v2 (tlog-tiles)',
  ct: 'Certificate Transparency (RFC 6962)',
};
type Child = Node | string | null | undefined | false;

function h(tag: string, attrs: Record<string, string | number | boolean | undefined> = {}, ...kids: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of kids) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

const main = document.getElementById('main')!;
const searchForm = document.getElementById('search') as HTMLFormElement;
const searchInput = document.getElementById('q') as HTMLInputElement;
const rootHashEl = document.getElementById('root-hash')!;

/** Replaces the main view (absent parts are left out). */
function fill(...kids: Child[]): void {
  main.replaceChildren(...kids.filter((k): k is Node | string => k !== null && k !== undefined && k !== false));
}

class HttpFailure extends Error {}

async function getBytes(path: string): Promise<Uint8Array> {
  const r = await fetch(path);
  if (!r.ok) throw new HttpFailure(`${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}
async function getJson<T>(path: string, init?: RequestInit): Promise<T> {
  const r = await fetch(path, init);
  if (!r.ok) {
    let message = `HTTP ${r.status}`;
    try {
      message = ((await r.json()) as { message?: string }).message ?? message;
    } catch {
      // not JSON
    }
    throw new HttpFailure(message);
  }
  return (await r.json()) as T;
}
async function getText(path: string): Promise<string> {
  return new TextDecoder().decode(await getBytes(path));
}

// ---- the trusted root ----

interface TrustedRootJson {
  tlogs?: { baseUrl: string; logId: { keyId: string }; publicKey: { rawBytes: string; keyDetails: string } }[];
  ctlogs?: { baseUrl: string; logId: { keyId: string }; publicKey: { rawBytes: string; keyDetails: string } }[];
  certificateAuthorities?: { certChain: { certificates: { rawBytes: string }[] } }[];
}
interface Trust {
  json: TrustedRootJson;
  text: string;
  sha256: string;
  logKeys: LogKey[];
  ctKeys: LogKey[];
  authorities: Certificate[];
}
let trustPromise: Promise<Trust> | undefined;
function trust(): Promise<Trust> {
  trustPromise ??= (async () => {
    const bytes = await getBytes('/api/explorer/v1/trusted-root');
    const text = new TextDecoder().decode(bytes);
    const json = JSON.parse(text) as TrustedRootJson;
    const digest = hex(await sha256(bytes));
    rootHashEl.textContent = `sha256:${digest.slice(0, 16)}…`;
    rootHashEl.title = `The page checks everything against this trusted root: sha256:${digest}`;
    const authorities: Certificate[] = [];
    for (const ca of json.certificateAuthorities ?? []) {
      for (const c of ca.certChain.certificates) {
        try {
          authorities.push(parseCertificate(fromBase64(c.rawBytes)));
        } catch {
          // a CA certificate we cannot read checks nothing
        }
      }
    }
    const keysOf = (logs: TrustedRootJson['tlogs']): LogKey[] =>
      (logs ?? []).map((t) => ({ spki: fromBase64(t.publicKey.rawBytes), logId: fromBase64(t.logId.keyId), baseUrl: t.baseUrl }));
    return { json, text, sha256: digest, logKeys: keysOf(json.tlogs), ctKeys: keysOf(json.ctlogs), authorities };
  })();
  trustPromise.catch(() => (trustPromise = undefined));
  return trustPromise;
}

// ---- entries, read through the logs' own APIs ----

interface Proof {
  index: number;
  treeSize: number;
  rootHash: Uint8Array;
  hashes: Uint8Array[];
  /** What the proof is checked against: a signed-note checkpoint (Rekor) or an RFC 6962 STH (CT). */
  checkpoint?: string;
  sth?: Sth;
}
interface LoadedEntry {
  log: LogName;
  index: number;
  body: Uint8Array;
  uuid: string;
  integratedTime?: number;
  /** Rekor v1: the SET and the fields it signs. */
  set?: { value: Uint8Array; payload: { body: string; integratedTime: number; logID: string; logIndex: number } };
  /** CT: the parsed MerkleTreeLeaf. */
  ct?: CtLeaf;
  proof: () => Promise<Proof>;
  links: { label: string; href: string }[];
}

interface V1Entry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: {
    signedEntryTimestamp: string;
    inclusionProof: { checkpoint: string; hashes: string[]; logIndex: number; rootHash: string; treeSize: number };
  };
}

async function loadV1(index: number): Promise<LoadedEntry> {
  const path = `/api/v1/log/entries?logIndex=${index}`;
  const map = await getJson<Record<string, V1Entry>>(path);
  const [uuid, e] = Object.entries(map)[0] ?? [];
  if (!uuid || !e) throw new Error('the log answered no entry');
  const p = e.verification.inclusionProof;
  return {
    log: 'rekor-v1',
    index: e.logIndex,
    body: fromBase64(e.body),
    uuid,
    integratedTime: e.integratedTime,
    set: {
      value: fromBase64(e.verification.signedEntryTimestamp),
      payload: { body: e.body, integratedTime: e.integratedTime, logID: e.logID, logIndex: e.logIndex },
    },
    proof: async () => ({
      index: p.logIndex,
      treeSize: p.treeSize,
      rootHash: fromHex(p.rootHash),
      hashes: p.hashes.map(fromHex),
      checkpoint: p.checkpoint,
    }),
    links: [
      { label: 'Entry (Rekor v1 API)', href: path },
      { label: `Entry by UUID`, href: `/api/v1/log/entries/${uuid}` },
      { label: 'Log info and checkpoint', href: '/api/v1/log' },
    ],
  };
}

async function loadV2(index: number): Promise<LoadedEntry> {
  const checkpointText = await getText('/api/v2/checkpoint');
  const cp = parseCheckpoint(checkpointText);
  if (index >= cp.size) throw new Error(`index ${index} is beyond the log's size ${cp.size}`);
  const bundlePath = `/api/v2/${tilePath('entries', Math.floor(index / 256), cp.size)}`;
  const body = decodeEntryBundle(await getBytes(bundlePath))[index % 256];
  if (!body) throw new Error('the entry bundle does not hold the entry');
  const reader = new TileReader((p) => getBytes(`/api/v2/${p}`), cp.size);
  return {
    log: 'rekor-v2',
    index,
    body,
    uuid: hex(await leafHash(body)),
    proof: async () => ({
      index,
      treeSize: cp.size,
      rootHash: cp.rootHash,
      hashes: await reader.inclusionProof(index),
      checkpoint: checkpointText,
    }),
    links: [
      { label: 'Entry bundle (tlog-tiles)', href: bundlePath },
      { label: 'Checkpoint', href: '/api/v2/checkpoint' },
      { label: 'Leaf tile', href: `/api/v2/${tilePath(0, Math.floor(index / 256), cp.size)}` },
    ],
  };
}

/**
 * A CT entry through RFC 6962's own API: the leaf from get-entries, the STH from get-sth,
 * and the audit path from get-proof-by-hash for the leaf hash computed here.
 */
async function loadCt(index: number): Promise<LoadedEntry> {
  const entriesPath = `/ct/v1/get-entries?start=${index}&end=${index}`;
  // Both at once; an entry beyond the tree head is refused whatever get-entries says.
  const [sth, entries] = await Promise.all([
    getJson<Sth>('/ct/v1/get-sth'),
    getJson<{ entries: { leaf_input: string }[] }>(entriesPath).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
  ]);
  if (index >= sth.tree_size) throw new Error(`index ${index} is beyond the log's tree size ${sth.tree_size}`);
  if (entries instanceof Error) throw entries;
  const leafInput = entries.entries[0]?.leaf_input;
  if (typeof leafInput !== 'string') throw new Error('the log answered no entry');
  const body = fromBase64(leafInput);
  const hash = await leafHash(body);
  const proofPath = `/ct/v1/get-proof-by-hash?hash=${encodeURIComponent(toBase64(hash))}&tree_size=${sth.tree_size}`;
  let ct: CtLeaf | undefined;
  try {
    ct = parseCtLeaf(body);
  } catch {
    // shown as an unreadable entry; the proof is still checked
  }
  return {
    log: 'ct',
    index,
    body,
    uuid: hex(hash),
    ...(ct ? { integratedTime: Math.floor(ct.timestamp / 1000), ct } : {}),
    proof: async () => {
      const p = await getJson<{ leaf_index: number; audit_path: string[] }>(proofPath);
      return {
        index: p.leaf_index,
        treeSize: sth.tree_size,
        rootHash: fromBase64(sth.sha256_root_hash),
        hashes: p.audit_path.map(fromBase64),
        sth,
      };
    },
    links: [
      { label: 'Entry (get-entries)', href: entriesPath },
      { label: 'Signed tree head (get-sth)', href: '/ct/v1/get-sth' },
      { label: 'Audit path (get-proof-by-hash)', href: proofPath },
    ],
  };
}

const loadEntry = (log: LogName, index: number): Promise<LoadedEntry> =>
  log === 'rekor-v1' ? loadV1(index) : log === 'rekor-v2' ? loadV2(index) : loadCt(index);

// ---- what an entry body says ----

interface Described {
  kind: string;
  version: string;
  certificate?: Certificate;
  digest?: string;
  payloadType?: string;
  subjects?: { name: string; digest: Record<string, string> }[];
  /** Why the artifact signature is not checked here. */
  signatureNote: string;
  /** CT entries: the certificate comes from the leaf, not from a signed body. */
  ct?: CtLeaf;
}

const PEM = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/;

function findCertificate(node: unknown, depth = 0): Uint8Array | undefined {
  if (depth > 8 || node === null || typeof node !== 'object') return undefined;
  const o = node as Record<string, unknown>;
  const x = o.x509Certificate as { rawBytes?: unknown } | undefined;
  if (x && typeof x.rawBytes === 'string') return fromBase64(x.rawBytes);
  for (const v of Object.values(o)) {
    if (typeof v === 'string' && v.startsWith('LS0tLS1CRUdJTi')) {
      const m = PEM.exec(atob(v));
      if (m) return fromBase64(m[1]!.replace(/\s+/g, ''));
    } else if (typeof v === 'object') {
      const found = findCertificate(v, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** A CT entry: the certificate, or the precertificate read from its TBS. */
function describeCt(leaf: CtLeaf): Described {
  return {
    kind: leaf.type === 'precert' ? 'precertificate' : 'certificate',
    version: 'RFC 6962 v1',
    certificate: leaf.type === 'precert' ? parseTbsCertificate(leaf.logged) : parseCertificate(leaf.logged),
    signatureNote: '',
    ct: leaf,
  };
}

function describeEntry(entry: LoadedEntry): Described {
  if (entry.log !== 'ct') return describe(entry.body);
  if (!entry.ct) throw new Error('the leaf is not an RFC 6962 MerkleTreeLeaf');
  return describeCt(entry.ct);
}

function describe(body: Uint8Array): Described {
  const json = JSON.parse(new TextDecoder().decode(body)) as { kind?: string; apiVersion?: string; spec?: Record<string, unknown> };
  const d: Described = { kind: json.kind ?? '?', version: json.apiVersion ?? '?', signatureNote: '' };
  const der = findCertificate(json);
  if (der) d.certificate = parseCertificate(der);
  const spec = (json.spec ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (json.kind === 'hashedrekord') {
    const v2 = spec.hashedRekordV002;
    if (v2) {
      const alg = String(v2.data?.algorithm ?? 'SHA2_256').replace('SHA2_', 'sha');
      d.digest = `${alg}:${hex(fromBase64(v2.data?.digest ?? ''))}`;
    } else if (spec.data?.hash) d.digest = `${spec.data.hash.algorithm}:${spec.data.hash.value}`;
    d.signatureNote =
      'The log stores only the digest; a browser cannot check a signature over a digest (WebCrypto hashes the message itself). The log checked it when it accepted the entry.';
  } else if (json.kind === 'dsse' || json.kind === 'intoto') {
    const payloadHash = spec.payloadHash ?? spec.content?.payloadHash;
    if (payloadHash) d.digest = `${payloadHash.algorithm}:${payloadHash.value}`;
    const env = spec.content?.envelope;
    if (env?.payloadType) d.payloadType = env.payloadType;
    if (typeof env?.payload === 'string') {
      try {
        const stmt = JSON.parse(atob(atob(env.payload))) as { subject?: { name: string; digest: Record<string, string> }[] };
        d.subjects = stmt.subject;
      } catch {
        // not a readable statement
      }
    }
    d.signatureNote = 'The log keeps only hashes of the envelope; the signature over it cannot be re-checked here.';
  }
  return d;
}

// ---- checks ----

type Status = 'passed' | 'failed' | 'unavailable';
const CHECKS = [
  ['inclusion-proof', 'Inclusion proof', 'The entry is in the tree whose root the checkpoint names.'],
  ['checkpoint-signature', 'Checkpoint signature', 'The checkpoint is signed by the log key in the trusted root.'],
  ['signed-entry-timestamp', 'Signed entry timestamp', 'The log promised to include the entry at that time (Rekor v1; the SCT in CT).'],
  ['certificate-chain', 'Certificate chain', "The signer's certificate leads to the instance's CA."],
] as const;
type CheckId = (typeof CHECKS)[number][0];

function checkList(): { el: HTMLElement; set(id: CheckId, status: Status, reason: string): void } {
  const items = new Map<CheckId, HTMLElement>();
  const el = h('ul', { class: 'checks', 'aria-live': 'polite' });
  for (const [id, title, what] of CHECKS) {
    const li = h(
      'li',
      { 'data-check': id, class: 'check pending' },
      h('span', { class: 'badge' }, '…'),
      h('div', {}, h('strong', {}, title), h('p', { class: 'reason' }, `${what} Checking…`)),
    );
    items.set(id, li);
    el.append(li);
  }
  return {
    el,
    set(id, status, reason) {
      const li = items.get(id)!;
      li.className = `check ${status}`;
      li.setAttribute('data-status', status);
      li.querySelector('.badge')!.textContent = status === 'passed' ? '✓' : status === 'failed' ? '✗' : '–';
      li.querySelector('.reason')!.textContent = reason;
      if ([...items.values()].every((i) => i.hasAttribute('data-status'))) el.setAttribute('data-checks-complete', '');
    },
  };
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function runChecks(entry: LoadedEntry, described: Described | undefined, checks: ReturnType<typeof checkList>): Promise<void> {
  const t = await trust().catch((e: unknown) => e as Error);
  if (t instanceof Error) {
    for (const [id] of CHECKS) checks.set(id, 'unavailable', `The trusted root cannot be read: ${t.message}`);
    return;
  }
  let checkpoint: Checkpoint | undefined;
  let sth: Sth | undefined;
  const proofCheck = (async () => {
    const proof = await entry.proof();
    if (proof.sth) sth = proof.sth;
    else checkpoint = parseCheckpoint(proof.checkpoint ?? '');
    if (proof.index !== entry.index)
      return checks.set('inclusion-proof', 'failed', `The proof is for leaf ${proof.index}, not for this entry at ${entry.index}.`);
    // RFC 6962 and RFC 9162 hash leaves alike: SHA-256(0x00 ‖ entry), here of the body or MerkleTreeLeaf.
    const root = await rootFromInclusionProof(proof.index, proof.treeSize, await leafHash(entry.body), proof.hashes);
    if (!equal(root, proof.rootHash))
      return checks.set(
        'inclusion-proof',
        'failed',
        `The proof leads to root ${hex(root).slice(0, 16)}…, not the stated ${hex(proof.rootHash).slice(0, 16)}…`,
      );
    if (checkpoint && (checkpoint.size !== proof.treeSize || !equal(checkpoint.rootHash, root)))
      return checks.set(
        'inclusion-proof',
        'failed',
        `The proof's tree (size ${proof.treeSize}) is not the checkpoint's (size ${checkpoint.size})`,
      );
    checks.set(
      'inclusion-proof',
      'passed',
      `Leaf ${proof.index} with ${proof.hashes.length} proof hashes leads to the ${sth ? 'signed tree head' : 'checkpoint'}'s root ${hex(root).slice(0, 16)}… (tree size ${proof.treeSize}).`,
    );
  })().catch((e: unknown) => checks.set('inclusion-proof', 'failed', `The proof cannot be checked: ${message(e)}`));
  await proofCheck;
  const cpCheck = (async () => {
    if (sth) {
      const r = await verifySth(sth, t.ctKeys);
      return checks.set(
        'checkpoint-signature',
        r.ok ? 'passed' : 'failed',
        `Signed tree head of size ${sth.tree_size} at ${new Date(sth.timestamp).toISOString()}: ${r.reason}.`,
      );
    }
    if (!checkpoint) return checks.set('checkpoint-signature', 'unavailable', 'No checkpoint could be read.');
    const r = await verifyCheckpoint(checkpoint, t.logKeys);
    checks.set('checkpoint-signature', r.ok ? 'passed' : 'failed', `${checkpoint.origin}, size ${checkpoint.size}: ${r.reason}.`);
  })().catch((e: unknown) => checks.set('checkpoint-signature', 'failed', message(e)));
  const setCheck = (async () => {
    if (entry.log === 'ct')
      return checks.set(
        'signed-entry-timestamp',
        'unavailable',
        'The CT log’s promise is its SCT, which is embedded in the issued certificate; the log keeps the (pre)certificate it was given, not the SCT, so there is none here to check. The inclusion proof above shows the promise was kept; verifiers check the SCT in the certificate.',
      );
    if (!entry.set)
      return checks.set(
        'signed-entry-timestamp',
        'unavailable',
        'Rekor v2 entries have no signed entry timestamp; the checkpoint stands in for it.',
      );
    const logId = fromHex(entry.set.payload.logID);
    const key = t.logKeys.find((k) => equal(k.logId, logId));
    if (!key)
      return checks.set('signed-entry-timestamp', 'failed', `Log ${entry.set.payload.logID.slice(0, 16)}… is not in the trusted root.`);
    const ok = await verifySet(entry.set.payload, entry.set.value, key);
    checks.set(
      'signed-entry-timestamp',
      ok ? 'passed' : 'failed',
      ok
        ? `Signed by log ${entry.set.payload.logID.slice(0, 16)}… for ${new Date(entry.set.payload.integratedTime * 1000).toISOString()}.`
        : 'The SET does not verify with the log key of the trusted root.',
    );
  })().catch((e: unknown) => checks.set('signed-entry-timestamp', 'failed', message(e)));
  const chainCheck = (async () => {
    const cert = described?.certificate;
    if (!cert)
      return checks.set(
        'certificate-chain',
        'unavailable',
        'The entry carries a public key, not a certificate: there is no chain to check.',
      );
    const at = entry.integratedTime ? new Date(entry.integratedTime * 1000) : undefined;
    if (described?.ct?.issuerKeyHash) {
      const r = await precertIssuer(cert, described.ct.issuerKeyHash, t.authorities, at);
      return checks.set('certificate-chain', r.ok ? 'passed' : 'failed', `${r.reason}.`);
    }
    const r = await verifyChain(cert, t.authorities, at);
    checks.set(
      'certificate-chain',
      r.ok ? 'passed' : 'failed',
      r.ok && !at ? `${r.reason} (Rekor v2 records no integration time: validity not checked here).` : `${r.reason}.`,
    );
  })().catch((e: unknown) => checks.set('certificate-chain', 'failed', message(e)));
  await Promise.all([cpCheck, setCheck, chainCheck]);
}

/**
 * A precertificate entry logs the TBS and its issuer's key hash, not a signature: the
 * issuer must be a CA of the trusted root with that key and the name the TBS gives, the
 * CA must lead to a root, and the logged time must be in both validities.
 */
async function precertIssuer(
  tbs: Certificate,
  issuerKeyHash: Uint8Array,
  authorities: readonly Certificate[],
  at: Date | undefined,
): Promise<{ ok: boolean; reason: string }> {
  let ca: Certificate | undefined;
  for (const c of authorities) if (c.isCa && equal(await sha256(c.spki), issuerKeyHash)) ca = c;
  if (!ca)
    return {
      ok: false,
      reason: `No CA of the trusted root has the key the entry names (issuer_key_hash ${hex(issuerKeyHash).slice(0, 16)}…)`,
    };
  if (!equal(ca.subjectDer, tbs.issuerDer))
    return { ok: false, reason: `The precertificate names issuer ${tbs.issuer}, but the key is ${ca.subject}'s` };
  if (at && (at < tbs.notBefore || at > tbs.notAfter))
    return { ok: false, reason: `The precertificate was not valid at the logged time ${at.toISOString()}` };
  const selfSigned = equal(ca.subjectDer, ca.issuerDer);
  const r = selfSigned
    ? { ok: await verifyCertificateSignature(ca, ca).catch(() => false), reason: ca.subject }
    : await verifyChain(ca, authorities, at);
  if (!r.ok) return { ok: false, reason: selfSigned ? `The root ${ca.subject} is not correctly self-signed` : r.reason };
  if (selfSigned && at && (at < ca.notBefore || at > ca.notAfter))
    return { ok: false, reason: `${ca.subject} was not valid at ${at.toISOString()}` };
  return {
    ok: true,
    reason: `Issued by ${ca.subject} (its key hash is the entry's issuer_key_hash): (precertificate) → ${r.reason}${selfSigned && at ? `, valid at ${at.toISOString()}` : ''}. RFC 6962 logs a precertificate as its TBS, without the CA's signature`,
  };
}

// ---- views ----

function dl(rows: [string, Child | Child[]][]): HTMLElement {
  const el = h('dl', { class: 'fields' });
  for (const [k, v] of rows) {
    if (v === null || v === undefined) continue;
    el.append(h('dt', {}, k));
    const dd = h('dd');
    for (const c of Array.isArray(v) ? v : [v]) if (c) dd.append(c);
    el.append(dd);
  }
  return el;
}

const entryHref = (log: string, index: number): string => `/?log=${log}&index=${index}`;
const link = (href: string, text: string, attrs: Record<string, string> = {}): HTMLElement => h('a', { href, ...attrs }, text);
const code = (s: string): HTMLElement => h('code', {}, s);
const time = (sec: number): HTMLElement =>
  h(
    'time',
    { datetime: new Date(sec * 1000).toISOString(), title: new Date(sec * 1000).toISOString() },
    new Date(sec * 1000).toLocaleString(),
  );

function certificateView(c: Certificate, ct?: { leaf: CtLeaf; fingerprint: string }): HTMLElement {
  const fingerprint = ct ? `sha256:${ct.fingerprint}` : '';
  return h(
    'section',
    { class: 'card' },
    h(
      'h2',
      {},
      ct ? (ct.leaf.type === 'precert' ? 'Precertificate (as logged: its TBS)' : 'Certificate (as logged)') : 'Signing certificate',
    ),
    dl([
      ['Identity', code(identityOf(c) ?? '(none)')],
      ['OIDC issuer', code(oidcIssuerOf(c) ?? '(none)')],
      ['Issued by', c.issuer],
      ['Valid', `${c.notBefore.toISOString()} – ${c.notAfter.toISOString()}`],
      ['Serial', code(c.serialHex)],
      ...c.sans.map((s): [string, Child] => [`SAN (${s.type})`, code(s.value)]),
      ...c.sigstore.map((e): [string, Child] => [e.name, h('span', { title: e.oid }, code(e.value))]),
      ['Issuer key hash', ct?.leaf.issuerKeyHash ? code(hex(ct.leaf.issuerKeyHash)) : null],
      [
        ct?.leaf.type === 'precert' ? 'SHA-256 of the TBS' : ct ? 'SHA-256 fingerprint' : '',
        ct ? link(`/?q=${encodeURIComponent(fingerprint)}`, fingerprint, { title: 'What sha256: searches find in the CT log' }) : null,
      ],
    ]),
  );
}

async function showEntry(log: LogName, index: number): Promise<void> {
  document.title = `${log} #${index} · Keyless explorer`;
  fill(h('p', { class: 'muted' }, 'Loading the entry…'));
  let entry: LoadedEntry;
  try {
    entry = await loadEntry(log, index);
  } catch (e) {
    fill(h('section', { class: 'card error' }, h('h1', {}, `${log} #${index}`), h('p', {}, `This entry cannot be read: ${message(e)}`)));
    return;
  }
  let described: Described | undefined;
  let describeError = '';
  try {
    described = describeEntry(entry);
  } catch (e) {
    describeError = message(e);
  }
  const ctView = described?.ct ? { leaf: described.ct, fingerprint: hex(await sha256(described.ct.logged)) } : undefined;
  const checks = checkList();
  const subjects = described?.subjects?.length
    ? h(
        'ul',
        { class: 'plain' },
        ...described.subjects.map((s) =>
          h(
            'li',
            {},
            code(s.name),
            ' ',
            ...Object.entries(s.digest).map(([a, v]) => link(`/?q=${encodeURIComponent(`${a}:${v}`)}`, `${a}:${v.slice(0, 16)}…`)),
          ),
        ),
      )
    : null;
  fill(
    h('nav', { class: 'crumbs' }, link('/', 'Live'), ' / ', `${log}`, ' / ', `#${index}`),
    h(
      'h1',
      {},
      `${described ? `${described.kind} ${described.version}` : 'Entry'} `,
      h('span', { class: 'muted' }, 'at index '),
      h('span', { 'data-log-index': String(entry.index) }, String(entry.index)),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Checked in this browser'),
      checks.el,
      described?.signatureNote ? h('p', { class: 'note' }, `Artifact signature: not checked here. ${described.signatureNote}`) : null,
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Entry'),
      dl([
        ['Log', LOG_TITLES[log]],
        ['Kind', described ? `${described.kind} ${described.version}` : `unreadable body: ${describeError}`],
        ['Log index', String(entry.index)],
        [
          log === 'ct' ? 'Logged (SCT timestamp)' : 'Integrated',
          entry.integratedTime ? time(entry.integratedTime) : 'not recorded by Rekor v2 (see the checkpoint)',
        ],
        [log === 'ct' ? 'Leaf hash' : 'UUID', code(entry.uuid)],
        [
          'Signed digest',
          log === 'ct' ? null : described?.digest ? link(`/?q=${encodeURIComponent(described.digest)}`, described.digest) : '–',
        ],
        ['Payload type', described?.payloadType ? code(described.payloadType) : null],
        ['In-toto subjects', subjects],
        [
          'Raw',
          h(
            'span',
            { class: 'links' },
            ...entry.links.map((l) => link(l.href, l.label)),
            log === 'ct'
              ? link(`data:application/octet-stream;base64,${toBase64(entry.body)}`, 'MerkleTreeLeaf', {
                  download: `ct-${entry.index}.bin`,
                })
              : link(`data:application/json;base64,${toBase64(entry.body)}`, 'Canonical body', { download: `${log}-${entry.index}.json` }),
          ),
        ],
      ]),
    ),
    described?.certificate ? certificateView(described.certificate, ctView) : null,
    h(
      'details',
      { class: 'card' },
      h('summary', {}, log === 'ct' ? 'MerkleTreeLeaf (base64)' : 'Canonical body'),
      h('pre', {}, log === 'ct' ? toBase64(entry.body) : JSON.stringify(JSON.parse(new TextDecoder().decode(entry.body)), null, 2)),
    ),
  );
  await runChecks(entry, described, checks);
}

interface SearchAnswer {
  query: string;
  kind: string;
  offset: number;
  limit: number;
  results: { log: LogName; index: number }[];
  more: boolean;
}

async function showSearch(q: string, offset: number): Promise<void> {
  document.title = `${q} · Keyless explorer`;
  searchInput.value = q;
  fill(h('p', { class: 'muted' }, 'Searching…'));
  let answer: SearchAnswer;
  try {
    answer = await getJson<SearchAnswer>(`/api/explorer/v1/search?q=${encodeURIComponent(q)}&offset=${offset}`);
  } catch (e) {
    fill(h('section', { class: 'card error' }, h('h1', {}, 'Search'), h('p', {}, message(e))));
    return;
  }
  const list = h('ol', { class: 'results', start: String(offset + 1) });
  for (const r of answer.results) {
    const detail = h('span', { class: 'muted' }, '');
    list.append(
      h(
        'li',
        { 'data-result': '' },
        link(entryHref(r.log, r.index), `${r.log} #${r.index}`, { 'data-entry': `${r.log}/${r.index}` }),
        ' ',
        detail,
      ),
    );
    void loadEntry(r.log, r.index)
      .then((e) => {
        const d = describeEntry(e);
        const who = d.certificate ? identityOf(d.certificate) : undefined;
        detail.textContent = [d.kind, who, e.integratedTime ? new Date(e.integratedTime * 1000).toLocaleString() : undefined]
          .filter(Boolean)
          .join(' · ');
      })
      .catch(() => (detail.textContent = '(unreadable)'));
  }
  const pager = h('nav', { class: 'pager' });
  if (offset > 0)
    pager.append(link(`/?q=${encodeURIComponent(q)}&offset=${Math.max(0, offset - answer.limit)}`, '← Previous', { rel: 'prev' }));
  if (answer.more) pager.append(link(`/?q=${encodeURIComponent(q)}&offset=${offset + answer.limit}`, 'Next →', { rel: 'next' }));
  fill(
    h('h1', {}, 'Results for ', code(answer.query)),
    h('p', { class: 'muted' }, `Searched as ${answer.kind}. ${answer.results.length === 0 ? 'Nothing found in the logs.' : ''}`),
    list,
    pager,
  );
}

interface LogsAnswer {
  logs: { name: LogName; origin: string; size: number; checkpoint: string; timestamp: number }[];
  ctLog: boolean;
}
interface ActivityAnswer {
  recent: { log: LogName; index: number; integratedTime: number; identity?: string }[];
  perHour: { hour: number; count: number }[];
  identities: { identity: string; count: number }[];
}

function barChart(points: { label: string; title: string; value: number }[]): SVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const width = 600;
  const height = 140;
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height + 20}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  const max = Math.max(1, ...points.map((p) => p.value));
  const bw = width / Math.max(points.length, 1);
  points.forEach((p, i) => {
    const bh = (p.value / max) * height;
    const rect = document.createElementNS(ns, 'rect');
    rect.setAttribute('x', String(i * bw + 1));
    rect.setAttribute('y', String(height - bh));
    rect.setAttribute('width', String(Math.max(1, bw - 2)));
    rect.setAttribute('height', String(bh));
    const title = document.createElementNS(ns, 'title');
    title.textContent = p.title;
    rect.append(title);
    svg.append(rect);
    if (i % Math.ceil(points.length / 6) === 0) {
      const t = document.createElementNS(ns, 'text');
      t.setAttribute('x', String(i * bw + 2));
      t.setAttribute('y', String(height + 15));
      t.textContent = p.label;
      svg.append(t);
    }
  });
  svg.setAttribute('aria-label', `Signing events per hour, up to ${max}`);
  return svg;
}

/** A bar of `percent` width; set through the CSSOM (the page's CSP allows no inline style attributes). */
function bar(percent: number): HTMLElement {
  const el = h('span', { class: 'bar' });
  el.style.setProperty('--w', `${percent}%`);
  return el;
}

let liveTimer: number | undefined;

async function renderLive(first: boolean): Promise<void> {
  const [logs, activity] = await Promise.all([
    getJson<LogsAnswer>('/api/explorer/v1/logs'),
    getJson<ActivityAnswer>('/api/explorer/v1/activity'),
  ]);
  const sth = logs.ctLog
    ? await getJson<{ tree_size: number; timestamp: number; sha256_root_hash: string }>('/ct/v1/get-sth').catch(() => undefined)
    : undefined;
  if (!first && !main.querySelector('[data-view="live"]')) return;
  const empty = logs.logs.every((l) => l.size === 0);
  const cards = h(
    'div',
    { class: 'grid' },
    ...logs.logs.map((l) =>
      h(
        'section',
        { class: 'card log', 'data-log': l.name },
        h('h2', {}, l.name === 'rekor-v1' ? 'Rekor v1' : 'Rekor v2'),
        h('p', { class: 'big' }, l.size.toLocaleString(), h('span', { class: 'muted' }, ' entries')),
        h('details', {}, h('summary', {}, `Latest checkpoint · ${new Date(l.timestamp).toLocaleTimeString()}`), h('pre', {}, l.checkpoint)),
      ),
    ),
    sth
      ? h(
          'section',
          { class: 'card log', 'data-log': 'ct' },
          h('h2', {}, 'Certificate Transparency'),
          h('p', { class: 'big' }, sth.tree_size.toLocaleString(), h('span', { class: 'muted' }, ' certificates')),
          h(
            'p',
            { class: 'muted small' },
            `STH ${new Date(sth.timestamp).toLocaleTimeString()} · root ${hex(fromBase64(sth.sha256_root_hash)).slice(0, 16)}…`,
          ),
        )
      : null,
  );
  // The last 24 hours up to the newest entry, empty hours included.
  const counts = new Map(activity.perHour.map((p) => [p.hour, p.count]));
  const lastHour = activity.perHour.at(-1)?.hour ?? 0;
  const hours = Array.from({ length: 24 }, (_, i) => lastHour - (23 - i) * 3600).map((hour) => ({ hour, count: counts.get(hour) ?? 0 }));
  const view = h(
    'div',
    { 'data-view': 'live' },
    empty
      ? h(
          'section',
          { class: 'card hero' },
          h('h1', {}, 'No entries yet'),
          h('p', {}, 'This instance’s logs are empty. Sign something and it shows up here:'),
          h('pre', {}, `keyless sign-blob --bundle artifact.sigstore.json artifact.txt`),
        )
      : h('h1', {}, 'Live'),
    cards,
    empty
      ? null
      : h(
          'div',
          { class: 'grid two' },
          h(
            'section',
            { class: 'card' },
            h('h2', {}, 'Signing events per hour (newest entries)'),
            barChart(
              hours.map((p) => ({
                label: new Date(p.hour * 1000).getHours().toString().padStart(2, '0') + 'h',
                title: `${new Date(p.hour * 1000).toLocaleString()}: ${p.count}`,
                value: p.count,
              })),
            ),
          ),
          h(
            'section',
            { class: 'card' },
            h('h2', {}, 'Most active identities'),
            h(
              'ol',
              { class: 'bars' },
              ...activity.identities.map((i) =>
                h(
                  'li',
                  {},
                  link(`/?q=${encodeURIComponent(i.identity)}`, i.identity),
                  bar((100 * i.count) / activity.identities[0]!.count),
                  h('span', { class: 'count' }, String(i.count)),
                ),
              ),
            ),
          ),
        ),
    empty
      ? null
      : h(
          'section',
          { class: 'card' },
          h('h2', {}, 'Newest entries'),
          h(
            'table',
            { class: 'entries' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Entry'), h('th', {}, 'Identity'), h('th', {}, 'Integrated'))),
            h(
              'tbody',
              {},
              ...activity.recent
                .slice(0, 25)
                .map((e) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, link(entryHref(e.log, e.index), `${e.log} #${e.index}`)),
                    h('td', {}, e.identity ?? '–'),
                    h('td', {}, time(e.integratedTime)),
                  ),
                ),
            ),
          ),
        ),
    dropZone(),
  );
  fill(view);
}

/** The certificate a dropped file is or carries (PEM, DER, a Sigstore bundle's signing certificate), if any. */
function certificateIn(bytes: Uint8Array): Certificate | undefined {
  try {
    if (bytes[0] === 0x30) return parseCertificate(bytes);
    const text = new TextDecoder().decode(bytes.subarray(0, 256 * 1024));
    const pem = PEM.exec(text);
    if (pem) return parseCertificate(fromBase64(pem[1]!.replace(/\s+/g, '')));
    const vm = (JSON.parse(text) as { verificationMaterial?: Record<string, any> }).verificationMaterial; // eslint-disable-line @typescript-eslint/no-explicit-any
    const raw = vm?.certificate?.rawBytes ?? vm?.x509CertificateChain?.certificates?.[0]?.rawBytes;
    return typeof raw === 'string' ? parseCertificate(fromBase64(raw)) : undefined;
  } catch {
    return undefined; // an artifact, hashed as it is
  }
}

function dropZone(): HTMLElement {
  const input = h('input', { type: 'file', id: 'file', class: 'visually-hidden' }) as HTMLInputElement;
  const zone = h(
    'label',
    { class: 'card drop', for: 'file', tabindex: '0' },
    h('strong', {}, 'Is my artifact in the log?'),
    h(
      'span',
      { class: 'muted' },
      ' Drop a file here or choose one: it is hashed in this browser and never uploaded. A certificate (PEM or DER) or a Sigstore bundle finds its CT entry.',
    ),
    input,
  );
  const hashFile = async (f: File): Promise<void> => {
    const bytes = new Uint8Array(await f.arrayBuffer());
    const cert = certificateIn(bytes);
    // A certificate's CT entry logs its TBS without the SCT list (or, for a precertificate, the poison).
    const hashed = cert ? tbsWithoutExtensions(cert, SCT_LIST_OID, '1.3.6.1.4.1.11129.2.4.3') : bytes;
    navigate(`/?q=sha256:${hex(await sha256(hashed))}`);
  };
  input.addEventListener('change', () => input.files?.[0] && void hashFile(input.files[0]));
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    const f = e.dataTransfer?.files[0];
    if (f) void hashFile(f);
  });
  zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') input.click();
  });
  return zone;
}

async function showLive(): Promise<void> {
  document.title = 'Keyless explorer';
  searchInput.value = '';
  fill(h('p', { class: 'muted' }, 'Loading…'));
  try {
    await renderLive(true);
  } catch (e) {
    fill(h('section', { class: 'card error' }, h('p', {}, `The logs cannot be read: ${message(e)}`)));
  }
  liveTimer = window.setInterval(() => {
    if (document.visibilityState === 'visible') void renderLive(false).catch(() => undefined);
  }, 5000);
}

async function showRoot(): Promise<void> {
  document.title = 'Trusted root · Keyless explorer';
  try {
    const t = await trust();
    fill(
      h('h1', {}, 'Trusted root'),
      h(
        'p',
        {},
        'Every check on these pages uses this trusted root, served by this instance. Compare its hash with the ',
        code('trusted_root.json'),
        ' your clients use.',
      ),
      dl([['SHA-256', code(t.sha256)]]),
      h('pre', {}, JSON.stringify(t.json, null, 2)),
    );
  } catch (e) {
    fill(h('section', { class: 'card error' }, h('p', {}, `The trusted root cannot be read: ${message(e)}`)));
  }
}

function route(): void {
  window.clearInterval(liveTimer);
  const p = new URLSearchParams(location.search);
  const q = p.get('q');
  const log = p.get('log');
  const index = p.get('index');
  if (q) void showSearch(q, Math.max(0, Number(p.get('offset')) || 0));
  else if ((log === 'rekor-v1' || log === 'rekor-v2' || log === 'ct') && index !== null && /^\d+$/.test(index))
    void showEntry(log, Number(index));
  else if (p.get('view') === 'root') void showRoot();
  else void showLive();
  main.focus({ preventScroll: true });
}

function navigate(href: string): void {
  history.pushState(null, '', href);
  route();
  window.scrollTo(0, 0);
}

searchForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const q = searchInput.value.trim();
  if (q) navigate(`/?q=${encodeURIComponent(q)}`);
});
document.addEventListener('click', (e) => {
  const a = (e.target as Element).closest?.('a');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname !== '/') return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
document.addEventListener('keydown', (e) => {
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement;
  if (e.key === '/' && !typing) {
    e.preventDefault();
    searchInput.focus();
    searchInput.select();
  } else if (e.key === 'Escape' && typing) (e.target as HTMLElement).blur();
  else if (!typing && e.key === 'g') navigate('/');
});
window.addEventListener('popstate', route);
void trust().catch(() => (rootHashEl.textContent = 'unavailable'));
route();
