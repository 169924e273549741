// The bridge's /play page for a sim device's channel, in Debian's headless chromium (playwright-core,
// never a downloaded browser): the video plays (currentTime advances, frames decoded) through the
// whole chain — SIP INVITE, PS/RTP into the media worker, fMP4 over the WebSocket into MSE.
import t from 'tap';
import { existsSync } from 'node:fs';
import { catalogCollected, startGbBridge, startSimDevice } from '../../helpers/gbBridge.ts';

const CHROMIUM = '/usr/bin/chromium';
const DEVICE = '34020000001320000401';

t.test('the play page plays a sim device channel in chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)` }, async (t) => {
  const { chromium } = await import('playwright-core');
  const bridge = await startGbBridge(t);
  const d = await startSimDevice(t, bridge, DEVICE, { channelCount: 1 });
  await catalogCollected(bridge, DEVICE, 1);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${bridge.httpPort}/play/${DEVICE}/${d.channels[0]!.id}?token=${bridge.token}`);
  // no DOM library in this project's TypeScript: the page's globals typed by hand (the page's CSP forbids string eval)
  type Video = { currentTime: number; getVideoPlaybackQuality(): { totalVideoFrames: number } };
  type Doc = { querySelector(s: string): Video | null; getElementById(s: string): { textContent: string } | null };
  await page.waitForFunction(
    () => {
      const v = (globalThis as unknown as { document: Doc }).document.querySelector('video');
      return !!v && v.currentTime > 1 && v.getVideoPlaybackQuality().totalVideoFrames > 0;
    },
    undefined,
    { timeout: 45_000, polling: 200 },
  );
  const q = await page.evaluate(() => {
    const doc = (globalThis as unknown as { document: Doc }).document;
    const v = doc.querySelector('video')!;
    return { t: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames, codec: doc.getElementById('codec')?.textContent ?? '' };
  });
  t.ok(q.t > 1, `currentTime advanced (${q.t})`);
  t.ok(q.frames > 0, `${q.frames} frames decoded`);
  t.match(q.codec, /^avc1/);
  t.equal(d.counters.invites, 1, 'one INVITE');
});
