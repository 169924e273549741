// Registration as GB/T 28181 §9.1 and RFC 2617 say: the digest matches the RFC's vectors, the
// device answers the 401 challenge with and without qop, a wrong password is refused, the 200's
// Date is kept, keepalives arrive, Expires: 0 on close, a new source port after rebinding.
import t from 'tap';
import digest from 'sip/digest.js';
import { answerChallenge, digestResponse, parseChallenge } from '../../../sim/device/digest.ts';
import { SimDevice } from '../../../sim/device/SimDevice.ts';
import type { SimDeviceOptions } from '../../../sim/device/SimDeviceTypes.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DEVICE_ID, DOMAIN, PASSWORD, Peer, SERVER_ID, simOptions } from './peer.ts';

const opts = (peer: Peer, extra: Partial<SimDeviceOptions> = {}): SimDeviceOptions => simOptions(peer, { keepaliveSeconds: 60, ...extra });

t.test('digest: the RFC 2617 §3.5 vector (qop=auth) and the RFC 2069 vector (no qop)', async (t) => {
  const base = { username: 'Mufasa', realm: 'testrealm@host.com', method: 'GET', uri: '/dir/index.html', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093' };
  t.equal(digestResponse({ ...base, password: 'Circle Of Life', qop: 'auth', nc: '00000001', cnonce: '0a4f113b' }), '6629fae49393a05397450978507c4ef1');
  t.equal(digestResponse({ ...base, password: 'CircleOfLife' }), '1949323746fe6a43ef61f9606e7febea');
  // and the same as an independent implementation (the sip package's) for a SIP REGISTER
  const c = parseChallenge('Digest realm="3402000000", nonce="abc", qop="auth,auth-int", algorithm=MD5');
  t.ok(c);
  const a = answerChallenge(c!, DEVICE_ID, PASSWORD, 'REGISTER', `sip:${SERVER_ID}@${DOMAIN}`, 3);
  t.equal(a.qop, 'auth');
  t.equal(a.nc, '00000003');
  const ha1 = digest.calculateUserRealmPasswordHash(DEVICE_ID, DOMAIN, PASSWORD);
  t.equal(a.response, digest.calculateDigest({ ha1, method: 'REGISTER', nonce: 'abc', nc: a.nc!, cnonce: a.cnonce!, qop: 'auth', uri: a.uri }));
  const plain = answerChallenge(parseChallenge('Digest nonce="n1", realm="r"')!, 'u', 'p', 'REGISTER', 'sip:x@y');
  t.equal(plain.qop, undefined);
  t.equal(plain.response, digest.calculateDigest({ ha1: digest.calculateUserRealmPasswordHash('u', 'r', 'p'), method: 'REGISTER', nonce: 'n1', uri: 'sip:x@y' }));
  t.equal(parseChallenge('Basic realm="x"'), undefined);
  t.equal(parseChallenge('Digest realm="x"'), undefined, 'no nonce: not a usable challenge');
});

for (const protocol of ['udp', 'tcp'] as const) {
  for (const qop of [true, false]) {
    t.test(`${protocol}, ${qop ? 'qop=auth' : 'no qop'}: 401 → REGISTER with Authorization → 200 with Date; keepalive; Expires 0 on close`, async (t) => {
      const peer = await Peer.start(t, { protocol, qop });
      const dev = await SimDevice.start(opts(peer, { keepaliveSeconds: 0.2 }));
      t.teardown(() => dev.close());
      t.equal(peer.registers.length, 2, 'one REGISTER without credentials, one with');
      t.notOk(peer.registers[0]!.headers['authorization']);
      const auth = peer.registers[1]!.headers['authorization']!;
      t.match(auth, new RegExp(`^Digest username="${DEVICE_ID}", realm="${DOMAIN}"`));
      t.equal(/qop=auth/.test(auth), qop, 'qop answered only when offered');
      t.equal(peer.registers[0]!.headers['call-id'], peer.registers[1]!.headers['call-id'], 'the same Call-ID');
      t.match(peer.registers[0]!.start, `REGISTER sip:${SERVER_ID}@${DOMAIN} SIP/2.0`);
      t.ok(dev.registered && peer.registered);
      t.equal(dev.serverDate, '2024-05-01T12:34:56.789', 'the Date of the 200 is recorded');
      await waitFor(() => peer.bodies('Keepalive').length >= 2, 10_000, 'two keepalives');
      t.match(peer.bodies('Keepalive')[0]!, /<Notify>[\s\S]*<DeviceID>34020000001320000001<\/DeviceID>[\s\S]*<Status>OK<\/Status>/);
      await dev.close();
      t.ok(peer.unregistered, 'closing sent REGISTER with Expires: 0');
      t.equal(peer.registers.at(-1)!.headers['expires'], '0');
    });
  }
}

t.test('wrong password knob: the server refuses with 403, start rejects with ESEAL_ERR_SIMDEV_REGISTER', async (t) => {
  const peer = await Peer.start(t, { protocol: 'udp' });
  await t.rejects(SimDevice.start(opts(peer, { wrongPassword: true })), { code: 'ESEAL_ERR_SIMDEV_REGISTER', detail: { status: 403 } });
  t.equal(peer.forbidden, 1);
  t.notOk(peer.registered);
});

t.test('no keepalive knob: registered, but no Keepalive is ever sent', async (t) => {
  const peer = await Peer.start(t, { protocol: 'udp' });
  const dev = await SimDevice.start(opts(peer, { keepaliveSeconds: 0.05, noKeepalive: true }));
  t.teardown(() => dev.close());
  // a control device on the same peer proves keepalives would have had time to arrive
  const control = await SimDevice.start(opts(peer, { keepaliveSeconds: 0.05, deviceId: '34020000001320000099' }));
  t.teardown(() => control.close());
  await waitFor(() => peer.bodies('Keepalive').length >= 3, 10_000, 'the control device keepalives');
  t.ok(peer.bodies('Keepalive').every((b) => b.includes('34020000001320000099')), 'only the control device kept alive');
});

t.test('re-registers before the granted expiry', async (t) => {
  const peer = await Peer.start(t, { protocol: 'udp', grantExpires: 1 });
  const dev = await SimDevice.start(opts(peer));
  t.teardown(() => dev.close());
  const before = peer.registers.length;
  await waitFor(() => peer.registers.length > before, 10_000, 'a re-REGISTER');
  t.ok(peer.registers.at(-1)!.headers['authorization'], 'the re-REGISTER carries credentials');
});

t.test('NAT rebinding: after rebind() the device speaks from a new source port', async (t) => {
  const peer = await Peer.start(t, { protocol: 'udp' });
  const dev = await SimDevice.start(opts(peer, { keepaliveSeconds: 3600 }));
  t.teardown(() => dev.close());
  const oldPort = peer.registers[1]!.from.port;
  t.equal(await dev.rebind(), 200, 'the keepalive from the new port is answered');
  const last = peer.messages.at(-1)!;
  t.not(last.from.port, oldPort);
  t.equal(last.from.port, dev.local.port);
  t.match(last.headers['via'], `127.0.0.1:${dev.local.port}`, 'Via names the new port');
});

t.test('malformed input never crashes the device; a bad MANSCDP body gets 400', async (t) => {
  const peer = await Peer.start(t, { protocol: 'udp' });
  const dev = await SimDevice.start(opts(peer, { keepaliveSeconds: 3600 }));
  t.teardown(() => dev.close());
  peer.sendRaw('garbage\r\n\r\n');
  peer.sendRaw('\x00\x01\x02');
  peer.sendRaw('SIP/2.0 200 OK\r\nCSeq: x\r\n\r\n');
  await waitFor(() => dev.counters.garbage >= 3, 5000, 'three garbage datagrams counted');
  const rs = await peer.query('Catalog', 1, DEVICE_ID).then(() => undefined);
  t.equal(rs, undefined);
  peer.sendRaw(
    `MESSAGE sip:${DEVICE_ID}@${DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKbad\r\nFrom: <sip:${SERVER_ID}@${DOMAIN}>;tag=x\r\nTo: <sip:${DEVICE_ID}@${DOMAIN}>\r\nCall-ID: badbody\r\nCSeq: 9 MESSAGE\r\nContent-Length: 9\r\n\r\n<notxml>!`,
  );
  const bad = await peer.next((m) => m.headers['call-id'] === 'badbody', peer.responses);
  t.match(bad.start, 'SIP/2.0 400');
});
