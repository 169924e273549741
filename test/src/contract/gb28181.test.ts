// The gb28181:// address the edge names a bridge channel by.
import t from 'tap';
import { formatGbAddress, isGbAddress, parseGbAddress } from '../../../src/contract/gb28181.ts';

t.test('parse and format', async (t) => {
  const a = { deviceId: '34020000001320000001', channelId: '34020000001310000001' };
  t.equal(formatGbAddress(a), 'gb28181://34020000001320000001/34020000001310000001');
  t.same(parseGbAddress(formatGbAddress(a)), a);
  t.same(parseGbAddress('GB28181://34020000001320000001/34020000001310000001/'), a);
  t.equal(parseGbAddress('gb28181://3402/34020000001310000001'), undefined);
  t.equal(parseGbAddress('rtsp://x/y'), undefined);
  t.ok(isGbAddress('gb28181://bad'));
  t.throws(() => formatGbAddress({ deviceId: '1', channelId: '2' }));
});
