// GB/T 28181 identifiers: the 20-digit codes of servers, devices and channels (centre code 8 digits,
// industry 2, type 3, network 1, serial 6), the 10-digit SIP domain, and the 10-digit SSRC the
// standard puts in SDP `y=`: first digit 0 for live / 1 for playback, then the domain's 4th–8th
// characters, then a 4-digit sequence.

export const GB_ID = /^\d{20}$/;
export const GB_DOMAIN = /^\d{10}$/;
export const GB_SSRC = /^\d{10}$/;

export function isGbId(s: unknown): s is string {
  return typeof s === 'string' && GB_ID.test(s);
}

/** The 3-digit type code (characters 11–13): 111–130 front devices (132 IPC, 118 NVR), 131/132 cameras, 200 server, 215 business group, 216 virtual organisation. */
export function typeCode(id: string): number {
  return Number(id.slice(10, 13));
}

/** The 10-digit SSRC of a stream (`live`: real-time; otherwise playback/download). */
export function makeSsrc(domain: string, sequence: number, live = true): string {
  const middle = domain.slice(3, 8).padEnd(5, '0');
  return `${live ? '0' : '1'}${middle}${String(sequence % 10_000).padStart(4, '0')}`;
}

/** SSRC as written in `y=` (decimal) to the 32-bit number RTP carries; undefined when it is not one. */
export function ssrcNumber(ssrc: string): number | undefined {
  if (!/^\d{1,10}$/.test(ssrc)) return undefined;
  const n = Number(ssrc);
  return n <= 0xffff_ffff ? n : undefined;
}
