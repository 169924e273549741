// The edge's shared pieces for talking to a relay: an answer read up to a size, over a real socket.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { readCapped, relayAgent } from '../../edge/relayHttp.ts';

t.test('readCapped: the whole answer up to the cap, and past it the socket let go and the overflow said', async (t) => {
  const server = createServer((req, res) => res.end('x'.repeat(Number(req.url!.slice(1)))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const small = await readCapped((await request(url + '100')).body, 100);
  t.same(small, { text: 'x'.repeat(100), overflow: false }, 'exactly the cap is whole');
  const big = await readCapped((await request(url + '300000')).body, 1000);
  t.equal(big.overflow, true, 'past the cap');
  t.ok(big.text.length <= 1000, `no more than the cap kept (${big.text.length})`);
});

t.test('relayAgent: none without tls settings, an agent with them', async (t) => {
  t.equal(relayAgent(undefined), undefined);
  const agent = relayAgent({ insecure: true });
  t.ok(agent);
  await agent!.close();
});
