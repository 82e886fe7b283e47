// The peer of bench/flows.ts: sigstore-js's mock services (@sigstore/mock: Fulcio with a
// CT log, Rekor v1, TSA) behind a plain node:http server, in their own process so that the
// benchmark measures them through HTTP like Keyless. Prints its URL on stdout when ready.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import {
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  fulcioHandler,
  rekorHandler,
  tsaHandler,
  type HandlerFn,
} from '@sigstore/mock';

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ctlog = await initializeCTLog(p256());
const ca = await initializeCA(p256(), ctlog);
const server = createServer();
const tlog = await initializeTLog('http://127.0.0.1', p256());
const tsa = await initializeTSA(p256());

const routes = new Map<string, HandlerFn>([
  [fulcioHandler(ca).path, fulcioHandler(ca).fn],
  [rekorHandler(tlog).path, rekorHandler(tlog).fn],
  [tsaHandler(tsa).path, tsaHandler(tsa).fn],
]);

server.on('request', (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const fn = req.method === 'POST' ? routes.get(req.url ?? '') : undefined;
    if (!fn) {
      res.writeHead(404).end();
      return;
    }
    fn(Buffer.concat(chunks).toString('utf8')).then(
      ({ statusCode, response, contentType }) => {
        res.writeHead(statusCode, { 'content-type': contentType ?? 'text/plain' });
        res.end(typeof response === 'string' ? response : Buffer.from(response.buffer, response.byteOffset, response.byteLength));
      },
      (e: unknown) => {
        res.writeHead(500).end(String(e));
      },
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
