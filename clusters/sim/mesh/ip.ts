/**
 * Whether `ip` is inside `cidr` ("10.0.0.0/8", or a single address). IPv4 by prefix; IPv6 and
 * anything unparsable only by equality.
 */
export function cidrContains(cidr: string, ip: string | undefined): boolean {
  if (!ip) return false;
  const [base, bits] = cidr.split('/');
  const a = ipv4(base ?? '');
  const b = ipv4(ip);
  if (a === undefined || b === undefined) return (base ?? '') === ip;
  const prefix = bits === undefined ? 32 : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) return false;
  if (prefix === 0) return true;
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value >>> 0;
}
