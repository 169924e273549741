// Finding 5 of issue 9: one address could open connections up to the relay's global limit and so
// starve every mine. Connections beyond relay.connections.perAddress from one address are closed
// at once, before a byte of them is read; other addresses are not affected, and a closed
// connection frees its place.
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { startTestRelay, type TestRelay } from '../helpers/relay.ts';

const CAP = 3;

interface Conn {
  sock: Socket;
  /** what came back for one GET /healthz: the status, or 0 when the relay closed without answering */
  status: Promise<number>;
  closed: Promise<void>;
}

/** A connection from `from` (any 127.x address is this host's loopback) that asks for /healthz. */
function open(relay: TestRelay, from: string, keepAlive = true): Conn {
  const url = new URL(relay.url);
  const sock = connect({ port: Number(url.port), host: url.hostname, localAddress: from });
  sock.on('error', () => {}); // a reset is one way of being refused; 'close' follows
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  const status = new Promise<number>((resolve) => {
    let got = '';
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      // the whole answer is in once its (small) JSON body closes
      if (/\r\n\r\n\{.*\}$/s.test(got)) resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0));
    });
    void closed.then(() => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0)));
  });
  sock.once('connect', () => sock.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`));
  return { sock, status, closed };
}

t.test('the connection over the per-address cap is closed; other addresses and freed places are served', async (t) => {
  const relay = await startTestRelay(t, { 'relay.connections.perAddress': CAP });
  const held: Conn[] = [];
  t.teardown(() => held.forEach((c) => c.sock.destroy()));
  for (let i = 0; i < CAP; i++) {
    const c = open(relay, '127.0.0.1');
    held.push(c);
    // answered, so the relay has counted it; kept open (keep-alive)
    t.equal(await c.status, 200, `connection ${i + 1} of ${CAP} is served`);
  }
  const over = open(relay, '127.0.0.1', false);
  held.push(over);
  await over.closed;
  t.equal(await over.status, 0, `connection ${CAP + 1} from the same address is closed without an answer`);

  const other = open(relay, '127.0.0.2', false);
  t.equal(await other.status, 200, 'another address is served');
  await other.closed;

  // free one place; the relay sees the close a moment later, so try a bounded number of times
  held[0]!.sock.end();
  await held[0]!.closed;
  let status = 0;
  for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
    const again = open(relay, '127.0.0.1', false);
    status = await again.status;
    await again.closed;
  }
  t.equal(status, 200, 'a freed place is given to the next connection');

  const text = await relay.ctx.metrics.registry.metrics();
  t.match(text, /eseal_rejected_total\{endpoint="other",reason="ESEAL_ERR_RELAY_CONNECTIONS"\} [1-9]/, 'refusals are counted');
});

t.test('the default cap leaves room for an edge (a pool of 64) and several devices behind one NAT address', async (t) => {
  const relay = await startTestRelay(t);
  t.ok(relay.config.relay.connections.perAddress >= 128, `perAddress ${relay.config.relay.connections.perAddress}`);
  t.ok(relay.config.relay.connections.perAddress < relay.config.relay.limits.maxConnections / 8, 'one address cannot take the relay’s connections');
  const conns: Conn[] = [];
  t.teardown(() => conns.forEach((c) => c.sock.destroy()));
  for (let i = 0; i < 80; i++) conns.push(open(relay, '127.0.0.1'));
  const statuses = await Promise.all(conns.map((c) => c.status));
  t.equal(statuses.filter((s) => s === 200).length, 80, '80 connections at once from one address are all served');
});
