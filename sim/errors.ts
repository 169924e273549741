// Error kinds of the national-platform simulator (`eseal sim national`). Answers on its data port
// follow the national API (NATIONAL-API.md); these codes name what the simulator itself refuses:
// its own options, its control API, a multipart body it cannot read, a data port it cannot reopen.
import { defineError } from '../src/errors.ts';

export const SimOptionsInvalid = defineError(
  'ESEAL_ERR_SIM_OPTIONS',
  400,
  'a simulator option, command-line argument, control-API body or fault setting breaks its rule',
);
export const SimMultipart = defineError(
  'ESEAL_ERR_SIM_MULTIPART',
  400,
  'an evidence upload is not a readable multipart/form-data body with one file part of the right name',
);
export const SimListen = defineError('ESEAL_ERR_SIM_LISTEN', 500, 'the simulator cannot listen on (or reopen) its data or control port');
