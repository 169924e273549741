// Issue 9, finding 1: no request, however malformed, may take a listener of ours down. Every
// listener we run (the relay's HTTP listener, an edge camera's live stream, the national simulator's
// data and control ports) gets malformed request lines and headers over raw TCP, each followed by a
// good request to the same listener; they must answer 4xx or close, keep serving, and the process
// hosting them must still be alive at the end.
//
// The listeners run in a child process (this file, started with ESEAL_LISTENERS_CHILD set), so
// that a crash is seen as a dead child rather than taking the test runner with it.
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';

interface Ports {
  relay: number;
  live: number;
  simData: number;
  simControl: number;
}

const CHILD_ENV = 'ESEAL_LISTENERS_CHILD';
const LIVE_TOKEN = 'listenersTestToken_listenersTest';

/** The child: every listener, on loopback, printing their ports as one line. */
async function runChild(dataDir: string): Promise<void> {
  const { MjpegServer } = await import('../../edge/live/MjpegServer.ts');
  const { NationalSimulator } = await import('../../sim/national/NationalSimulator.ts');
  const { startRelay } = await import('../../relay/server.ts');
  const { testConfig } = await import('../helpers/relay.ts');
  const { createLogger } = await import('../../src/log.ts');
  const { solidFrame, T0 } = await import('../edge/evidence/frames.ts');

  const config = await testConfig(dataDir);
  const relay = await startRelay(config, createLogger({ level: 'silent' }));
  const live = new MjpegServer({ host: '127.0.0.1', port: 0, pathToken: LIVE_TOKEN, camera: 'probe' });
  const { port: livePort } = await live.listen();
  live.publish(solidFrame(1, T0, 64, 48, [10, 20, 30]), [], { time: T0, camera: 'probe' });
  const sim = await NationalSimulator.start({ host: '127.0.0.1' });
  const ports: Ports = {
    relay: Number(new URL(relay.url).port),
    live: livePort,
    simData: sim.port,
    simControl: Number(new URL(sim.controlUrl).port),
  };
  process.stdout.write(`LISTENERS ${JSON.stringify(ports)}\n`);
  const stop = async () => {
    await Promise.allSettled([relay.close(), live.close(), sim.close()]);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
}

interface Probe {
  name: string;
  bytes: Buffer;
  /** half-close after sending, as a client that sent its whole request and waits */
  end?: boolean;
}

const CRLF = '\r\n';
const probe = (name: string, text: string | Buffer, end = false): Probe => ({ name, bytes: typeof text === 'string' ? Buffer.from(text, 'latin1') : text, end });

/** Malformed requests; `{host}` is the listener's host:port. */
const PROBES: Probe[] = [
  probe('absolute-form target with a bad port', `GET http://a:99999/ HTTP/1.1${CRLF}Host: a${CRLF}${CRLF}`),
  probe('absolute-form target with a bad host', `GET http://[::1/ HTTP/1.1${CRLF}Host: a${CRLF}${CRLF}`),
  probe('scheme-relative target with a bad port', `GET //a:99999/x HTTP/1.1${CRLF}Host: a${CRLF}${CRLF}`),
  probe('bad percent-encoding in the path', `GET /%E0%A4%A/%zz HTTP/1.1${CRLF}Host: a${CRLF}${CRLF}`),
  probe('bad percent-encoding in the query', `GET /?action=%ZZ&access_token=%E0%A4 HTTP/1.1${CRLF}Host: a${CRLF}${CRLF}`),
  probe('a 100 KB header', `GET / HTTP/1.1${CRLF}Host: a${CRLF}X-Big: ${'a'.repeat(100_000)}${CRLF}${CRLF}`),
  probe('a header line without a colon', `GET / HTTP/1.1${CRLF}Host: a${CRLF}this is not a header${CRLF}${CRLF}`),
  probe('a header name with a space', `GET / HTTP/1.1${CRLF}Bad Name: x${CRLF}${CRLF}`),
  probe('a NUL byte in the target', `GET /a\0b HTTP/1.1${CRLF}Host: a${CRLF}${CRLF}`),
  probe('a NUL byte in a header value', `GET / HTTP/1.1${CRLF}Host: a\0b${CRLF}${CRLF}`),
  probe('two different Content-Lengths', `POST / HTTP/1.1${CRLF}Host: a${CRLF}Content-Length: 1${CRLF}Content-Length: 2${CRLF}${CRLF}ab`),
  probe('a broken chunked body', `POST / HTTP/1.1${CRLF}Host: a${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}zz${CRLF}oops${CRLF}`),
  probe('a TLS ClientHello', Buffer.from('16030100a5010000a10303' + '00'.repeat(64), 'hex')),
  probe('binary garbage', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 97 + 13) % 256))),
  // an HTTP/0.9 request has no headers: its client sends the line and waits (the parser waits for more until EOF)
  probe('HTTP/0.9', `GET /${CRLF}`, true),
  probe('a request cut short', `GET http://a:99999/ HTTP/1.1${CRLF}Host: a`, true),
  probe('HTTP/2 preface on HTTP/1', `PRI * HTTP/2.0${CRLF}${CRLF}SM${CRLF}${CRLF}`),
  probe('an unknown method', `BREW / HTTP/1.1${CRLF}Host: a${CRLF}${CRLF}`),
  probe('a method with odd characters', `G@T / HTTP/1.1${CRLF}Host: a${CRLF}${CRLF}`),
  probe('a lower-case method', `get / HTTP/1.1${CRLF}Host: a${CRLF}${CRLF}`),
  probe('CONNECT to a bad port', `CONNECT a:99999 HTTP/1.1${CRLF}Host: a:99999${CRLF}${CRLF}`),
  probe('an Upgrade to websocket', `GET /no/such/path HTTP/1.1${CRLF}Host: a${CRLF}Connection: Upgrade${CRLF}Upgrade: websocket${CRLF}${CRLF}`),
  probe('an asterisk target', `OPTIONS * HTTP/1.1${CRLF}Host: a${CRLF}${CRLF}`),
  probe('HTTP/9.9', `GET / HTTP/9.9${CRLF}Host: a${CRLF}${CRLF}`),
  probe('a bare LF request', `GET http://a:99999/ HTTP/1.1\nHost: a\n\n`),
];

interface Exchange {
  /** the status of the first answer, if one came */
  status: number | undefined;
  /** the connection was closed by the listener (or reset) */
  closed: boolean;
}

/**
 * Sends raw bytes and waits until a full status line has come back or the connection closed. A
 * listener that neither answers nor closes within `limitMs` fails the probe.
 */
function exchange(port: number, bytes: Buffer, end = false, limitMs = 15_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3}) /.exec(text);
      socket.destroy();
      resolve({ status: m ? Number(m[1]) : undefined, closed });
    };
    const timer = setTimeout(() => finish(false), limitMs);
    socket.on('connect', () => (end ? socket.end(bytes) : socket.write(bytes, () => undefined)));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (/^HTTP\/1\.[01] \d{3} /.test(Buffer.concat(chunks).toString('latin1'))) finish(false);
    });
    // a reset while writing a large probe is a close too
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

async function runParent(): Promise<void> {
  const { default: t } = await import('tap');
  const { EsealChild, REPO_ROOT } = await import('../../tools/esealChild.ts');
  const { tempDir } = await import('../helpers/tempDir.ts');

  t.test('every listener refuses malformed requests and keeps serving', async (t) => {
    const dataDir = await tempDir(t);
    const child = EsealChild.spawn({
      script: relative(REPO_ROOT, fileURLToPath(import.meta.url)),
      env: { ...process.env, [CHILD_ENV]: dataDir },
      keepLines: 200,
      name: 'the listeners',
      guard: (kill) => t.teardown(kill),
    });
    const line = await child.waitForLine((l) => l.startsWith('LISTENERS '), 60_000);
    const ports = JSON.parse(line.slice('LISTENERS '.length)) as Ports;

    const good: Record<keyof Ports, { path: string; status: number }> = {
      relay: { path: '/healthz', status: 200 },
      live: { path: `/${LIVE_TOKEN}/?action=snapshot`, status: 200 },
      simData: { path: '/sm2', status: 200 },
      simControl: { path: '/_sim/info', status: 200 },
    };

    for (const name of Object.keys(ports) as (keyof Ports)[]) {
      const port = ports[name];
      const check = good[name];
      const request = Buffer.from(`GET ${check.path} HTTP/1.1${CRLF}Host: 127.0.0.1:${port}${CRLF}Connection: close${CRLF}${CRLF}`, 'latin1');
      t.test(name, async (t) => {
        for (const p of PROBES) {
          const got = await exchange(port, p.bytes, p.end);
          const ok = got.status === undefined ? got.closed : got.status >= 400 && got.status < 500;
          t.ok(ok, `${name}, ${p.name}: answered ${got.status ?? 'nothing'}${got.closed ? ', closed' : ''} (4xx or a clean close wanted)`);
          const after = await exchange(port, request);
          t.equal(after.status, check.status, `${name} still serves after ${p.name}`);
          if (!child.running()) {
            t.fail(`the process died after "${p.name}" sent to ${name}:\n${child.tail(40)}`);
            return;
          }
        }
      });
    }
    t.test('the process is still alive', async (t) => {
      t.ok(child.running(), child.running() ? 'alive' : `it ended:\n${child.tail(40)}`);
    });
  });
}

const childDir = process.env[CHILD_ENV];
if (childDir) await runChild(childDir);
else await runParent();
