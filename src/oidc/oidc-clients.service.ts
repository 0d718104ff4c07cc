import { randomBytes } from 'node:crypto';
import { generateCredential, hashSecret } from '../access/credential-format.ts';
import { type Caller, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import type { IdTokenSigningAlg } from '../db/schema.ts';
import { AppError, assertNoProblems, type ErrorItem, errorItem } from '../errors/app-error.ts';
import { decodeCursor, toPage, UUID_KEY } from '../http/pagination.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import { announceOidcClientChange } from './client-cache.ts';
import * as repo from './oidc-clients.repo.ts';

/** What a product sends to register an OIDC client. */
export interface OidcClientCreate {
  name: string;
  type: 'confidential' | 'public';
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  idTokenSigningAlg?: IdTokenSigningAlg;
}

/** A client as the API shows it (never its secret, which only the creation answer carries). */
export function toOidcClientView(client: repo.OidcClientRecord) {
  return {
    id: client.id,
    clientId: client.client_id,
    product: client.product_name,
    name: client.name,
    type: client.type,
    tokenEndpointAuthMethod: client.type === 'confidential' ? 'client_secret_basic' : 'none',
    pkceRequired: client.type === 'public',
    redirectUris: client.redirect_uris,
    postLogoutRedirectUris: client.post_logout_redirect_uris,
    idTokenSigningAlg: client.id_token_signing_alg,
    revoked: client.revoked_at !== null,
    createdAt: client.created_at.toISOString(),
  };
}

/** Redirect URIs are matched exactly, so each must be a complete http(s) URL without a fragment. */
function uriProblems(uris: string[], field: string): ErrorItem[] {
  return uris.flatMap((uri, index) => {
    const url = URL.parse(uri);
    if (url && ['http:', 'https:'].includes(url.protocol) && !url.hash && !uri.includes('#') && !url.username) return [];
    return [errorItem('request.invalid', `"${uri}" must be an absolute http(s) URL without fragment or credentials`, `${field}.${index}`)];
  });
}

/** Registers an OIDC client of a product; a confidential one gets a secret, shown in this answer only. */
export async function createOidcClient(db: Db, clock: Clock, caller: Caller, productRef: string, body: OidcClientCreate) {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const product = await getVisibleProduct(db, caller.principal, productRef);
  assertNoProblems([
    ...uriProblems(body.redirectUris, 'redirectUris'),
    ...uriProblems(body.postLogoutRedirectUris ?? [], 'postLogoutRedirectUris'),
  ]);
  const secret = body.type === 'confidential' ? generateCredential('lloc') : undefined;
  const now = clock.now();
  const id = newId();
  const clientId = `oidc_${randomBytes(12).toString('hex')}`;
  await repo.insertOidcClient(db, {
    id,
    product_id: product.id,
    client_id: clientId,
    name: body.name,
    type: body.type,
    secret_hash: secret ? hashSecret(secret) : null,
    redirect_uris: [...new Set(body.redirectUris)],
    post_logout_redirect_uris: [...new Set(body.postLogoutRedirectUris ?? [])],
    id_token_signing_alg: body.idTokenSigningAlg ?? 'RS256',
    created_at: now,
    updated_at: now,
  });
  const record = await repo.findProductOidcClient(db, product.id, clientId);
  if (!record) throw new Error('client vanished inside its own transaction');
  const view = toOidcClientView(record);
  await insertAuditRecord(db, caller.actor, {
    action: 'oidc_client.create',
    objectType: 'oidc_client',
    objectId: id,
    productId: product.id,
    after: view,
  });
  return { ...view, ...(secret ? { clientSecret: secret } : {}) };
}

/** One of the product's clients, or 404. */
export async function getOidcClient(db: Db, caller: Caller, productRef: string, clientId: string) {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const product = await getVisibleProduct(db, caller.principal, productRef);
  const client = await repo.findProductOidcClient(db, product.id, clientId);
  if (!client) throw new AppError('oidc_client.not_found', { parameter: 'clientId' });
  return client;
}

/** One page of a product's clients. */
export async function listOidcClients(db: Db, caller: Caller, productRef: string, cursor: string | undefined, limit: number) {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const product = await getVisibleProduct(db, caller.principal, productRef);
  const rows = await repo.findProductOidcClients(db, product.id, { afterId: decodeCursor(cursor, UUID_KEY), limit });
  return toPage(rows, limit, (row) => row.id);
}

/** Revokes a client (run it in a transaction): it can no longer sign anyone in, and its refresh tokens stop working. */
export async function revokeOidcClient(db: Db, clock: Clock, caller: Caller, productRef: string, clientId: string) {
  const client = await getOidcClient(db, caller, productRef, clientId);
  if (client.revoked_at) return toOidcClientView(client);
  const now = clock.now();
  const view = toOidcClientView({ ...client, revoked_at: now });
  await repo.revokeOidcClient(db, client.id, now);
  await insertAuditRecord(db, caller.actor, {
    action: 'oidc_client.revoke',
    objectType: 'oidc_client',
    objectId: client.id,
    productId: client.product_id,
    before: toOidcClientView(client),
    after: view,
  });
  // Every node's client cache drops it when the caller's transaction commits.
  await announceOidcClientChange(db, client.client_id);
  return view;
}
