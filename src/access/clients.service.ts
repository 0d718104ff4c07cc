import { randomBytes } from 'node:crypto';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { isForeignKeyViolation } from '../db/errors.ts';
import type { ProductRow } from '../db/schema.ts';
import { AppError } from '../errors/app-error.ts';
import { decodeCursor, toPage, UUID_KEY } from '../http/pagination.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import type { KeyRing } from '../platform/signing-keys.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import { API_AUDIENCE, notifyCredentialChange } from './authenticator.ts';
import * as repo from './clients.repo.ts';
import type { ClientCreateBody, ClientRotateBody, ClientView, ClientWithSecretView } from './clients.schemas.ts';
import { generateCredential, hashSecret, isWellFormed, matchesHash } from './credential-format.ts';
import { type Caller, requireRole } from './principal.ts';

/** Lifetime of the access tokens the token endpoint issues (shorter when the client's secret expires sooner). */
export const TOKEN_TTL_SECONDS = 3600;

// Compared against when the client id is unknown, so that case costs the same as a wrong secret.
const UNKNOWN_CLIENT_HASH = hashSecret(generateCredential('llcs'));
const MAX_CLIENT_ID_LENGTH = 200;

/** The API view of a client; the secret is never part of it. */
export function toClientView(row: repo.ClientRow): ClientView {
  return {
    id: row.id,
    clientId: row.client_id,
    productId: row.product_id,
    name: row.name,
    expiresAt: row.secret_expires_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

/**
 * The product whose clients the caller manages. A product the caller cannot see is 404
 * before anything else, so a client token learns nothing about other products; then
 * only super admins and product admins pass (403 for a product's own clients).
 */
async function managedProduct(db: Db, caller: Caller, productRef: string, forUpdate = false): Promise<ProductRow> {
  const product = await getVisibleProduct(db, caller.principal, productRef, forUpdate);
  requireRole(caller.principal, 'super_admin', 'product_admin');
  return product;
}

async function managedClient(db: Db, caller: Caller, productRef: string, clientRef: string, forUpdate = false): Promise<repo.ClientRow> {
  const product = await managedProduct(db, caller, productRef);
  const row = await repo.findClient(db, product.id, clientRef, { forUpdate });
  if (!row) throw new AppError('client.not_found', { message: `No client "${clientRef}" in this product`, parameter: 'clientId' });
  return row;
}

function newClientId(): string {
  return `cl_${randomBytes(10).toString('hex')}`;
}

function expiryOf(value: string | null | undefined): Date | null {
  return value ? new Date(value) : null;
}

/** Creates a client of a product; the returned `clientSecret` is the only time the secret is seen. */
export async function createClient(
  db: Db,
  clock: Clock,
  caller: Caller,
  productRef: string,
  body: ClientCreateBody,
): Promise<ClientWithSecretView> {
  const product = await managedProduct(db, caller, productRef);
  const secret = generateCredential('llcs');
  let row: repo.ClientRow;
  try {
    row = await repo.insertClient(db, {
      id: newId(),
      product_id: product.id,
      client_id: newClientId(),
      name: body.name,
      secret_hash: hashSecret(secret),
      secret_expires_at: expiryOf(body.expiresAt),
      created_at: clock.now(),
    });
  } catch (error) {
    // The product was deleted since it was read.
    if (isForeignKeyViolation(error)) throw new AppError('product.not_found', { parameter: 'product' });
    throw error;
  }
  const view = toClientView(row);
  await insertAuditRecord(db, caller.actor, {
    action: 'client.create',
    objectType: 'client',
    objectId: row.id,
    productId: product.id,
    after: view,
  });
  return { ...view, clientSecret: secret };
}

/** One page of a product's clients, oldest first. */
export async function listClients(db: Db, caller: Caller, productRef: string, cursor: string | undefined, limit: number) {
  const product = await managedProduct(db, caller, productRef);
  const rows = await repo.findClients(db, product.id, { afterId: decodeCursor(cursor, UUID_KEY), limit });
  return toPage(rows, limit, (row) => row.id);
}

/** One client of a product, by row id or public client id. */
export async function getClient(db: Db, caller: Caller, productRef: string, clientRef: string): Promise<ClientView> {
  return toClientView(await managedClient(db, caller, productRef, clientRef));
}

/**
 * Revokes a client: its secret and every token already issued to it stop working on
 * every node once the transaction commits. Revoking a revoked client changes nothing.
 */
export async function revokeClient(db: Db, clock: Clock, caller: Caller, productRef: string, clientRef: string): Promise<ClientView> {
  const current = await managedClient(db, caller, productRef, clientRef, true);
  if (current.revoked_at !== null) return toClientView(current);
  const row = await repo.updateClient(db, current.id, { revoked_at: clock.now() });
  const after = toClientView(row);
  await insertAuditRecord(db, caller.actor, {
    action: 'client.revoke',
    objectType: 'client',
    objectId: row.id,
    productId: row.product_id,
    before: toClientView(current),
    after,
  });
  await notifyCredentialChange(db);
  return after;
}

/**
 * Gives a client a new secret; the old one stops working at once. Tokens issued before
 * stay valid until they expire (at most {@link TOKEN_TTL_SECONDS}); revoke the client to end them.
 */
export async function rotateClientSecret(
  db: Db,
  caller: Caller,
  productRef: string,
  clientRef: string,
  body: ClientRotateBody,
): Promise<ClientWithSecretView> {
  const current = await managedClient(db, caller, productRef, clientRef, true);
  if (current.revoked_at !== null) {
    throw new AppError('client.revoked', { message: 'The client is revoked; create a new one', parameter: 'clientId' });
  }
  const secret = generateCredential('llcs');
  const row = await repo.updateClient(db, current.id, { secret_hash: hashSecret(secret), secret_expires_at: expiryOf(body.expiresAt) });
  const after = toClientView(row);
  await insertAuditRecord(db, caller.actor, {
    action: 'client.rotate_secret',
    objectType: 'client',
    objectId: row.id,
    productId: row.product_id,
    before: toClientView(current),
    after,
  });
  await notifyCredentialChange(db);
  return { ...after, clientSecret: secret };
}

/** An access token issued to a client. */
export interface IssuedClientToken {
  accessToken: string;
  tokenType: 'Bearer';
  /** Seconds until the token expires. */
  expiresIn: number;
  /** The client's row id (the token's `cid` claim). */
  clientRowId: string;
  productId: string;
}

/**
 * OAuth 2.0 client credentials: exchanges a client id and secret for an access token.
 * An unknown client, a wrong secret, and an expired or revoked client all throw the
 * same `auth.invalid_client`, so the answer tells an attacker nothing.
 */
export async function issueClientToken(
  db: Db,
  keyRing: KeyRing,
  clock: Clock,
  clientId: string,
  clientSecret: string,
): Promise<IssuedClientToken> {
  // A secret without a valid checksum cannot be one Landlord issued: no need to ask the database.
  const row =
    isWellFormed(clientSecret, 'llcs') && clientId.length <= MAX_CLIENT_ID_LENGTH
      ? await repo.findClientByClientId(db, clientId)
      : undefined;
  const secretMatches = matchesHash(clientSecret, row?.secret_hash ?? UNKNOWN_CLIENT_HASH);
  const now = clock.now();
  if (!row || !secretMatches || row.revoked_at !== null) throw new AppError('auth.invalid_client');
  const secondsLeft = row.secret_expires_at
    ? Math.floor((row.secret_expires_at.getTime() - now.getTime()) / 1000)
    : Number.POSITIVE_INFINITY;
  if (secondsLeft < 1) throw new AppError('auth.invalid_client');
  const expiresIn = Math.min(TOKEN_TTL_SECONDS, secondsLeft);
  const accessToken = await keyRing.sign(
    { cid: row.id, pid: row.product_id },
    { subject: row.client_id, audience: API_AUDIENCE, expiresInSeconds: expiresIn },
  );
  await repo.touchClient(db, row.id, now);
  return { accessToken, tokenType: 'Bearer', expiresIn, clientRowId: row.id, productId: row.product_id };
}
