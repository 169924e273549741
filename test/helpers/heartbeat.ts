// An edge's heartbeat as the tests send it (src/devices/heartbeat.ts): edge-01 of MINE with the
// built-in model, one camera running and one offline, measured latency and one error; `over` changes any part.
import type { Heartbeat } from '../../src/devices/heartbeat.ts';
import { MINE } from './relay.ts';

export function sampleHeartbeat(over: Partial<Heartbeat> = {}): Heartbeat {
  return {
    deviceId: 'edge-01',
    mineId: MINE,
    software: { name: 'eseal-edge', version: '1.2.3' },
    model: { name: 'default', version: 'builtin', sm3: '' },
    cameras: [
      { cameraId: '20', state: 'running', fps: 4.9, lastFrameAt: Date.now() },
      { cameraId: '30', state: 'offline' },
    ],
    detector: { p50Ms: 40, p95Ms: 85.5, runs: 1234 },
    errors: [{ at: Date.now(), code: 'camera.offline', msg: 'gate (30): ffmpeg exited' }],
    startedAt: Date.now() - 60_000,
    ...over,
  };
}
