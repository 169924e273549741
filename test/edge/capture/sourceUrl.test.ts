import fc from 'fast-check';
import t from 'tap';
import { CaptureBadUrl } from '../../../edge/capture/errors.ts';
import { ffmpegFeatures, ffmpegPath } from '../../../src/media/ffmpeg.ts';
import { parseSourceUrl, redactSecrets } from '../../../edge/capture/sourceUrl.ts';

t.test('rtsp, rtsps, http and https sources', async (t) => {
  const rtsp = parseSourceUrl('rtsp://admin:12345abc@192.168.1.64:554/Streaming/Channels/101');
  t.equal(rtsp.kind, 'rtsp');
  t.equal(rtsp.input, 'rtsp://admin:12345abc@192.168.1.64:554/Streaming/Channels/101', 'ffmpeg gets the URL as written');
  t.equal(rtsp.redacted, 'rtsp://admin:[redacted]@192.168.1.64:554/Streaming/Channels/101');
  t.same(rtsp.secrets, ['12345abc']);
  t.equal(parseSourceUrl('rtsps://cam.example/live').kind, 'rtsp');
  t.equal(parseSourceUrl('RTSP://10.0.0.5/ch1').kind, 'rtsp');
  t.equal(parseSourceUrl('http://10.0.0.5:8080/video.mjpg').kind, 'http');
  const https = parseSourceUrl('https://nvr.example/hls/1.m3u8?token=t0ps3cret&x=1');
  t.equal(https.kind, 'http');
  t.equal(https.redacted, 'https://nvr.example/hls/1.m3u8?token=[redacted]&x=1');
  t.same(parseSourceUrl('rtsp://10.0.0.5/ch1').secrets, []);
});

t.test('a password with a raw @ or an encoded character is still redacted', async (t) => {
  const raw = parseSourceUrl('rtsp://admin:p@ss@10.0.0.9/live');
  t.equal(raw.redacted, 'rtsp://admin:[redacted]@10.0.0.9/live');
  const encoded = parseSourceUrl('rtsp://admin:a%23bc9@10.0.0.9/live');
  t.same(encoded.secrets, ['a%23bc9', 'a#bc9']);
  t.equal(redactSecrets('401 for user admin password a#bc9', encoded.secrets), '401 for user admin password [redacted]');
});

t.test('file sources: absolute file:// URLs and paths relative to cwd', async (t) => {
  const abs = parseSourceUrl('file:///var/lib/eseal/clips/shaft%201.mp4');
  t.equal(abs.kind, 'file');
  t.equal(abs.path, '/var/lib/eseal/clips/shaft 1.mp4');
  t.equal(abs.input, 'file:/var/lib/eseal/clips/shaft 1.mp4', 'file: keeps ffmpeg from reading a colon as a protocol');
  t.equal(parseSourceUrl('file:clips/a.mp4', '/srv/edge').path, '/srv/edge/clips/a.mp4');
  t.equal(parseSourceUrl('file:./a:b.mp4', '/srv').path, '/srv/a:b.mp4');
  t.equal(parseSourceUrl('file:clips/a.mp4').path, `${process.cwd()}/clips/a.mp4`);
  t.throws(() => parseSourceUrl('file:'), { code: CaptureBadUrl.code });
  t.throws(() => parseSourceUrl('file:///srv/clips/'), { code: CaptureBadUrl.code });
});

t.test('gb28181:// names a bridge channel; a bad id is named', async (t) => {
  const gb = parseSourceUrl(' GB28181://34020000001320000001/34020000001310000001/ ');
  t.equal(gb.kind, 'gb28181');
  t.same(gb.gb, { deviceId: '34020000001320000001', channelId: '34020000001310000001' });
  t.equal(gb.redacted, 'gb28181://34020000001320000001/34020000001310000001', 'the canonical address is what logs show');
  t.equal(gb.input, '', 'the bridge URL (with its token) is made at each connection, never kept');
  for (const [url, part, re] of [
    ['gb28181://only-a-device', 'address', /gb28181:\/\/<device id>\/<channel id>/],
    ['gb28181://3402/34020000001310000001', 'deviceId', /device id "3402" is not a 20-digit/],
    ['gb28181://34020000001320000001/abc', 'channelId', /channel id "abc" is not a 20-digit/],
    ['gb28181://34020000001320000001/34020000001310000001/x', 'address', /written gb28181/],
  ] as const) {
    const err = t.throws(() => parseSourceUrl(url), { code: CaptureBadUrl.code, field: 'url', detail: { part } }, url) as Error;
    t.match(err.message, re, url);
  }
});

t.test('other sources are refused, and the refusal never shows a password', async (t) => {
  for (const url of ['ftp://h/a.mp4', '/abs/path.mp4', 'clips/a.mp4', 'udp://239.0.0.1:1234', '']) {
    t.throws(() => parseSourceUrl(url), { code: CaptureBadUrl.code, field: 'url' }, url);
  }
  const noHost = t.throws(() => parseSourceUrl('rtsp://admin:hunter22@/x'), { code: CaptureBadUrl.code }) as Error;
  t.notMatch(noHost.message, 'hunter22');
  const badPort = t.throws(() => parseSourceUrl('rtsp://admin:hunter22@cam:99999/x'), { code: CaptureBadUrl.code }) as Error;
  t.notMatch(badPort.message, 'hunter22');
  t.notMatch(JSON.stringify(badPort), 'hunter22');
  const unknown = t.throws(() => parseSourceUrl('rtmp://admin:hunter22@cam/live'), { code: CaptureBadUrl.code }) as Error;
  t.notMatch(unknown.message, 'hunter22');
});

t.test('redactSecrets replaces every URL password in a text, whatever it holds', async (t) => {
  t.equal(
    redactSecrets('[rtsp @ 0x1] method DESCRIBE failed: 401 rtsp://a:b1@h/x and http://u:pw9@n:80/y?password=zz&q=1'),
    '[rtsp @ 0x1] method DESCRIBE failed: 401 rtsp://a:[redacted]@h/x and http://u:[redacted]@n:80/y?password=[redacted]&q=1',
  );
  const password = fc.string({ minLength: 1, maxLength: 24 }).filter((s) => !/[\s/]/.test(s));
  const user = fc.stringMatching(/^[a-zA-Z0-9._-]{0,12}$/);
  const host = fc.stringMatching(/^[a-z0-9-]{1,12}(\.[a-z0-9-]{1,8}){0,2}$/);
  fc.assert(
    fc.property(user, password, host, (u, p, h) => {
      const text = `ffmpeg: rtsp://${u}:${p}@${h}:554/ch1: Connection refused`;
      return redactSecrets(text) === `ffmpeg: rtsp://${u}:[redacted]@${h}:554/ch1: Connection refused`;
    }),
  );
});

t.test('ffmpeg: FFMPEG_PATH wins; the RTSP timeout option is probed from the binary', async (t) => {
  const saved = process.env['FFMPEG_PATH'];
  t.teardown(() => {
    if (saved === undefined) delete process.env['FFMPEG_PATH'];
    else process.env['FFMPEG_PATH'] = saved;
  });
  process.env['FFMPEG_PATH'] = '/opt/ffmpeg/bin/ffmpeg';
  t.equal(ffmpegPath(), '/opt/ffmpeg/bin/ffmpeg');
  await t.rejects(ffmpegFeatures('/nonexistent/ffmpeg'), /cannot run ffmpeg at \/nonexistent\/ffmpeg/);
  delete process.env['FFMPEG_PATH'];
  const bundled = (await import('@ffmpeg-installer/ffmpeg')).default;
  t.equal(ffmpegPath(), bundled.path);
  const features = await ffmpegFeatures();
  t.equal(features.path, bundled.path);
  // The bundled static build is ffmpeg 4.1, where -timeout on RTSP means "listen".
  if (/^2018/.test(bundled.version)) t.equal(features.rtspTimeoutOption, '-stimeout');
  else t.ok(['-stimeout', '-timeout'].includes(features.rtspTimeoutOption));
  t.equal(await ffmpegFeatures(), features, 'probed once');
});
