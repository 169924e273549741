// The GOP cache end to end, with a camera whose GOP is 4 s (ffmpeg -g 100 at 25 fps, passed to the
// sim device as its media): two bridges over loopback, the UPPER standing for the national
// platform. The upper's viewer gets its first fMP4 fragment in well under a GOP whether the mine
// stream is new (the keyframe reached the lower before the leg to the upper opened) or already
// playing mid-GOP for a local viewer; and a local viewer opened on the lower while the stream is
// only relayed (no frames piped to the lower's parent) starts at once from the worker's cache.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg } from '../../../src/media/ffmpeg.ts';
import { catalogCollected, GB_ID, httpStream, startGbBridge, startSimDevice, type GbBridge } from '../../helpers/gbBridge.ts';
import { tempDir } from '../../helpers/tempDir.ts';
import { waitFor } from '../../helpers/wait.ts';

const UPPER_ID = '11000000002000000001';
const UPPER_DOMAIN = '1100000000';
const UPPER_PASSWORD = 'national-pass-1';
const MINE = '34020000001320000601';
const GOP_MS = 4000;
/** half a GOP: without the cache a viewer waits for the next keyframe, on average half a GOP and here more */
const FAST_MS = 2000;

async function longGopClip(dir: string): Promise<string> {
  const { stdout } = await runFfmpeg(
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', '12', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline', '-g', '100', '-keyint_min', '100', '-sc_threshold', '0', '-bf', '0', '-f', 'h264', 'pipe:1'],
    { timeoutMs: 60_000 },
  );
  const file = join(dir, 'gop4s.h264');
  await writeFile(file, stdout);
  return file;
}

t.test('cascade with a 4 s GOP: the first fragment comes in well under a GOP', async (t) => {
  const dir = await tempDir(t, 'eseal-gop-');
  const clip = await longGopClip(dir);
  const upper: GbBridge = await startGbBridge(t, { 'gb28181.id': UPPER_ID, 'gb28181.domain': UPPER_DOMAIN, 'gb28181.password': UPPER_PASSWORD }, (c) => {
    c.gb28181.devices = [{ id: GB_ID, password: UPPER_PASSWORD, name: '', transport: 'udp' }];
  });
  const lower = await startGbBridge(t, {}, (c) => {
    c.gb28181.cascade = [{ id: UPPER_ID, domain: UPPER_DOMAIN, host: '127.0.0.1', port: upper.sipPort, transport: 'udp', password: UPPER_PASSWORD, localId: '', expires: 3600, keepaliveSeconds: 60, catalogPageSize: 20, maxStreams: 8, groupName: '某省煤矿视频' }];
  });
  const mine = await startSimDevice(t, lower, MINE, { channelCount: 1, media: clip });
  await catalogCollected(lower, MINE, 1);
  await mine.prepareMedia();
  await waitFor(() => upper.service.context.registry.get(GB_ID)?.online === true, 20_000, 'the lower bridge registered to the upper');
  const ch = mine.channels[0]!.id;
  await upper.service.queryCatalog(GB_ID);
  const figures: Record<string, number> = {};
  const lowerStream = (): string | undefined => lower.service.context.live.describe()[0]?.streamId;
  const lowerFrames = (): number => lower.media.stats(lowerStream() ?? '')?.frames ?? 0;
  const idle = (): Promise<void> => waitFor(() => lower.service.context.live.active === 0 && upper.service.context.live.active === 0, 15_000, 'no session left');

  await t.test('a new mine stream', async (t) => {
    const at = Date.now();
    const v = httpStream(upper.url(GB_ID, ch));
    t.equal(await v.status, 200);
    figures['newStreamMs'] = (await v.firstFragmentAt) - at;
    t.ok(figures['newStreamMs']! < FAST_MS, `the upper's first fragment in ${figures['newStreamMs']} ms (< ${FAST_MS}; the GOP is ${GOP_MS})`);
    v.close();
    await idle();
  });

  await t.test('the mine stream already playing mid-GOP for a local viewer', async (t) => {
    const local = httpStream(lower.url(MINE, ch));
    await local.firstFragmentAt;
    // 40 pictures in: 1.6 s into the 4 s GOP
    await waitFor(() => lowerFrames() >= 40, 10_000, 'the stream 1.6 s into its GOP');
    const framesIn = lowerFrames();
    t.ok(framesIn < 90, 'still in the first GOP');
    const at = Date.now();
    const v = httpStream(upper.url(GB_ID, ch));
    figures['midGopLegMs'] = (await v.firstFragmentAt) - at;
    t.ok(figures['midGopLegMs']! < FAST_MS, `the upper's first fragment in ${figures['midGopLegMs']} ms though the next keyframe is ${(100 - framesIn) * 40} ms away`);
    v.close();
    local.close();
    await idle();
  });

  await t.test('a local viewer of a stream only relayed to the upper', async (t) => {
    const v = httpStream(upper.url(GB_ID, ch));
    await v.firstFragmentAt;
    const pipedBefore = lower.media.framesPiped;
    await waitFor(() => lowerFrames() >= 40, 10_000, 'the relayed stream 1.6 s into its GOP');
    t.ok(lowerFrames() < 90, 'still in the first GOP');
    t.equal(lower.media.framesPiped, pipedBefore, 'relay-only: the lower pipes no frame to its parent');
    const at = Date.now();
    const local = httpStream(lower.url(MINE, ch));
    figures['relayOnlyViewerMs'] = (await local.firstFragmentAt) - at;
    t.ok(figures['relayOnlyViewerMs']! < FAST_MS, `the local viewer's first fragment in ${figures['relayOnlyViewerMs']} ms`);
    local.close();
    v.close();
    await idle();
  });
  t.comment(`figures: ${JSON.stringify(figures)}`);
});
