// What the edge's own clients of the relay share (the model updater, the heartbeat): the TLS agent
// made from `tls` settings, and an answer read up to a size so that no relay can fill the edge's memory.
import { Agent, type Dispatcher } from 'undici';

export interface RelayTls {
  /** PEM of the CA (or the relay's self-signed certificate) to trust */
  ca?: string;
  /** accept any certificate (tests, a lab) */
  insecure?: boolean;
}

/** An undici agent for `tls`, or undefined when none is given (undici's global one is used). */
export function relayAgent(tls: RelayTls | undefined): Agent | undefined {
  return tls ? new Agent({ connect: { ...(tls.ca ? { ca: tls.ca } : {}), rejectUnauthorized: tls.insecure !== true } }) : undefined;
}

/** The body as text, at most `max` bytes: past that it is destroyed and `overflow` says so. */
export async function readCapped(body: Dispatcher.ResponseData['body'], max: number): Promise<{ text: string; overflow: boolean }> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    n += (chunk as Buffer).length;
    if (n > max) {
      body.destroy();
      return { text: Buffer.concat(chunks).toString('utf8'), overflow: true };
    }
    chunks.push(chunk as Buffer);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), overflow: false };
}
