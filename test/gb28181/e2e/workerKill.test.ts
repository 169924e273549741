// SIGKILL of the media worker while a channel plays: the viewer's stream ends, the bridge BYEs the
// device, the engine starts a new worker, and a new viewer plays again (a new INVITE).
import t from 'tap';
import { catalogCollected, decodedFrames, httpStream, startGbBridge, startSimDevice } from '../../helpers/gbBridge.ts';
import { waitFor } from '../../helpers/wait.ts';

const DEVICE = '34020000001320000301';

t.test('the media worker dies mid-stream; the role survives and plays again', async (t) => {
  const bridge = await startGbBridge(t);
  const d = await startSimDevice(t, bridge, DEVICE, { channelCount: 1 });
  await catalogCollected(bridge, DEVICE, 1);
  const ch = d.channels[0]!.id;
  const v = httpStream(bridge.url(DEVICE, ch));
  await v.firstFragmentAt;
  const pid = bridge.media.workerPid!;
  const bye = new Promise<string>((resolve) => d.on('bye', (e) => resolve(e.by)));
  process.kill(pid, 'SIGKILL');
  t.ok(await v.ended, 'the viewer stream ended');
  t.equal(await bye, 'server', 'the bridge BYEd the device');
  await waitFor(() => d.streams.length === 0 && bridge.service.context.live.active === 0, 10_000, 'the stream torn down on both sides');
  await waitFor(() => bridge.media.workerStarts === 2 && bridge.media.workerPid !== undefined, 15_000, 'a new worker');
  t.not(bridge.media.workerPid, pid, 'a new worker process');
  t.equal(await decodedFrames(bridge.url(DEVICE, ch), 25), 25, 'a new viewer plays: 25 frames');
  t.equal(d.counters.invites, 2, 'through a new INVITE');
});
