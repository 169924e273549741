// Finding 5 of issue 9 (the token endpoint): what can be decided from the request head (the Basic
// client, the per-address login rate) is answered before the body is read, in the API's envelope,
// and the connection is closed, so a body that never finishes holds nothing.
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { AUTH_PATHS } from '../../src/contract/index.ts';
import { startTestRelay, type TestRelay } from '../helpers/relay.ts';

/** bound on waiting for an answer that must come at once; the body is never finished before it */
const DEADLINE_MS = 10_000;

interface Raw {
  status: number;
  headers: string;
  body: unknown;
  /** resolves when the relay closes the connection */
  closed: Promise<void>;
}

/** Sends the head and a first piece of a body that never ends; resolves with the answer. */
function slowBodyLogin(relay: TestRelay, authorization: string | undefined): Promise<Raw> {
  const { port } = new URL(relay.url);
  const socket: Socket = connect(Number(port), '127.0.0.1');
  const closed = new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the relay kept the connection open ${DEADLINE_MS} ms after its answer, waiting for the body`));
    }, DEADLINE_MS);
    socket.once('close', () => {
      clearTimeout(deadline);
      resolve();
    });
  });
  closed.catch(() => {}); // awaited by the test once the answer is in
  return new Promise<Raw>((resolve, reject) => {
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${DEADLINE_MS} ms while the body was still open`));
    }, DEADLINE_MS);
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = text.slice(0, end);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
      const body = Buffer.from(text.slice(end + 4), 'latin1');
      if (!(body.length >= length)) return;
      clearTimeout(deadline);
      resolve({ status: Number(head.split(' ')[1]), headers: head, body: JSON.parse(body.toString('utf8')), closed });
    });
    socket.on('error', (err) => {
      clearTimeout(deadline);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(deadline);
      reject(new Error(`connection closed before a whole answer: ${JSON.stringify(text)}`));
    });
    socket.write(
      [
        `POST ${AUTH_PATHS.token} HTTP/1.1`,
        'Host: 127.0.0.1',
        ...(authorization ? [`Authorization: ${authorization}`] : []),
        'Content-Type: application/x-www-form-urlencoded',
        'Content-Length: 4000',
        '',
        'username=mine001&grant_type=password&scope=server&password=',
      ].join('\r\n'),
    );
  });
}

const basic = (pair: string) => 'Basic ' + Buffer.from(pair).toString('base64');

t.test('a wrong or missing Basic client is answered 401 before the body arrives', async (t) => {
  const relay = await startTestRelay(t);
  for (const authorization of [basic('pcfront:nope'), basic('other:pcfront'), undefined, 'Bearer x']) {
    const a = await slowBodyLogin(relay, authorization);
    t.equal(a.status, 401, `${authorization ?? 'no Authorization'}: 401`);
    t.match(a.body, { code: 1, msg: /^Authorization: / }, 'the API envelope, naming the field');
    await a.closed;
    t.pass('the relay closed the connection instead of reading the rest of the body');
  }
});

t.test('an address over its login rate is answered 429 before the body arrives', async (t) => {
  const relay = await startTestRelay(t, { 'relay.login.perAddressPerMinute': 1 });
  const first = await fetch(`${relay.url}${AUTH_PATHS.token}?username=mine001&password=00&grant_type=password`, {
    headers: { authorization: basic('pcfront:pcfront') },
  });
  t.equal(first.status, 426, 'the one attempt of this minute');
  const a = await slowBodyLogin(relay, basic('pcfront:pcfront'));
  t.equal(a.status, 429);
  t.match(a.headers, /\r\nretry-after: \d+/i);
  t.match(a.body, { code: 1, msg: /too many login attempts/ });
  await a.closed;
  t.pass('connection closed');
});
