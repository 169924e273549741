// The gb28181:// address the edge names a bridge channel by, and what both sides share to reach
// the bridge's live stream (token file, viewer URL, live path).
import fc from 'fast-check';
import t from 'tap';
import { join } from 'node:path';
import {
  GB28181_VIEW_LISTEN,
  GB28181_VIEW_TOKEN,
  checkGbAddress,
  formatGbAddress,
  gbDataDir,
  gbLivePath,
  gbLiveUrl,
  gbViewBaseUrl,
  gbViewTokenFile,
  isGbAddress,
  parseGbAddress,
} from '../../../src/contract/gb28181.ts';

const a = { deviceId: '34020000001320000001', channelId: '34020000001310000001' };

t.test('parse and format', async (t) => {
  t.equal(formatGbAddress(a), 'gb28181://34020000001320000001/34020000001310000001');
  t.same(parseGbAddress(formatGbAddress(a)), a);
  t.same(parseGbAddress('GB28181://34020000001320000001/34020000001310000001/'), a);
  t.equal(parseGbAddress('gb28181://3402/34020000001310000001'), undefined);
  t.equal(parseGbAddress('rtsp://x/y'), undefined);
  t.ok(isGbAddress('gb28181://bad'));
  t.throws(() => formatGbAddress({ deviceId: '1', channelId: '2' }));
});

t.test('checkGbAddress names the part at fault', async (t) => {
  t.same(checkGbAddress(' gb28181://34020000001320000001/34020000001310000001 '), { address: a });
  t.same(checkGbAddress('gb28181://34020000001320000001'), { problem: 'a GB/T 28181 channel is written gb28181://<device id>/<channel id>', field: 'address' });
  t.match(checkGbAddress('gb28181:///34020000001310000001'), { field: 'deviceId', problem: /device id "" is not a 20-digit/ });
  t.match(checkGbAddress('gb28181://34020000001320000001/3402000000131000000x'), { field: 'channelId', problem: /channel id "3402000000131000000x"/ });
  const long = checkGbAddress(`gb28181://${'9'.repeat(500)}/${a.channelId}`);
  t.match(long, { field: 'deviceId' });
  t.ok('problem' in long && long.problem.length < 120, 'a long id is cut in the problem');
});

t.test('property: checkGbAddress is total and agrees with parseGbAddress; format/parse round-trip', async () => {
  const digits20 = fc.stringMatching(/^\d{20}$/);
  fc.assert(
    fc.property(digits20, digits20, (deviceId, channelId) => {
      const url = formatGbAddress({ deviceId, channelId });
      const c = checkGbAddress(url);
      return 'address' in c && c.address.deviceId === deviceId && c.address.channelId === channelId && parseGbAddress(url)?.channelId === channelId;
    }),
  );
  const junk = fc.oneof(fc.string(), fc.string().map((s) => `gb28181://${s}`), fc.tuple(fc.string(), fc.string()).map(([d, c]) => `gb28181://${d}/${c}`));
  fc.assert(
    fc.property(junk, (url) => {
      const c = checkGbAddress(url);
      const p = parseGbAddress(url);
      return 'address' in c ? p !== undefined && p.deviceId === c.address.deviceId : p === undefined && c.problem.length > 0;
    }),
    { numRuns: 2000 },
  );
});

t.test('the token file, the viewer URL and a channel\'s live URL', async (t) => {
  t.equal(gbDataDir('/var/lib/eseal'), join('/var/lib/eseal', 'gb28181'));
  t.equal(gbViewTokenFile('/var/lib/eseal'), '/var/lib/eseal/gb28181/view.token');
  t.equal(GB28181_VIEW_LISTEN, '127.0.0.1:9092');
  t.equal(gbViewBaseUrl(), 'http://127.0.0.1:9092');
  t.equal(gbViewBaseUrl('0.0.0.0:9092'), 'http://127.0.0.1:9092', 'every interface is reached on loopback');
  t.equal(gbViewBaseUrl('[::]:9092'), 'http://[::1]:9092');
  t.equal(gbViewBaseUrl('10.1.2.3:9000'), 'http://10.1.2.3:9000');
  t.equal(gbLivePath(a, 'mp4'), '/live/34020000001320000001/34020000001310000001.mp4');
  t.equal(gbLiveUrl('http://10.1.2.3:9092/', a, 'mjpeg', 'a+b/c'), 'http://10.1.2.3:9092/live/34020000001320000001/34020000001310000001.mjpeg?token=a%2Bb%2Fc');
  t.ok(GB28181_VIEW_TOKEN.test('AbC_-0123456789abcdefghij'));
  t.notOk(GB28181_VIEW_TOKEN.test('short'));
  t.notOk(GB28181_VIEW_TOKEN.test('with space 0123456789abcdef'));
});
