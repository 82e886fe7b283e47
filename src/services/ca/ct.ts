import type { Certificate, Sct } from '../../x509/index.js';
import { sctFromJson } from '../../x509/index.js';
import { HttpError } from '../http/index.js';
import { readResponseBody } from '../../core/index.js';

/**
 * Submits `[precertificate, issuing CA, …]` to a CT log and returns its SCT. SERVER
 * wires the in-process log directly; `httpCtSubmitter` reaches a remote one.
 */
export type CtSubmitter = ((chain: readonly Certificate[]) => Promise<Sct>) & {
  /**
   * For a log in the same process: the SCT for a precertificate TBS (without the
   * poison) the CA built itself, so no precertificate is parsed or checked. The signed
   * precertificate's DER comes along for the log to serve (get-entries extra_data).
   */
  submitTrustedTbs?: (entryTbs: Buffer, issuer: Certificate, precertificate: Buffer) => Promise<Sct>;
};

/** An SCT answer is a few hundred bytes. */
const MAX_CT_ANSWER_BYTES = 64 * 1024;

/** RFC 6962 add-pre-chain over HTTP, e.g. for a CT log in another process. */
export function httpCtSubmitter(logUrl: string, options: { timeoutMs?: number } = {}): CtSubmitter {
  const url = `${logUrl.replace(/\/+$/, '')}/ct/v1/add-pre-chain`;
  return async (chain) => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chain: chain.map((c) => c.der.toString('base64')) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (e) {
      if ((e as { name?: unknown })?.name === 'TimeoutError')
        throw new HttpError('CT_LOG_TIMEOUT', `the CT log at ${url} did not answer in time`);
      throw new HttpError('CT_LOG_UNAVAILABLE', `the CT log at ${url} cannot be reached: ${(e as Error).message}`);
    }
    let text: string;
    try {
      text = (await readResponseBody(response, MAX_CT_ANSWER_BYTES, `the CT log's answer from ${url}`)).toString('utf8');
    } catch (e) {
      if ((e as { name?: unknown })?.name === 'TimeoutError')
        throw new HttpError('CT_LOG_TIMEOUT', `the CT log at ${url} did not send its answer in time`);
      throw new HttpError('CT_LOG_BAD_RESPONSE', `the CT log at ${url} sent an unreadable answer: ${(e as Error).message}`);
    }
    if (response.status !== 200)
      throw new HttpError('CT_LOG_REFUSED', `the CT log at ${url} answered HTTP ${response.status}: ${text.slice(0, 200)}`);
    try {
      return sctFromJson(JSON.parse(text));
    } catch {
      throw new HttpError('CT_LOG_BAD_RESPONSE', `the CT log at ${url} answered something that is not an SCT`);
    }
  };
}

/**
 * The in-process CT log, no HTTP hop. The CA has just built the precertificate itself, so
 * the log may skip re-verifying the chain (`addTrustedPrecertificate`) and even take the
 * TBS it covers directly (`addTrustedPrecertificateTbs`) when it offers that.
 */
export function inProcessCtSubmitter(log: {
  addPreChain(chain: readonly Certificate[]): Promise<Sct>;
  addTrustedPrecertificate?(precert: Certificate, issuer: Certificate): Promise<Sct>;
  addTrustedPrecertificateTbs?(entryTbs: Buffer, issuer: Certificate, precertificate?: Buffer): Promise<Sct>;
}): CtSubmitter {
  const submit: CtSubmitter = log.addTrustedPrecertificate
    ? (chain) => log.addTrustedPrecertificate!(chain[0]!, chain[1]!)
    : (chain) => log.addPreChain(chain);
  if (log.addTrustedPrecertificateTbs)
    submit.submitTrustedTbs = (tbs, issuer, precertificate) => log.addTrustedPrecertificateTbs!(tbs, issuer, precertificate);
  return submit;
}
