// Issue 9, finding 7 (tus client): the client sends the account's token to every URL of an upload,
// so it follows only a Location (or resumes only an upload URL) on the upstream's own origin; any
// other origin fails with ESEAL_ERR_TUS_CLIENT_LOCATION before a request goes there.
import t, { type Test } from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { uploadWithTus, type TusUploadOptions } from '../../src/client/TusClient.ts';
import { TUS_PATH } from '../../src/contract/tus.ts';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
}

/** A server on loopback that records every request and answers with `answer`. */
async function server(t: Test, answer: (req: IncomingMessage, res: ServerResponse, base: string) => void): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  let base = '';
  const s = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
    req.resume();
    req.on('end', () => answer(req, res, base));
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  t.teardown(() => new Promise<void>((resolve) => s.close(() => resolve())));
  return { base, seen };
}

/** An upstream that creates uploads at `location(base)` and takes any chunk whole. */
async function upstream(t: Test, location: (base: string) => string) {
  return server(t, (req, res, base) => {
    res.setHeader('Tus-Resumable', '1.0.0');
    if (req.method === 'POST') {
      res.writeHead(201, { Location: location(base) }).end();
    } else if (req.method === 'PATCH') {
      res.writeHead(204, { 'Upload-Offset': String(SIZE) }).end();
    } else {
      res.writeHead(200, { 'Upload-Offset': '0', 'Upload-Length': String(SIZE) }).end();
    }
  });
}

const SIZE = 1000;
const TOKEN = 'the-account-token';

function options(baseUrl: string, extra: Partial<TusUploadOptions> = {}): TusUploadOptions {
  return {
    baseUrl,
    token: TOKEN,
    kind: 'personVideo',
    fileName: '1404210078662001000220210104224515.MP4',
    size: SIZE,
    open: () => Readable.from([Buffer.alloc(SIZE, 1)]),
    retries: 0,
    ...extra,
  };
}

t.test('a Location on another origin is refused with ESEAL_ERR_TUS_CLIENT_LOCATION; the token never goes there', async (t) => {
  const elsewhere = await server(t, (_req, res) => res.writeHead(204, { 'Upload-Offset': String(SIZE) }).end());
  const { host, port } = new URL(elsewhere.base);
  const cases: [string, (base: string) => string][] = [
    ['another host:port', () => `${elsewhere.base}/steal`],
    ['a protocol-relative URL', () => `//${host}/steal`],
    ['the same host on another port', (base) => `http://${new URL(base).hostname}:${port}${TUS_PATH}abc`],
    ['https instead of http', (base) => `https://${new URL(base).host}${TUS_PATH}abc`],
  ];
  for (const [what, location] of cases) {
    const up = await upstream(t, location);
    await t.rejects(
      uploadWithTus(options(up.base)),
      { code: 'ESEAL_ERR_TUS_CLIENT_LOCATION', message: /^create answered 201 with its Location on \S+, not on the upstream's origin http:\/\/127\.0\.0\.1:\d+: the account's token is sent to the upstream only/ },
      what,
    );
    t.same(up.seen.map((s) => s.method), ['POST'], `${what}: nothing after the creation`);
  }
  t.same(elsewhere.seen, [], 'no request (and no token) reached the other origin');
});

t.test('an upload URL to resume on another origin is refused before any request', async (t) => {
  const up = await upstream(t, (base) => `${base}${TUS_PATH}abc`);
  const elsewhere = await server(t, (_req, res) => res.writeHead(200, { 'Upload-Offset': '0' }).end());
  await t.rejects(uploadWithTus(options(up.base, { uploadUrl: `${elsewhere.base}${TUS_PATH}abc` })), {
    code: 'ESEAL_ERR_TUS_CLIENT_LOCATION',
    message: /^the upload URL to resume is on http:\/\/127\.0\.0\.1:\d+, not on the upstream's origin/,
  });
  t.same(up.seen, []);
  t.same(elsewhere.seen, []);
});

t.test('a Location on the upstream origin, absolute or a path, is followed with the token', async (t) => {
  for (const location of [(base: string) => `${base}${TUS_PATH}abc`, () => `${TUS_PATH}abc`]) {
    const up = await upstream(t, location);
    const r = await uploadWithTus(options(up.base));
    t.equal(r.completed, true);
    t.equal(r.uploadUrl, `${up.base}${TUS_PATH}abc`);
    t.same(
      up.seen.map((s) => [s.method, s.url, s.authorization]),
      [
        ['POST', TUS_PATH, `Bearer ${TOKEN}`],
        ['PATCH', `${TUS_PATH}abc`, `Bearer ${TOKEN}`],
      ],
    );
  }
});
