// The classification of upstream answers lives in src/client/outcome.ts (the edge module's
// uploader uses it too and may not import relay/); re-exported here for the relay's code.
export * from '../../src/client/outcome.ts';
