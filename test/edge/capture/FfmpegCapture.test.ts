import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import t from 'tap';
import { FfmpegCapture, readFrames } from '../../../edge/capture/FfmpegCapture.ts';
import { CaptureBadOptions, CaptureBadUrl, CaptureFailed } from '../../../edge/capture/errors.ts';
import { rgbToGray } from '../../../edge/frame/image.ts';
import type { Frame } from '../../../edge/types.ts';
import { processGone as gone } from '../../helpers/media.ts';
import { waitFor } from '../../helpers/wait.ts';
import { CLIP_H, CLIP_W, testPatternClip } from './clips.ts';

const dir = await mkdtemp(join(tmpdir(), 'eseal-capture-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const clip4 = await testPatternClip(dir, 4);
const clip1 = await testPatternClip(dir, 1);

/** Resolves with the arguments of the next `event` that `capture` emits. */
function next<T extends unknown[]>(capture: FfmpegCapture, event: 'online' | 'offline' | 'restart' | 'end'): Promise<T> {
  return once(capture, event) as Promise<T>;
}

/** The next `count` 'restart' events as [attempt, delayMs] pairs; the capture is stopped after. */
async function restarts(capture: FfmpegCapture, count: number): Promise<[number, number][]> {
  const seen: [number, number][] = [];
  await new Promise<void>((resolve) => {
    capture.on('restart', (attempt, delay) => {
      if (seen.push([attempt, delay]) === count) resolve();
    });
  });
  await capture.stop();
  return seen;
}

async function closedPort(): Promise<number> {
  const server: Server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

t.test('replay decodes every frame once at the analysis rate, with deterministic times', async (t) => {
  const run = async (): Promise<{ frames: Frame[]; digest: string }> => {
    const frames: Frame[] = [];
    const hash = createHash('sha256');
    for await (const frame of readFrames(`file://${clip4}`, { camera: 'cam-a', startAt: 1_700_000_000_000 })) {
      frames.push(frame);
      hash.update(frame.gray);
    }
    return { frames, digest: hash.digest('hex') };
  };
  const first = await run();
  const second = await run();
  t.equal(first.frames.length, 20, '4 s at 5 fps');
  t.same(first.frames.map((f) => f.seq), [...Array(20).keys()]);
  t.same(first.frames.map((f) => f.at), [...Array(20).keys()].map((i) => 1_700_000_000_000 + i * 200));
  t.same(second.frames.map((f) => f.at), first.frames.map((f) => f.at), 'same times on a second run');
  t.equal(second.digest, first.digest, 'same pixels on a second run');
  const f = first.frames[7]!;
  t.equal(f.camera, 'cam-a');
  t.equal(f.width, 704);
  t.equal(f.height, 576);
  t.equal(f.rgb.length, 704 * 576 * 3);
  t.equal(f.gray.length, 704 * 576);
  // Buffer.equals: tap's deep comparison is far too slow for 400 000 elements.
  t.ok(Buffer.from(f.gray).equals(rgbToGray(f.rgb, f.width, f.height)), 'gray is the BT.601 luma of rgb');
  t.notOk(Buffer.from(first.frames[0]!.gray).equals(first.frames[10]!.gray), 'testsrc2 changes over time');
});

t.test('replay at another size and rate', async (t) => {
  const frames: Frame[] = [];
  for await (const frame of readFrames(`file://${clip4}`, { width: 352, height: 288, fps: 2, startAt: 0 })) frames.push(frame);
  t.equal(frames.length, 8, '4 s at 2 fps');
  t.same(frames.map((f) => f.at), [0, 500, 1000, 1500, 2000, 2500, 3000, 3500]);
  t.ok(frames.every((f) => f.width === 352 && f.height === 288 && f.rgb.length === 352 * 288 * 3 && f.gray.length === 352 * 288));
});

t.test('replay holds ffmpeg back for a slow consumer and drops nothing', async (t) => {
  let n = 0;
  for await (const frame of readFrames(`file://${clip4}`, { highWaterMark: 1, width: 176, height: 144 })) {
    t.equal(frame.seq, n++, 'frames in order, none missing');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  t.equal(n, 20);
});

t.test('pause() holds frames back in ffmpeg, resume() delivers them all', async (t) => {
  const capture = new FfmpegCapture({ camera: 'c', url: `file://${clip4}`, mode: 'replay', width: 176, height: 144, stallSeconds: 0.2 });
  t.teardown(() => capture.stop());
  const seqs: number[] = [];
  capture.on('frame', (f) => {
    seqs.push(f.seq);
    if (f.seq === 0) capture.pause();
  });
  const ended = next(capture, 'end');
  capture.start();
  await new Promise((resolve) => setTimeout(resolve, 600));
  // 64 KiB pipe reads hold less than one 76 KiB frame, so at most the frame in flight completes.
  t.ok(seqs.length <= 2, `paused after frame 0 (got ${seqs.length} frames)`);
  t.equal(capture.offlineReason, undefined, 'no stall is declared while paused');
  capture.resume();
  await ended;
  t.same(seqs, [...Array(20).keys()]);
});

t.test('live readFrames keeps the newest frames for a slow consumer', async (t) => {
  const seqs: number[] = [];
  for await (const frame of readFrames(`file://${clip1}`, { mode: 'live', loop: true, highWaterMark: 2, width: 176, height: 144 })) {
    seqs.push(frame.seq);
    if (seqs.length === 1) await new Promise((resolve) => setTimeout(resolve, 1200));
    if (seqs.length === 3) break;
  }
  t.equal(seqs[0], 0);
  t.ok(seqs[1]! >= 3, `older frames dropped (${seqs.join(', ')})`);
  t.equal(seqs[2], seqs[1]! + 1);
});

t.test('breaking out of readFrames stops ffmpeg', async (t) => {
  const seen: number[] = [];
  for await (const frame of readFrames(`file://${clip4}`, { width: 176, height: 144 })) {
    seen.push(frame.seq);
    if (seen.length === 3) break;
  }
  t.same(seen, [0, 1, 2]);
});

t.test('replay of a missing file throws CaptureFailed naming the file', async (t) => {
  const missing = join(dir, 'no-such-clip.mp4');
  await t.rejects(
    (async () => {
      for await (const _ of readFrames(`file://${missing}`)) t.fail('no frame expected');
    })(),
    { code: CaptureFailed.code, message: new RegExp(`${missing}.*No such file`) },
  );
});

t.test('options are checked', async (t) => {
  t.throws(() => new FfmpegCapture({ camera: 'c', url: 'ftp://x/y.mp4' }), { code: CaptureBadUrl.code });
  t.throws(() => new FfmpegCapture({ camera: 'c', url: `file://${clip1}`, fps: 0 }), { code: CaptureBadOptions.code });
  t.throws(() => new FfmpegCapture({ camera: 'c', url: `file://${clip1}`, width: 7 }), { code: CaptureBadOptions.code });
  t.throws(() => new FfmpegCapture({ camera: 'c', url: 'rtsp://10.0.0.1/s', loop: true }), { code: CaptureBadOptions.code });
  t.throws(() => new FfmpegCapture({ camera: 'c', url: `file://${clip1}`, loop: true, mode: 'replay' }), { code: CaptureBadOptions.code });
});

t.test('live file without loop: online, offline at its end, restarted after the backoff', async (t) => {
  const capture = new FfmpegCapture({ camera: 'c', url: `file://${clip1}`, width: 176, height: 144, backoff: { initialMs: 150 } });
  t.teardown(() => capture.stop());
  const events: string[] = [];
  const ats: number[] = [];
  capture.on('online', () => events.push('online'));
  capture.on('offline', () => events.push('offline'));
  capture.on('restart', (attempt, delay) => events.push(`restart ${attempt} ${delay}`));
  capture.on('frame', (f) => ats.push(f.at));
  const before = Date.now();
  capture.start();
  await next(capture, 'online');
  t.ok(capture.online);
  const [reason] = await next<[string]>(capture, 'offline');
  t.equal(reason, `end of file ${clip1}`);
  t.notOk(capture.online);
  t.ok(ats.length >= 4 && ats.length <= 5, `about 5 frames in 1 s (got ${ats.length})`);
  t.ok(ats.every((at) => at >= before && at <= Date.now()), 'live frames carry the wall clock');
  await next(capture, 'online');
  t.same(events.slice(0, 4), ['online', 'offline', 'restart 1 150', 'online']);
  const pid = capture.pid!;
  t.ok(pid > 0);
  await capture.stop();
  t.equal(capture.pid, undefined);
  t.ok(gone(pid), 'the ffmpeg child is reaped after stop()');
});

t.test('live file with loop keeps going past its end', async (t) => {
  const capture = new FfmpegCapture({ camera: 'c', url: `file://${clip1}`, width: 176, height: 144, loop: true });
  let offline = 0;
  let frames = 0;
  capture.on('offline', () => offline++);
  capture.on('frame', () => frames++);
  capture.start();
  // wait for the frames of a second pass, however slowly a loaded machine delivers them
  await waitFor(() => frames >= 6, 30_000, 'frames from a second pass');
  const pid = capture.pid!;
  await capture.stop();
  t.equal(offline, 0);
  t.ok(frames >= 6, `frames from more than one pass of a 1 s file (got ${frames})`);
  t.ok(gone(pid));
});

t.test('a missing file: offline once, naming it, then retries with doubling backoff', async (t) => {
  const missing = join(dir, 'missing.mp4');
  const capture = new FfmpegCapture({ camera: 'c', url: `file://${missing}`, backoff: { initialMs: 50, maxMs: 200 } });
  t.teardown(() => capture.stop());
  const offline: string[] = [];
  capture.on('offline', (reason) => offline.push(reason));
  capture.start();
  const delays = (await restarts(capture, 5)).map(([, delay]) => delay);
  t.same(delays, [50, 100, 200, 200, 200]);
  t.equal(offline.length, 1, 'offline is reported on the change, not for every retry');
  t.match(offline[0], missing);
  t.match(offline[0], /No such file/);
  t.equal(capture.offlineReason, offline[0]);
});

t.test('a session that delivered frames long enough resets the backoff', async (t) => {
  // Each pass of the 1 s file is online for about 1 s, longer than resetAfterMs: no doubling.
  const capture = new FfmpegCapture({ camera: 'c', url: `file://${clip1}`, width: 176, height: 144, backoff: { initialMs: 100, resetAfterMs: 500 } });
  t.teardown(() => capture.stop());
  capture.start();
  t.same(await restarts(capture, 2), [[1, 100], [2, 100]]);
});

t.test('an RTSP camera that refuses: offline with the password redacted, and retried', async (t) => {
  const port = await closedPort();
  const capture = new FfmpegCapture({
    camera: 'gate',
    url: `rtsp://admin:Sup3rSecret@127.0.0.1:${port}/Streaming/Channels/101`,
    backoff: { initialMs: 50, maxMs: 100 },
  });
  t.teardown(() => capture.stop());
  capture.start();
  const [reason] = await next<[string]>(capture, 'offline');
  // 'restart' 1 follows 'offline' in the same tick, before this test listens again.
  const attempts = (await restarts(capture, 2)).map(([attempt]) => attempt);
  t.notMatch(reason, 'Sup3rSecret');
  t.match(reason, /Connection refused/);
  t.match(reason, `admin:[redacted]@127.0.0.1:${port}`);
  t.notMatch(capture.stderrTail.join('\n'), 'Sup3rSecret');
  t.same(attempts, [2, 3], 'retried after the first failure');
});

t.test('a source that connects but sends nothing is killed after stallSeconds and restarted', async (t) => {
  // An HTTP server that accepts the request and never answers.
  const hung = new Set<import('node:http').ServerResponse>();
  const server = createHttpServer((_req, res) => void hung.add(res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const res of hung) res.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const capture = new FfmpegCapture({
    camera: 'c',
    url: `http://127.0.0.1:${port}/live.ts?token=abc123`,
    stallSeconds: 0.5,
    backoff: { initialMs: 50 },
  });
  t.teardown(() => capture.stop());
  const offline = next<[string]>(capture, 'offline');
  const restart = next<[number]>(capture, 'restart');
  capture.start();
  const [reason] = await offline;
  const [attempt] = await restart;
  await capture.stop();
  t.match(reason, /^no frame for 0.5 s/);
  t.notMatch(reason, 'abc123');
  t.equal(attempt, 1);
});

t.test('stop() before the first frame, and twice, leaves no child', async (t) => {
  const capture = new FfmpegCapture({ camera: 'c', url: `file://${clip4}`, width: CLIP_W, height: CLIP_H });
  capture.start();
  while (capture.pid === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
  const pid = capture.pid;
  await Promise.all([capture.stop(), capture.stop()]);
  t.ok(gone(pid));
  let events = 0;
  capture.on('offline', () => events++);
  capture.on('online', () => events++);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(events, 0, 'no events after stop()');
});
