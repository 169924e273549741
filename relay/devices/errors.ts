// Error catalogue of the relay's device inventory (relay/devices/): the edges' heartbeats.
import { defineError } from '../../src/errors.ts';

export const DeviceRate = defineError('ESEAL_ERR_DEVICE_RATE', 429, 'the account sends heartbeats faster than the relay takes them; send one per edge.heartbeatSeconds');
export const DeviceLimit = defineError('ESEAL_ERR_DEVICE_LIMIT', 429, 'the account (or the relay) holds as many heartbeating devices as it may');
