// Error kinds of the GB/T 28181 device simulator (`eseal sim device`). Its options reuse the
// simulators' ESEAL_ERR_SIM_OPTIONS; these name what the device itself cannot do.
import { defineError } from '../../src/errors.ts';

export const SimDeviceClip = defineError(
  'ESEAL_ERR_SIMDEV_CLIP',
  422,
  'the device simulator cannot make or read its video clip (ffmpeg failed, the file is missing, or it holds no H.264/H.265 keyframe)',
);
export const SimDeviceRegister = defineError(
  'ESEAL_ERR_SIMDEV_REGISTER',
  502,
  'the device simulator could not register: the server refused (403, another 4xx/5xx), challenged again after the answer, or did not answer',
);
export const SimDeviceSocket = defineError('ESEAL_ERR_SIMDEV_SOCKET', 500, 'the device simulator cannot open its SIP or media socket');
