// What the viewer needs from the rest of the role: the SIP side pulls a channel (LiveSource) and
// the media engine hands out its frames (FrameSource, which MediaEngine is).
import type { MediaFrame, StreamStats } from '../media/MediaTypes.ts';
import type { GuardLogger } from '../../src/http/guard.ts';
import type { StreamNumber } from '../../src/gb28181/sdp.ts';
import type { GbDeviceRow } from './deviceList.ts';

export interface LiveLease {
  streamId: string;
  /** the last viewer left: the SIP side BYEs after a short linger */
  release(): void;
  /** resolves (with the reason) when the upstream ends on its own (device BYE, no media, worker death): every viewer is closed */
  ended?: Promise<string>;
}

export interface LiveSource {
  /** Pulls a channel (INVITE) or joins the pull under way; rejects with a coded EsealError (statusCode 404/503). */
  acquire(deviceId: string, channelId: string, stream?: StreamNumber): Promise<LiveLease>;
}

export interface FrameSource {
  subscribe(streamId: string, onFrame: (f: MediaFrame) => void): () => void;
  stats(streamId: string): StreamStats | undefined;
}

export interface ViewerServerOptions {
  /** default 127.0.0.1 (gb28181.http.listen) */
  host?: string;
  /** default 9092; 0 picks a free one */
  port?: number;
  /** the secret every URL must carry as ?token= */
  token: string;
  source: LiveSource;
  frames: FrameSource;
  /** viewers of one channel at once (fMP4 and MJPEG together); default 16 */
  maxViewersPerChannel?: number;
  /** viewers from one client address at once; default 8 */
  maxViewersPerAddress?: number;
  /** a viewer that has not drained its socket for this long is dropped; default 10 s */
  stalledViewerMs?: number;
  /** queued bytes past which a viewer skips frames up to the next keyframe; default 2 MiB */
  maxQueuedBytes?: number;
  log?: GuardLogger;
  /** the operators' API on the same listener (POST /api/devices/<id>/catalog), loopback and Bearer token only; absent: /api/ answers 404 */
  admin?: ViewerAdmin;
}

export interface ViewerAdmin {
  /** dataDir/gb28181/admin.token */
  token: string;
  /** queries a device's catalog again and resolves with its channels; rejects with the coded error */
  catalog(deviceId: string): Promise<{ id: string; name: string; status: string }[]>;
  /** every device known, with its channels (GET /api/devices); absent: that path answers 404 */
  devices?(): GbDeviceRow[];
}
