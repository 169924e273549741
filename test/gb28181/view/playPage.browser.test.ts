// The /play page in Debian's headless chromium (playwright-core, never a downloaded browser):
// the channel plays through MSE (currentTime advances, frames decoded).
import t from 'tap';
import { existsSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import { MediaEngine } from '../../../gb28181/media/MediaEngine.ts';
import { ViewerServer } from '../../../gb28181/view/ViewerServer.ts';
import { accessUnits, annexBClip, psFrame, RtpPacketiser } from '../../helpers/rtpPs.ts';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'browser-token-0123456789';

t.test('the play page plays a channel in chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)` }, async (t) => {
  const { chromium } = await import('playwright-core');
  const base = 46000 + 2 * Math.floor(Math.random() * 1000);
  const engine = new MediaEngine({ host: '127.0.0.1', ports: { min: base, max: base + 20 }, noMediaSeconds: 15, log: pino({ level: 'silent' }) });
  await engine.start();
  const aus = accessUnits('h264', await annexBClip('h264', 2));
  const sock = createSocket('udp4');
  let timer: NodeJS.Timeout | undefined;
  const viewer = new ViewerServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    frames: engine,
    source: {
      async acquire() {
        const { port } = await engine.openIncoming({ streamId: 's', transport: 'udp', ssrc: '7' });
        const rtp = new RtpPacketiser({ ssrc: 7 });
        let i = 0;
        timer = setInterval(() => {
          const ts = 3600 * ++i;
          for (const p of rtp.ps(psFrame(aus[i % aus.length]!, ts), ts)) sock.send(p, port, '127.0.0.1');
        }, 40);
        return { streamId: 's', release: () => clearInterval(timer) };
      },
    },
  });
  await viewer.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
  t.teardown(async () => {
    await browser.close();
    clearInterval(timer);
    sock.close();
    await viewer.close();
    await engine.close();
  });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${viewer.port}/play/dev/ch?token=${TOKEN}`);
  // this project's TypeScript has no DOM library: the page's globals typed by hand (and no string eval: the page's CSP forbids it)
  type Video = { currentTime: number; getVideoPlaybackQuality(): { totalVideoFrames: number } };
  type Doc = { querySelector(s: string): Video | null; getElementById(s: string): { textContent: string } | null };
  await page.waitForFunction(
    () => {
      const v = (globalThis as unknown as { document: Doc }).document.querySelector('video');
      return !!v && v.currentTime > 1 && v.getVideoPlaybackQuality().totalVideoFrames > 0;
    },
    undefined,
    { timeout: 60_000, polling: 200 },
  );
  const q = await page.evaluate(() => {
    const d = (globalThis as unknown as { document: Doc }).document;
    const v = d.querySelector('video')!;
    return { t: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames, codec: d.getElementById('codec')!.textContent };
  });
  t.ok(q.t > 1, `currentTime advanced (${q.t})`);
  t.ok(q.frames > 0, `${q.frames} frames decoded`);
  t.match(q.codec, /^avc1/);
});
