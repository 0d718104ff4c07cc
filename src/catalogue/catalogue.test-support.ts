import { uniqueName } from '../../test/helpers/fixtures.ts';
import type { ApiClient } from '../../test/helpers/http.ts';
import type { TestLandlord } from '../../test/helpers/landlord.ts';
import { API_AUDIENCE } from '../access/authenticator.ts';
import { newId } from '../platform/ids.ts';

/**
 * Test helpers of the catalogue tests: credentials of each kind, and tenants put in place
 * directly (the catalogue only reads them), so these tests depend on no other feature's API.
 */

/** A bearer token of a new client of the product (role `client`), signed as `/v1/auth/token` would. */
export async function clientToken(landlord: TestLandlord, productId: string): Promise<string> {
  const { db, keyRing } = landlord.node.services;
  const id = newId();
  const clientId = `client-${id}`;
  await db
    .insertInto('clients')
    .values({ id, product_id: productId, client_id: clientId, name: 'catalogue test client', secret_hash: Buffer.alloc(32) })
    .execute();
  return keyRing.sign({ cid: id, pid: productId }, { subject: clientId, audience: API_AUDIENCE, expiresInSeconds: 3600 });
}

/** Inserts a tenant of the product, optionally on a price and with specification values; returns its id. */
export async function insertTenant(
  landlord: TestLandlord,
  productId: string,
  options: { planPriceId?: string; specifications?: Record<string, unknown> } = {},
): Promise<string> {
  const id = newId();
  await landlord.node.services.db
    .insertInto('tenants')
    .values({
      id,
      product_id: productId,
      name: uniqueName('tenant'),
      display_name: 'A tenant',
      specifications: JSON.stringify(options.specifications ?? {}),
      metadata: '{}',
      plan_price_id: options.planPriceId ?? null,
    })
    .execute();
  return id;
}

/** The audit records of one object, oldest first. */
export async function auditOf(landlord: TestLandlord, objectId: string) {
  return landlord.node.services.db
    .selectFrom('audit_log')
    .select(['action', 'actor_type', 'product_id', 'before', 'after'])
    .where('object_id', '=', objectId)
    .orderBy('id')
    .execute();
}

/** Posts to `path` and fails the test unless the answer is 201; returns the created object. */
export async function created(client: ApiClient, path: string, body: unknown) {
  const response = await client.post(path, body);
  if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}: ${response.text}`);
  return response.body.data;
}

/** The `parameter` of every error in a failed response. */
export function parametersOf(response: { body: { metadata: { errors: { parameter: string }[] } } }): string[] {
  return response.body.metadata.errors.map((error) => error.parameter);
}
