// How a client of the national API talks to the server above it, as configured: the Basic client
// of the token endpoint, how it logs in, the SM2 ciphertext layout and what TLS to trust. The
// relay's `upstream.*` and the edge's `edge.report.*` both carry these keys, with these rules.
import { OneOf, Pattern, Type, type Static } from '../config/rules.ts';

export const LINK_SETTINGS = {
  /** the OAuth2 Basic client sent to the token endpoint (the guide's pcfront:pcfront) */
  client: Type.Object({ id: Pattern(/^[^:\s]+$/, 'no colon or white space'), secret: Pattern(/^\S+$/, 'no white space', { secret: true }) }),
  /** the guide's example login is a GET with a query string */
  loginMethod: OneOf(['GET', 'POST']),
  /** SM2 ciphertext layout for the password (the format of the server's key decides hex or base64) */
  cipherMode: OneOf(['C1C3C2', 'C1C2C3', 'DER']),
  tls: Type.Object({
    /** PEM file of the CA (or the self-signed certificate) to trust; '' = the system's */
    ca: Type.String(),
    /** skip certificate checks (test setups only) */
    insecure: OneOf(['no', 'yes']),
  }),
};

export type LinkSettings = Static<ReturnType<typeof Type.Object<typeof LINK_SETTINGS>>>;

export function linkDefaults(): LinkSettings {
  return { client: { id: 'pcfront', secret: 'pcfront' }, loginMethod: 'GET', cipherMode: 'C1C3C2', tls: { ca: '', insecure: 'no' } };
}
