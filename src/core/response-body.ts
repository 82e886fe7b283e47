// Reading a fetch() answer with a size limit that holds while the bytes arrive: a server
// sending 200 MB must cost us at most the limit, not the whole body buffered first.
import { KeylessError } from './errors.js';

/**
 * The body of `response`, refused as soon as it exceeds `maxBytes` (by its Content-Length or
 * while streaming); the rest of the body is cancelled, never buffered. `what` names the
 * document in the error.
 */
export async function readResponseBody(response: Response, maxBytes: number, what: string): Promise<Buffer> {
  const tooLarge = () =>
    new KeylessError('RESPONSE_TOO_LARGE', `${what} is larger than the ${maxBytes}-byte limit`, {
      check: 'response-size',
      expected: maxBytes,
    });
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}
