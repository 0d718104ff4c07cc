import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 32; // 24 random bytes = 192 bits, in base62
const CHECKSUM_LENGTH = 6;
/** Characters after the prefix that are stored in the clear to find the row. */
export const LOOKUP_LENGTH = 12;

/**
 * The kinds of secret Landlord issues, by prefix: `ll_` operator keys, `llcs_` client secrets,
 * `llcn_` connection secrets, `llrs_` reseller passwords, `llln_` login-link tokens, `llin_` invitation tokens,
 * `llss_` session tokens, `llpw_` password-link tokens, `lloc_` OIDC client secrets, `llcl_` console links.
 */
export type CredentialPrefix = 'll' | 'llcs' | 'llcn' | 'llrs' | 'llln' | 'llin' | 'llss' | 'llpw' | 'lloc' | 'llcl';

function base62(bytes: Buffer, length: number): string {
  let value = BigInt(`0x${bytes.toString('hex') || '0'}`);
  let out = '';
  while (out.length < length) {
    out = ALPHABET[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out;
}

function checksum(text: string): string {
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc32(text));
  return base62(sum, CHECKSUM_LENGTH);
}

/**
 * A new secret such as `ll_<32 base62 chars><6 chars of CRC-32>`: 192 random bits,
 * and a checksum that lets secret scanners (and Landlord) recognise a real key
 * without a database lookup.
 */
export function generateCredential(prefix: CredentialPrefix): string {
  const head = `${prefix}_${base62(randomBytes(24), BODY_LENGTH)}`;
  return head + checksum(head);
}

/** True when `value` looks like a secret of this kind with an intact checksum. */
export function isWellFormed(value: string, prefix: CredentialPrefix): boolean {
  const expected = prefix.length + 1 + BODY_LENGTH + CHECKSUM_LENGTH;
  if (value.length !== expected || !value.startsWith(`${prefix}_`)) return false;
  const head = value.slice(0, -CHECKSUM_LENGTH);
  return checksum(head) === value.slice(-CHECKSUM_LENGTH);
}

/** The public part of a secret used to find its row: the prefix and the first characters. */
export function lookupOf(value: string): string {
  return value.slice(0, value.indexOf('_') + 1 + LOOKUP_LENGTH);
}

/** SHA-256 of a secret: what is stored instead of the secret. */
export function hashSecret(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares a presented secret with a stored hash in constant time. */
export function matchesHash(value: string, storedHash: Buffer): boolean {
  const presented = hashSecret(value);
  return presented.length === storedHash.length && timingSafeEqual(presented, storedHash);
}

/** The last characters of a secret, for showing which one is set without showing it. */
export function maskSecret(value: string): string {
  return `••••${value.slice(-4)}`;
}
