// Errors of the edge role as a whole (each stage keeps its own beside it).
import { defineError } from '../src/errors.ts';

export const EdgeUsage = defineError('ESEAL_ERR_EDGE_USAGE', 400, 'an eseal edge command was given arguments it cannot use');
