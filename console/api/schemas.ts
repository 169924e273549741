// Shapes the console's API routes share: the envelope every answer comes in, and the error body.
// Route schemas are written once, beside each route; /api/openapi.json is made from them.
import { Type, type TSchema } from '@sinclair/typebox';

/** `{code: 0, msg: 'success', data}` */
export function envelope(data: TSchema) {
  return Type.Object({ code: Type.Literal(0), msg: Type.String(), data });
}

/** every refusal: `{code, msg}`, the field at fault named at the start of msg */
export const API_ERROR = Type.Object(
  {
    code: Type.String({ description: 'ESEAL_ERR_* (see the README error table)' }),
    msg: Type.String({ description: '"field: rule" for bad input' }),
  },
  { description: 'a refusal' },
);

export const ok = <D>(data: D) => ({ code: 0 as const, msg: 'success', data });

/** An object of the relay's that the console passes on as it is. */
export const Passed = (description: string) => Type.Object({}, { additionalProperties: true, description });

export const SeqParams = Type.Object({ seq: Type.String({ pattern: '^[0-9]{1,15}$', description: 'the queue sequence number' }) });
