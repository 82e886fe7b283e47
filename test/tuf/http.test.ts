// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The TUF client's HTTP/1.0 GET (src/tuf/http.ts) against real loopback servers: a Node HTTP
// server as mirrors run, and raw sockets answering what a broken or hostile one could send.
// Every answer it cannot read exactly is an error, never a guess.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { httpGet } from '../../src/tuf/http.js';

const servers: (HttpServer | TcpServer)[] = [];
after(() => {
  for (const s of servers) s.close();
});

async function listen<T extends HttpServer | TcpServer>(server: T): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A server that reads the request head, then writes `answer` (and closes unless told not to). */
function rawServer(answer: (request: string) => string | Buffer, keepOpen = false): Promise<string> {
  return listen(
    createTcpServer((socket: Socket) => {
      let head = '';
      socket.on('data', (d: Buffer) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        if (keepOpen) socket.write(answer(head));
        else socket.end(answer(head));
      });
      socket.on('error', () => {});
    }),
  );
}

test('a Node HTTP server: status, body, headers it sends; the request is HTTP/1.0 with a Host', async () => {
  const seen: { version: string; host: string | undefined; url: string | undefined }[] = [];
  const body = Buffer.from(JSON.stringify({ signed: { _type: 'timestamp', version: 7 } }));
  const url = await listen(
    createHttpServer((req, res) => {
      seen.push({ version: req.httpVersion, host: req.headers.host, url: req.url });
      if (req.url === '/tuf/timestamp.json') res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      else if (req.url === '/tuf/stream.json') {
        res.writeHead(200); // no Content-Length: a 1.0 client gets the body until the connection closes
        res.write(body.subarray(0, 10));
        setImmediate(() => res.end(body.subarray(10)));
      } else res.writeHead(404).end('{"code":"NOT_FOUND"}');
    }),
  );
  const ok = await httpGet(`${url}/tuf/timestamp.json`, 16_384, 5000);
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body, body);
  assert.equal(ok.tooLarge, undefined);
  const streamed = await httpGet(`${url}/tuf/stream.json`, 16_384, 5000);
  assert.deepEqual(streamed.body, body);
  const missing = await httpGet(`${url}/tuf/2.root.json`, 512_000, 5000);
  assert.equal(missing.status, 404);
  assert.deepEqual(seen[0], { version: '1.0', host: url.slice('http://'.length), url: '/tuf/timestamp.json' });
  const small = await httpGet(`${url}/tuf/timestamp.json`, body.length - 1, 5000);
  assert.deepEqual({ status: small.status, tooLarge: small.tooLarge, bytes: small.body.length }, { status: 200, tooLarge: true, bytes: 0 });
});

test('redirects are followed (relative, to another server, every 30x that has a Location), at most five', async () => {
  const body = Buffer.from('{"signed":{}}');
  const target = await listen(createHttpServer((_req, res) => res.writeHead(200).end(body)));
  const hops: string[] = [];
  const url = await listen(
    createHttpServer((req, res) => {
      hops.push(req.url ?? '');
      const [, kind, n] = /^\/(\w+)\/(\d+)$/.exec(req.url ?? '') ?? [];
      if (kind === 'relative') return void res.writeHead(302, { location: `/elsewhere/${n}` }).end();
      if (kind === 'elsewhere') return void res.writeHead(307, { location: `${target}/tuf/${n}.root.json` }).end();
      if (kind === 'loop') return void res.writeHead(301, { location: `/loop/${Number(n) + 1}` }).end();
      if (kind === 'nowhere') return void res.writeHead(302, { location: 'http://[' }).end();
      if (kind === 'file') return void res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      if (kind === 'bare') return void res.writeHead(302).end('no location');
      res.writeHead(404).end();
    }),
  );
  const followed = await httpGet(`${url}/relative/3`, 16_384, 5000);
  assert.equal(followed.status, 200);
  assert.deepEqual(followed.body, body);
  assert.deepEqual(hops, ['/relative/3', '/elsewhere/3']);
  // A 30x without Location is an answer like any other (the TUF client then refuses its status).
  assert.equal((await httpGet(`${url}/bare/1`, 16_384, 5000)).status, 302);
  await assert.rejects(httpGet(`${url}/loop/0`, 16_384, 5000), /more than 5 redirects/);
  assert.equal(hops.filter((h) => h.startsWith('/loop/')).length, 6);
  await assert.rejects(httpGet(`${url}/nowhere/1`, 16_384, 5000), /a redirect to "http:\/\/\[", which is not a URL/);
  await assert.rejects(httpGet(`${url}/file/1`, 16_384, 5000), /not an http\(s\) URL: file:/);
});

test('a body past the limit is not read to its end', async () => {
  let hungUp!: () => void;
  const closed = new Promise<void>((resolve) => (hungUp = resolve));
  const url = await listen(
    createTcpServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n');
        const chunk = Buffer.alloc(65_536, 0x61);
        const pump = () => {
          while (!socket.destroyed && socket.write(chunk));
          if (!socket.destroyed) socket.once('drain', pump);
        };
        socket.on('error', () => {});
        socket.on('close', hungUp);
        pump();
      });
    }),
  );
  const r = await httpGet(`${url}/big`, 16_384, 5000);
  assert.equal(r.tooLarge, true);
  assert.equal(r.status, 200);
  await closed; // the client hung up (else the server would pump 100 MB and the test time out)
});

test('answers it cannot read exactly are errors: truncated, chunked, no status line, bad Content-Length', async () => {
  const cases: [string, string, RegExp][] = [
    ['truncated', 'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"short":', /truncated HTTP response \(9 of 50 bytes\)/],
    ['chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', /malformed HTTP response/],
    ['not HTTP', 'SSH-2.0-OpenSSH_9.6\r\n\r\n', /malformed HTTP response/],
    ['no head end', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n', /malformed HTTP response/],
    ['two lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab', /malformed HTTP response/],
    ['length not a number', 'HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nab', /malformed HTTP response/],
    ['nothing at all', '', /malformed HTTP response/],
  ];
  for (const [name, answer, error] of cases) {
    const url = await rawServer(() => answer);
    await assert.rejects(httpGet(`${url}/tuf/timestamp.json`, 16_384, 5000), error, name);
  }
});

test('no server, or one that never answers: rejected (connection refused, timeout, abandoned)', async () => {
  const closed = createTcpServer();
  const url = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));
  servers.pop();
  await assert.rejects(httpGet(`${url}/tuf/timestamp.json`, 16_384, 5000), { code: 'ECONNREFUSED' });
  const silent = await rawServer(() => '', true);
  await assert.rejects(httpGet(`${silent}/tuf/timestamp.json`, 16_384, 100), /timeout/);
  // Abandoned (a prefetched guess the workflow did not take); onSent has fired either way, so
  // nothing waiting for the requests to be written hangs.
  const abandon = new AbortController();
  let written = false;
  const pending = httpGet(`${silent}/tuf/1.snapshot.json`, 16_384, 60_000, () => (written = true), abandon.signal);
  await new Promise((resolve) => setImmediate(resolve));
  abandon.abort();
  await assert.rejects(pending, /abandoned/);
  assert.ok(written);
});

test('https: the server certificate is checked (trusted CA and host name); an untrusted or misnamed one is refused', async () => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { execFile, spawnSync } = await import('node:child_process');
  const { createServer: createHttpsServer } = await import('node:https');
  const dir = mkdtempSync(join(tmpdir(), 'keyless-tuf-https-'));
  try {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    const made = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    assert.equal(made.status, 0, made.stderr?.toString());
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      if (req.url === '/tuf/moved') return void res.writeHead(301, { location: '/tuf/timestamp.json' }).end();
      if (req.url === '/tuf/downgrade') return void res.writeHead(302, { location: 'http://localhost:1/tuf/timestamp.json' }).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url, version: req.httpVersion }));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, resolve));
    const port = (server.address() as AddressInfo).port;
    // The CA store is read at process start (NODE_EXTRA_CA_CERTS), so each case is its own process.
    // Not spawnSync: the server answering it runs in this process.
    const get = (url: string, trustCa: boolean): Promise<{ status: number | null; out: string }> => {
      const script = `import { httpGet } from ${JSON.stringify(new URL('../../src/tuf/http.ts', import.meta.url).href)};
        httpGet(${JSON.stringify(url)}, 16384, 5000).then((r) => console.log(r.status, r.body.toString()), (e) => { console.log('refused', e.code ?? e.message); process.exit(1); });`;
      const env = { ...process.env };
      delete env.NODE_EXTRA_CA_CERTS;
      if (trustCa) env.NODE_EXTRA_CA_CERTS = cert;
      return new Promise((resolve) => {
        execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, encoding: 'utf8' }, (error, stdout) =>
          resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, out: stdout.trim() }),
        );
      });
    };
    const trusted = await get(`https://localhost:${port}/tuf/timestamp.json`, true);
    assert.equal(trusted.status, 0, trusted.out);
    assert.equal(trusted.out, `200 {"url":"/tuf/timestamp.json","version":"1.0"}`);
    const untrusted = await get(`https://localhost:${port}/tuf/timestamp.json`, false);
    assert.equal(untrusted.status, 1);
    assert.match(untrusted.out, /^refused (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
    // Redirects: followed within https, never down to http.
    const moved = await get(`https://localhost:${port}/tuf/moved`, true);
    assert.equal(moved.out, `200 {"url":"/tuf/timestamp.json","version":"1.0"}`);
    const downgrade = await get(`https://localhost:${port}/tuf/downgrade`, true);
    assert.equal(downgrade.status, 1);
    assert.match(downgrade.out, /^refused a redirect from https to http: \(http:\/\/localhost:1\) is not followed/);
    const misnamed = await get(`https://127.0.0.1:${port}/tuf/timestamp.json`, true);
    assert.equal(misnamed.status, 1);
    assert.match(misnamed.out, /^refused ERR_TLS_CERT_ALTNAME_INVALID/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
