import type { Selectable } from 'kysely';
import { type Caller, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import type { SamlProvidersTable } from '../db/schema.ts';
import { AppError, assertNoProblems, errorItem } from '../errors/app-error.ts';
import { decodeCursor, toPage, UUID_KEY } from '../http/pagination.ts';
import type { Clock } from '../platform/clock.ts';
import { isUuid, newId } from '../platform/ids.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import {
  type CertificateOwner,
  publishedCertificates,
  rotateCertificate,
  type SigningCertificate,
  signingCertificate,
} from './certificates.ts';
import { ATTRIBUTE_SOURCES } from './saml-sso.ts';
import { NAME_ID_FORMATS } from './saml-xml.ts';

/** A SAML service provider row. */
export type SamlProviderRow = Selectable<SamlProvidersTable>;
/** The short names of the NameID formats a provider may ask for. */
export type NameIdFormat = keyof typeof NAME_ID_FORMATS;

/** What a product sends to register a service provider. */
export interface SamlProviderCreate {
  entityId: string;
  acsUrl: string;
  nameIdFormat?: NameIdFormat;
  attributeMapping?: Record<string, string>;
  signResponse?: boolean;
}

/** The certificate owner of a product's own SAML identity provider. */
export const productCertificateOwner = (productId: string): CertificateOwner => ({ type: 'product', id: productId });

/** A service provider as the API shows it. */
export function toSamlProviderView(row: SamlProviderRow) {
  const format = (Object.entries(NAME_ID_FORMATS).find(([, uri]) => uri === row.name_id_format)?.[0] ?? 'persistent') as NameIdFormat;
  return {
    id: row.id,
    entityId: row.entity_id,
    acsUrl: row.acs_url,
    nameIdFormat: format,
    attributeMapping: row.attribute_mapping,
    signResponse: row.sign_response,
    createdAt: row.created_at.toISOString(),
  };
}

/** A certificate as the API shows it (public parts only). */
export function toCertificateView(certificate: SigningCertificate) {
  return {
    id: certificate.id,
    certificate: certificate.certificatePem,
    sha1Fingerprint: certificate.sha1Fingerprint,
    sha256Fingerprint: certificate.sha256Fingerprint,
    notAfter: certificate.notAfter.toISOString(),
    createdAt: certificate.createdAt.toISOString(),
    signing: certificate.retiredAt === null,
    retiredAt: certificate.retiredAt?.toISOString() ?? null,
  };
}

const WHO = ['super_admin', 'product_admin', 'client'] as const;

/** Registers a service provider of a product (entity id unique within the product). */
export async function createSamlProvider(db: Db, clock: Clock, caller: Caller, productRef: string, body: SamlProviderCreate) {
  requireRole(caller.principal, ...WHO);
  const product = await getVisibleProduct(db, caller.principal, productRef);
  const acs = URL.parse(body.acsUrl);
  if (!acs || !['http:', 'https:'].includes(acs.protocol) || acs.hash || acs.username) {
    throw new AppError('request.invalid', {
      message: 'acsUrl must be an absolute http(s) URL without fragment or credentials',
      parameter: 'acsUrl',
    });
  }
  const unknown = Object.entries(body.attributeMapping ?? {}).filter(([, source]) => !Object.hasOwn(ATTRIBUTE_SOURCES, source));
  assertNoProblems(
    unknown.map(([name, source]) =>
      errorItem(
        'request.invalid',
        `"${source}" is not a source; use one of ${Object.keys(ATTRIBUTE_SOURCES).join(', ')}`,
        `attributeMapping.${name}`,
      ),
    ),
  );
  const now = clock.now();
  const id = newId();
  try {
    const row = await db
      .insertInto('saml_providers')
      .values({
        id,
        product_id: product.id,
        entity_id: body.entityId,
        acs_url: body.acsUrl,
        name_id_format: NAME_ID_FORMATS[body.nameIdFormat ?? 'persistent'],
        attribute_mapping: JSON.stringify(body.attributeMapping ?? {}),
        sign_response: body.signResponse ?? false,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const view = toSamlProviderView(row);
    await insertAuditRecord(db, caller.actor, {
      action: 'saml_provider.create',
      objectType: 'saml_provider',
      objectId: id,
      productId: product.id,
      after: view,
    });
    return view;
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('saml_provider.entity_id_taken', { parameter: 'entityId' });
    throw error;
  }
}

/** One of the product's service providers by id or entity id, or 404. */
export async function getSamlProvider(db: Db, caller: Caller, productRef: string, ref: string): Promise<SamlProviderRow> {
  requireRole(caller.principal, ...WHO);
  const product = await getVisibleProduct(db, caller.principal, productRef);
  const query = db.selectFrom('saml_providers').selectAll().where('product_id', '=', product.id);
  const row = await (isUuid(ref) ? query.where('id', '=', ref) : query.where('entity_id', '=', ref)).executeTakeFirst();
  if (!row) throw new AppError('saml_provider.not_found', { parameter: 'provider' });
  return row;
}

/** One page of a product's service providers. */
export async function listSamlProviders(db: Db, caller: Caller, productRef: string, cursor: string | undefined, limit: number) {
  requireRole(caller.principal, ...WHO);
  const product = await getVisibleProduct(db, caller.principal, productRef);
  let query = db
    .selectFrom('saml_providers')
    .selectAll()
    .where('product_id', '=', product.id)
    .orderBy('id')
    .limit(limit + 1);
  const after = decodeCursor(cursor, UUID_KEY);
  if (after) query = query.where('id', '>', after);
  return toPage(await query.execute(), limit, (row) => row.id);
}

/** Removes a service provider: it can no longer ask for an assertion. */
export async function deleteSamlProvider(db: Db, caller: Caller, productRef: string, ref: string) {
  const row = await getSamlProvider(db, caller, productRef, ref);
  await db.deleteFrom('saml_providers').where('id', '=', row.id).execute();
  await insertAuditRecord(db, caller.actor, {
    action: 'saml_provider.delete',
    objectType: 'saml_provider',
    objectId: row.id,
    productId: row.product_id,
    before: toSamlProviderView(row),
  });
  return { id: row.id, deleted: true };
}

/** The product's published certificates (the signing one is generated on first use). */
export async function listProductCertificates(db: Db, deps: { clock: Clock; box: SecretBox }, caller: Caller, productRef: string) {
  requireRole(caller.principal, ...WHO);
  const product = await getVisibleProduct(db, caller.principal, productRef);
  await signingCertificate(db, deps.box, deps.clock, productCertificateOwner(product.id), product.name);
  return (await publishedCertificates(db, deps.clock, productCertificateOwner(product.id))).map(toCertificateView);
}

/** Rotates the product's signing certificate: a new one signs at once, the old one stays in metadata for 7 days. */
export async function rotateProductCertificate(db: Db, deps: { clock: Clock; box: SecretBox }, caller: Caller, productRef: string) {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  const product = await getVisibleProduct(db, caller.principal, productRef);
  await rotateCertificate(db, deps.box, deps.clock, productCertificateOwner(product.id), product.name);
  const certificates = (await publishedCertificates(db, deps.clock, productCertificateOwner(product.id))).map(toCertificateView);
  await insertAuditRecord(db, caller.actor, {
    action: 'saml_certificate.rotate',
    objectType: 'saml_certificate',
    objectId: certificates[0]?.id ?? '',
    productId: product.id,
    after: { signing: certificates[0] ? { ...certificates[0], certificate: undefined } : null },
  });
  return certificates;
}
