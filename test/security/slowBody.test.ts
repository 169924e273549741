// Finding 5 of issue 9: a body sent one byte at a time held its connection (and an upload slot)
// until the 600 s request timeout. The relay now wants a body to keep arriving at a minimum rate,
// measured over windows after a grace period, on every route (records, multipart, tus PATCH, the
// token endpoint). The windows are scaled down here through the configuration; the request timeout
// stays at its default, so a cut can only come from the rate floor.
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { AUTH_PATHS, EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatEvidenceFileName } from '../../src/contract/index.ts';
import { TUS_PATH, formatMetadata } from '../../src/contract/tus.ts';
import { makeVideo, padMp4ToSize } from '../helpers/media.ts';
import { MINE, relayWithMine, tempDir, type TestRelay } from '../helpers/relay.ts';

const FLOOR = 1000;
const SCALED = {
  'relay.connections.minBodyBytesPerSecond': FLOOR,
  'relay.connections.bodyRateWindowSeconds': 1,
  'relay.connections.bodyGraceSeconds': 1,
};

interface Sent {
  /** what the relay wrote back */
  response: string;
  /** the relay closed the connection before the whole body was sent */
  cutEarly: boolean;
  bytesSent: number;
}

/**
 * Sends `head` at once, then `body` in pieces of `pieceBytes` every `everyMs`, until the relay
 * answers and closes (it is asked to: Connection: close) or the body is sent and answered.
 */
function paced(relay: TestRelay, head: string, body: Buffer, pieceBytes: number, everyMs: number): Promise<Sent> {
  const url = new URL(relay.url);
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('end', () => clearInterval(timer));
    sock.on('error', () => {}); // a reset after the answer is fine; 'close' follows
    sock.on('close', () => {
      clearInterval(timer);
      resolve({ response: Buffer.concat(chunks).toString('utf8'), cutEarly: sent < body.length, bytesSent: sent });
    });
    sock.once('connect', () => {
      sock.write(head.replace(/\r\n\r\n$/, `\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`));
      timer = setInterval(() => {
        if (sent >= body.length || !sock.writable) return clearInterval(timer);
        const piece = body.subarray(sent, sent + pieceBytes);
        sent += piece.length;
        sock.write(piece);
      }, everyMs);
    });
    sock.once('error', reject);
  });
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

function envelopeOf(response: string): any {
  const i = response.indexOf('\r\n\r\n');
  return JSON.parse(response.slice(i + 4));
}

async function tusUpload(relay: TestRelay, token: string, length: number): Promise<string> {
  const fileName = formatEvidenceFileName('count', { mineId: MINE, cameraId: '10', aiTypeCode: '01', count: '0001', time: Date.now() });
  const res = await request(relay.url + TUS_PATH, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'tus-resumable': '1.0.0',
      'upload-length': String(length),
      'upload-metadata': formatMetadata({ kind: 'personVideo', filename: fileName }),
    },
  });
  await res.body.dump();
  if (res.statusCode !== 201) throw new Error(`tus create: ${res.statusCode}`);
  return new URL(String(res.headers['location']), relay.url).pathname;
}

t.test('a trickling body is answered 408 and closed, long before the request timeout, on every route', async (t) => {
  const { relay, mine } = await relayWithMine(t, SCALED);
  t.equal(relay.config.relay.limits.requestTimeoutSeconds, 300, 'the request timeout is left at its default');
  const auth = `Authorization: Bearer ${mine.token}\r\n`;
  const boundary = 'trickle';
  const name = formatEvidenceFileName('count', { mineId: MINE, cameraId: '10', aiTypeCode: '01', count: '0001', time: Date.now() });
  const multipartStart = `--${boundary}\r\nContent-Disposition: form-data; name="personVideo"; filename="${name}"\r\nContent-Type: application/mp4\r\n\r\n`;
  const tusPath = await tusUpload(relay, mine.token, 10 * 1024 * 1024);
  const cases: [string, string, Buffer][] = [
    ['a record', `POST ${RECORD_ENDPOINTS.person.path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\n\r\n`, Buffer.alloc(400, ' ')],
    [
      'a multipart upload',
      `POST ${EVIDENCE_ENDPOINTS.personVideo.path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: multipart/form-data; boundary=${boundary}\r\n\r\n`,
      Buffer.concat([Buffer.from(multipartStart), Buffer.alloc(400, 'x')]),
    ],
    [
      'a tus PATCH',
      `PATCH ${tusPath} HTTP/1.1\r\nHost: x\r\n${auth}Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n\r\n`,
      Buffer.alloc(400, 'x'),
    ],
    [
      'a login',
      `POST ${AUTH_PATHS.token} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${Buffer.from('pcfront:pcfront').toString('base64')}\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n`,
      Buffer.alloc(400, 'a'),
    ],
  ];
  // 10 bytes/s against a floor of 1000; the whole body would take 40 s
  const results = await Promise.all(cases.map(([, head, body]) => paced(relay, head, body, 1, 100)));
  for (const [i, r] of results.entries()) {
    const what = cases[i]![0];
    t.ok(r.cutEarly, `${what}: closed by the relay after ${r.bytesSent} of 400+ bytes`);
    t.equal(statusOf(r.response), 408, `${what}: answered 408`);
    const env = envelopeOf(r.response);
    t.equal(env.code, 1, `${what}: the envelope`);
    t.match(env.msg, new RegExp(`^body: arrived at [\\d.]+ bytes/s over the last \\d+ s, below the relay's minimum of ${FLOOR} bytes/s`), what);
  }
  t.equal(relay.ctx.queue.range().length, 0, 'nothing was stored');
  const head = await request(relay.url + tusPath, { method: 'HEAD', headers: { authorization: `Bearer ${mine.token}`, 'tus-resumable': '1.0.0' } });
  await head.body.dump();
  t.equal(head.statusCode, 200, 'the resumable upload is still there to resume');
  const metrics = await request(relay.url + '/metrics', { headers: { authorization: `Bearer ${relay.ctx.adminToken}` } });
  const text = await metrics.body.text();
  t.match(text, /eseal_rejected_total\{endpoint="infoReport\/person",reason="ESEAL_ERR_RELAY_SLOW_BODY"\} 1/);
  t.match(text, /eseal_rejected_total\{endpoint="fileOperator\/personVideo",reason="ESEAL_ERR_RELAY_SLOW_BODY"\} 1/);
  t.equal((await mine.record(RECORD_ENDPOINTS.person, { mineId: MINE, cameraId: '10', aiTypeCode: '01', inWellNumber: '0001', time: '2020-09-09 12:00:00' })).status, 200, 'the relay serves on');
});

t.test('bodies above the floor pass however long they take: a paced multipart video and a paced tus chunk', async (t) => {
  const dir = await tempDir(t);
  const padded = join(dir, 'padded.mp4');
  await padMp4ToSize(await makeVideo(dir, { seconds: 1 }), padded, 256 * 1024);
  const video = await readFile(padded);
  const { relay, mine } = await relayWithMine(t, SCALED);
  const boundary = 'paced';
  const name = formatEvidenceFileName('count', { mineId: MINE, cameraId: '10', aiTypeCode: '01', count: '0002', time: Date.now() });
  const multipart = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="personVideo"; filename="${name}"\r\nContent-Type: application/mp4\r\n\r\n`),
    video,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const tusPath = await tusUpload(relay, mine.token, 10 * 1024 * 1024);
  const chunk = Buffer.alloc(256 * 1024, 'x');
  // 40 pieces, one every 100 ms: about 4 s each, past the grace period and several windows, at
  // 60 times the floor or more (a stall of the test's own event loop slows the relay's clock too)
  const piece = (n: number) => Math.ceil(n / 40);
  const [upload, patch] = await Promise.all([
    paced(
      relay,
      `POST ${EVIDENCE_ENDPOINTS.personVideo.path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${mine.token}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n\r\n`,
      multipart,
      piece(multipart.length),
      100,
    ),
    paced(
      relay,
      `PATCH ${tusPath} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${mine.token}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n\r\n`,
      chunk,
      piece(chunk.length),
      100,
    ),
  ]);
  t.notOk(upload.cutEarly, 'the whole video was sent');
  t.equal(statusOf(upload.response), 200, upload.response.slice(0, 400));
  t.same(envelopeOf(upload.response), { code: 0, msg: 'success', data: true });
  t.notOk(patch.cutEarly, 'the whole chunk was sent');
  t.equal(statusOf(patch.response), 204, patch.response.slice(0, 400));
  t.match(patch.response, /Upload-Offset: 262144/i);
  t.equal(relay.ctx.queue.range().length, 1, 'the video is queued');
});
