// Error catalogue of the live MJPEG stream.
import { defineError } from '../../src/errors.ts';

export const LiveListen = defineError(
  'ESEAL_ERR_LIVE_LISTEN',
  500,
  'the live stream server could not listen on its address and port',
);

export const LiveNotListening = defineError(
  'ESEAL_ERR_LIVE_NOT_LISTENING',
  500,
  'the live stream address was asked for before the server listened',
);

export const LiveUrlTooLong = defineError(
  'ESEAL_ERR_LIVE_URL_TOO_LONG',
  400,
  'the live stream address is longer than the guide allows for liveUrl',
);

export const LiveToken = defineError(
  'ESEAL_ERR_LIVE_TOKEN',
  500,
  "a camera's live stream token (the secret path of its liveUrl) is malformed or its file damaged",
);
