// Declarations for the npm package `sip` (kirm/sip.js 0.0.6), a SIP stack for Node with UDP/TCP
// transports, a transaction layer and RFC 2617 digest helpers. Only what this project uses is
// declared. The stack reads and writes messages as latin1 ("binary") strings: a body's bytes are the
// string's char codes, so MANSCDP bodies in GB2312 are decoded and encoded with iconv-lite around it.
declare module 'sip' {
  export interface SipUri {
    schema: string;
    user?: string;
    password?: string;
    host: string;
    /** NaN when the URI has no port */
    port?: number;
    params: Record<string, string | null>;
    headers: Record<string, string>;
  }

  export interface NameAddr {
    name?: string;
    /** a string as parsed; a string or an object when building */
    uri: string | SipUri;
    params: Record<string, string | null | undefined>;
  }

  export interface Via {
    version?: string;
    protocol?: string;
    host?: string;
    port?: number;
    params: Record<string, string | null | number | undefined>;
  }

  export interface CSeq {
    seq: number;
    method: string;
  }

  /** Authorization / WWW-Authenticate values: quoted strings keep their quotes. */
  export interface AuthHeader {
    scheme: string;
    [param: string]: string | undefined;
  }

  export interface Headers {
    via: Via[];
    to: NameAddr;
    from: NameAddr;
    'call-id': string;
    cseq: CSeq;
    contact?: NameAddr[] | '*';
    'content-type'?: string;
    'content-length'?: number;
    expires?: number | string;
    authorization?: AuthHeader[];
    'www-authenticate'?: AuthHeader[];
    'proxy-authorization'?: AuthHeader[];
    'proxy-authenticate'?: AuthHeader[];
    route?: NameAddr[] | string;
    'record-route'?: NameAddr[];
    'max-forwards'?: number;
    [header: string]: unknown;
  }

  export interface Message {
    /** requests */
    method?: string;
    uri?: string | SipUri;
    /** responses */
    status?: number;
    reason?: string;
    version?: string;
    headers: Headers;
    /** the body as a latin1 string (one char per byte) */
    content?: string;
  }

  export interface Request extends Message {
    method: string;
    uri: string | SipUri;
  }

  export interface Response extends Message {
    status: number;
    reason: string;
  }

  /** Where a message came from: what `send` needs to answer on the same flow. */
  export interface Remote {
    protocol: 'UDP' | 'TCP' | 'TLS' | 'WS';
    address: string;
    port: number;
    local: { address: string; port: number };
  }

  export interface StackOptions {
    /** default true */
    udp?: boolean;
    /** default true */
    tcp?: boolean;
    /** default 5060 (both UDP and TCP) */
    port?: number;
    /** bind address, default 0.0.0.0 */
    address?: string;
    /** the host written in Via and flow URIs */
    publicAddress?: string;
    hostname?: string;
    /** default true: add rport to Via on UDP */
    rport?: boolean;
    maxBytesHeaders?: number;
    maxContentLength?: number;
    logger?: {
      send?(m: Message, target: Remote): void;
      recv?(m: Message, remote: Remote): void;
      error?(e: unknown): void;
    };
  }

  export interface Stack {
    /** requests: sent through a client transaction, `callback` gets every response; responses: sent through the server transaction of their request */
    send(m: Message, callback?: (rs: Response) => void): void;
    encodeFlowUri(flow: Remote): SipUri;
    decodeFlowUri(uri: string | SipUri): Remote | undefined;
    isFlowUri(uri: string | SipUri): boolean;
    hostname(): string;
    destroy(): void;
  }

  export function create(options: StackOptions, onRequest: (rq: Request, remote: Remote) => void): Stack;
  export function makeResponse(rq: Request, status: number, reason?: string, extension?: { headers?: Partial<Headers>; content?: string }): Response;
  export function parseUri(s: string | SipUri): SipUri | undefined;
  export function stringifyUri(uri: string | SipUri): string;
  export function stringifyAuthHeader(a: AuthHeader): string;
  /** parses one message from a latin1 string or bytes; undefined when it is not SIP */
  export function parse(s: string | Buffer): Message | undefined;
  export function stringify(m: Message): string;
  export function parseAOR(s: string): NameAddr;
  export function generateBranch(): string;
  export function copyMessage<M extends Message>(m: M, deep?: boolean): M;
  export function makeStreamParser(
    onMessage: (m: Message) => void,
    onFlood?: () => void,
    maxBytesHeaders?: number,
    maxContentLength?: number,
  ): (data: string) => void;
}

declare module 'sip/digest.js' {
  import type { Message, Request, Response } from 'sip';

  /** the state of one digest exchange, kept between calls */
  export interface DigestContext {
    realm?: string;
    nonce?: string;
    cnonce?: string;
    nc?: number;
    qop?: string;
    algorithm?: string;
    opaque?: string;
    user?: string;
    ha1?: string;
    proxy?: boolean;
    [key: string]: unknown;
  }

  export interface Credentials {
    user: string;
    password?: string;
    /** MD5(user:realm:password), instead of the password */
    hash?: string;
    realm?: string;
  }

  export function calculateUserRealmPasswordHash(user: string, realm: string, password: string): string;
  export function calculateHA1(ctx: DigestContext): string;
  export function calculateDigest(ctx: {
    ha1: string;
    method: string;
    nonce: string;
    nc?: string;
    cnonce?: string;
    qop?: string;
    uri: string;
    entity?: string;
  }): string;
  export function generateNonce(tag: string, timestamp?: Date): string;
  export function extractNonceTimestamp(nonce: string, tag: string): Date | undefined;
  /** adds a WWW-Authenticate (or Proxy-Authenticate for 407) to the response */
  export function challenge(ctx: DigestContext, rs: Response): Response;
  export function authenticateRequest(ctx: DigestContext, rq: Request, creds: Credentials): boolean;
  export function signResponse(ctx: DigestContext, rs: Response): Response;
  /** signs a request; with `rs` (a 401/407) it first takes the challenge from it */
  export function signRequest(ctx: DigestContext | undefined, rq: Message, rs?: Response, creds?: Credentials): DigestContext | null;
  export function authenticateResponse(ctx: DigestContext, rs: Response): boolean | undefined;
}
