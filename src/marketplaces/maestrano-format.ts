import type { CertificateOwner } from '../saml/certificates.ts';

/** A timestamp as Maestrano writes it: ISO 8601 UTC without milliseconds (`2015-06-03T05:00:33Z`). */
export function maestranoTime(value: Date): string;
export function maestranoTime(value: Date | null): string | null;
export function maestranoTime(value: Date | null): string | null {
  return value ? value.toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
}

/** The owner of a marketplace's SAML signing certificate. */
export const marketplaceCertificateOwner = (marketplaceId: string): CertificateOwner => ({ type: 'marketplace', id: marketplaceId });

/** `cld-<n>`: a group's Maestrano uid. */
export const groupUid = (number: string | number) => `cld-${number}`;
/** `usr-<n>`: a user's Maestrano uid. */
export const userUid = (number: string | number) => `usr-${number}`;
/** `bill-<n>`: a bill's Maestrano id. */
export const billUid = (number: string | number) => `bill-${number}`;
/** `rbill-<n>`: a recurring bill's Maestrano id. */
export const recurringBillUid = (number: string | number) => `rbill-${number}`;

/** The number inside a Maestrano uid with this prefix (`cld-4` → `4`), or undefined for anything else. */
export function numberOf(prefix: 'cld' | 'usr' | 'bill' | 'rbill', uid: string): number | undefined {
  const match = /^([a-z]+)-([1-9][0-9]{0,14})$/.exec(uid);
  return match && match[1] === prefix ? Number(match[2]) : undefined;
}
