// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import type * as x509 from '@peculiar/x509';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import type { SecretBox } from '../platform/secret-box.ts';

/**
 * The certificate generator, loaded when a certificate is first made (it is a large module
 * graph that start-up does not need). @peculiar/x509 resolves its ASN.1 schemas through
 * tsyringe, which needs the Reflect metadata API.
 */
async function loadX509() {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  return x509;
}

/** Who a SAML signing certificate belongs to: a product, a marketplace, any owner with a uuid. */
export interface CertificateOwner {
  type: string;
  id: string;
}

/** A signing certificate: the PEM (public), its fingerprints and, for signing, its private key. */
export interface SigningCertificate {
  id: string;
  certificatePem: string;
  /** SHA-1 over the DER, upper-case hex pairs joined by `:` (what Maestrano's `x509_fingerprint` holds). */
  sha1Fingerprint: string;
  sha256Fingerprint: string;
  notAfter: Date;
  createdAt: Date;
  retiredAt: Date | null;
}

/** How long a generated certificate is valid; SPs pin it, so it should outlive many sign-ins. */
const VALIDITY_DAYS = 5 * 365;
/** A rotated-out certificate stays in metadata this long, so SPs that re-read it can switch. */
export const RETIRED_GRACE_DAYS = 7;
// Any fixed number; serialises "generate the first certificate of an owner" across nodes.
const CERTGEN_LOCK = 7_305_010;
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;

function toView(row: {
  id: string;
  certificate: string;
  sha1_fingerprint: string;
  sha256_fingerprint: string;
  not_after: Date;
  created_at: Date;
  retired_at: Date | null;
}): SigningCertificate {
  return {
    id: row.id,
    certificatePem: row.certificate,
    sha1Fingerprint: row.sha1_fingerprint,
    sha256Fingerprint: row.sha256_fingerprint,
    notAfter: row.not_after,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
  };
}

/** Generates an RSA 2048 key and a self-signed certificate for it, and stores both (the key sealed). */
async function insertCertificate(db: Db, box: SecretBox, clock: Clock, owner: CertificateOwner, commonName: string): Promise<void> {
  const x509 = await loadX509();
  const now = clock.now();
  const keys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    name: `CN=${commonName.replace(/[,=+<>#;"\\]/g, ' ')}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + VALIDITY_DAYS * 86_400_000),
    signingAlgorithm: RSA,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  const pem = certificate.toString('pem');
  const parsed = new X509Certificate(pem);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const privatePem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`;
  await db
    .insertInto('saml_certificates')
    .values({
      id: newId(),
      owner_type: owner.type,
      owner_id: owner.id,
      private_key: box.seal(privatePem),
      certificate: pem,
      sha1_fingerprint: parsed.fingerprint,
      sha256_fingerprint: parsed.fingerprint256,
      not_after: new Date(parsed.validTo),
      created_at: now,
    })
    .execute();
}

/**
 * The certificate that signs for `owner` now (the newest unretired), with its private key;
 * the owner's first one is generated on first use (once, whatever the number of nodes).
 */
export async function signingCertificate(
  db: Db,
  box: SecretBox,
  clock: Clock,
  owner: CertificateOwner,
  commonName: string,
): Promise<SigningCertificate & { privateKeyPem: string }> {
  const read = () =>
    db
      .selectFrom('saml_certificates')
      .selectAll()
      .where('owner_type', '=', owner.type)
      .where('owner_id', '=', owner.id)
      .where('retired_at', 'is', null)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
  let row = await read();
  if (!row) {
    await db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(${CERTGEN_LOCK}, hashtext(${`${owner.type}:${owner.id}`}))`.execute(tx);
      const existing = await tx
        .selectFrom('saml_certificates')
        .select('id')
        .where('owner_type', '=', owner.type)
        .where('owner_id', '=', owner.id)
        .where('retired_at', 'is', null)
        .executeTakeFirst();
      if (!existing) await insertCertificate(tx, box, clock, owner, commonName);
    });
    row = await read();
  }
  if (!row) throw new Error('no SAML signing certificate');
  return { ...toView(row), privateKeyPem: box.open(row.private_key) };
}

/** Replaces the owner's signing certificate with a new one; the old one stays published for the grace period. */
export async function rotateCertificate(db: Db, box: SecretBox, clock: Clock, owner: CertificateOwner, commonName: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${CERTGEN_LOCK}, hashtext(${`${owner.type}:${owner.id}`}))`.execute(db);
  await db
    .updateTable('saml_certificates')
    .set({ retired_at: clock.now() })
    .where('owner_type', '=', owner.type)
    .where('owner_id', '=', owner.id)
    .where('retired_at', 'is', null)
    .execute();
  await insertCertificate(db, box, clock, owner, commonName);
}

/** The owner's certificates that metadata publishes: the signing one first, then those retired within the grace period. */
export async function publishedCertificates(db: Db, clock: Clock, owner: CertificateOwner): Promise<SigningCertificate[]> {
  const since = new Date(clock.now().getTime() - RETIRED_GRACE_DAYS * 86_400_000);
  const rows = await db
    .selectFrom('saml_certificates')
    .select(['id', 'certificate', 'sha1_fingerprint', 'sha256_fingerprint', 'not_after', 'created_at', 'retired_at'])
    .where('owner_type', '=', owner.type)
    .where('owner_id', '=', owner.id)
    .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', since)]))
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map(toView);
}

/** The base64 body of a PEM certificate, as `<ds:X509Certificate>` carries it. */
export function certificateBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}
