/**
 * IP addresses as EventBridge's matcher reads them (Event Ruler's CIDR class): a string is an address only if it
 * looks like a dotted quad or a colon-hex IPv6 literal and parses as one. IPv6 forms with an embedded dotted quad
 * or a zone id are not addresses; an IPv4-mapped IPv6 address is its IPv4 address (Java's InetAddress does that).
 */

const IPV4 = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6 = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

export type IpBytes = readonly number[];

/** True for dotted quads with a zero-padded octet, which parsers disagree on (octal, decimal or invalid). */
export function hasPaddedOctet(text: string): boolean {
  return IPV4.test(text) && text.split('.').some((octet) => octet.length > 1 && octet.startsWith('0'));
}

export function looksLikeIp(text: string): boolean {
  return IPV4.test(text) || IPV6.test(text);
}

/** The address's 4 or 16 bytes, or undefined when the text is not an address. */
export function parseIp(text: string): IpBytes | undefined {
  if (IPV4.test(text)) return parseIpv4(text);
  if (IPV6.test(text)) return parseIpv6(text);
  return undefined;
}

function parseIpv4(text: string): IpBytes | undefined {
  const octets = text.split('.').map(Number);
  return octets.every((o) => Number.isInteger(o) && o >= 0 && o <= 255) ? octets : undefined;
}

function parseIpv6(text: string): IpBytes | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string | undefined): string[] | undefined =>
    part === undefined || part === '' ? [] : part.split(':');
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const bytes: number[] = [];
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    const value = Number.parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

/** Compares two addresses of the same family byte by byte. */
export function compareIp(a: IpBytes, b: IpBytes): number {
  for (let i = 0; i < a.length; i += 1) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export interface IpRange {
  bottom: IpBytes;
  top: IpBytes;
}

/** The block's first and last address; `hostBitsSet` says whether the given base was not the block's first. */
export function cidrRange(base: IpBytes, maskBits: number): IpRange & { hostBitsSet: boolean } {
  const bottom: number[] = [];
  const top: number[] = [];
  base.forEach((byte, i) => {
    const kept = Math.max(0, Math.min(8, maskBits - i * 8));
    const hostMask = 0xff >> kept;
    bottom.push(byte & ~hostMask & 0xff);
    top.push(byte | hostMask);
  });
  return { bottom, top, hostBitsSet: bottom.some((b, i) => b !== base[i]) };
}

export function inRange(address: IpBytes, { bottom, top }: IpRange): boolean {
  return address.length === bottom.length && compareIp(address, bottom) >= 0 && compareIp(address, top) <= 0;
}
