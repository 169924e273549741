// The national API contract: import from here.
export * from './codes.ts';
export * from './endpoints.ts';
export * from './envelope.ts';
export * from './errors.ts';
export * from './fields.ts';
export * from './fileName.ts';
export * from './json.ts';
export * from './time.ts';
