// Error catalogue of evidence clips (ring, encoder, recorder).
import { defineError } from '../../src/errors.ts';

export const EvidenceNoFrames = defineError(
  'ESEAL_ERR_EVIDENCE_NO_FRAMES',
  422,
  'no frames fall in the window of the clip asked for',
);

export const EvidenceFrameSize = defineError(
  'ESEAL_ERR_EVIDENCE_FRAME_SIZE',
  422,
  'the frames of one clip differ in size',
);

export const EvidenceEncode = defineError(
  'ESEAL_ERR_EVIDENCE_ENCODE',
  500,
  'ffmpeg could not encode or write the evidence clip',
);

export const EvidenceTooBig = defineError(
  'ESEAL_ERR_EVIDENCE_TOO_BIG',
  500,
  'the evidence clip stays over its size limit even at the lowered bitrate',
);

export const EvidenceBusy = defineError(
  'ESEAL_ERR_EVIDENCE_BUSY',
  503,
  'too many evidence clips are pending for this camera',
);

export const EvidenceAborted = defineError(
  'ESEAL_ERR_EVIDENCE_ABORTED',
  503,
  'the evidence clip was abandoned before it was written (recorder closed or encode aborted)',
);
