// One error type for the whole code base. Every error we raise on purpose has a constant code
// (ESEAL_ERR_<AREA>_<WHAT>), the HTTP status it maps to, and, where one input is at fault, the
// field that a mine integrator or an operator has to fix. Errors of other libraries are wrapped at
// the boundary with the original kept as `cause`.

export interface EsealErrorOptions {
  field?: string;
  cause?: unknown;
  statusCode?: number;
  /** extra, non-secret facts for logs and operators */
  detail?: Record<string, unknown>;
}

export class EsealError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly field: string | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: string, message: string, statusCode: number, options: EsealErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EsealError';
    this.code = code;
    this.statusCode = options.statusCode ?? statusCode;
    this.field = options.field;
    this.detail = options.detail;
  }
}

export interface ErrorKind {
  readonly code: string;
  readonly statusCode: number;
  readonly summary: string;
  (message: string, options?: EsealErrorOptions): EsealError;
  /** true when `err` is an EsealError of this kind */
  is(err: unknown): err is EsealError;
}

const catalogue = new Map<string, ErrorKind>();

/** Declares an error kind once; the catalogue is what the README's error table is checked against. */
export function defineError(code: string, statusCode: number, summary: string): ErrorKind {
  if (!/^ESEAL_ERR_[A-Z0-9]+_[A-Z0-9_]+$/.test(code)) throw new Error(`bad error code name ${code}`);
  if (catalogue.has(code)) throw new Error(`error code ${code} defined twice`);
  const make = ((message: string, options?: EsealErrorOptions) =>
    new EsealError(code, message, statusCode, options)) as ErrorKind;
  Object.defineProperties(make, {
    code: { value: code },
    statusCode: { value: statusCode },
    summary: { value: summary },
    is: { value: (err: unknown) => err instanceof EsealError && err.code === code },
  });
  catalogue.set(code, make);
  return make;
}

export function errorCatalogue(): ReadonlyMap<string, ErrorKind> {
  return catalogue;
}

/** `field: rule` is the shape of every validation message the API returns. */
export function fieldMessage(field: string, rule: string): string {
  return `${field}: ${rule}`;
}
