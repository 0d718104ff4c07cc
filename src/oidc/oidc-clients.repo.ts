import type { Insertable, Selectable } from 'kysely';
import type { ClientMetadata } from 'oidc-provider';
import { type Db, executePrepared } from '../db/database.ts';
import type { OidcClientsTable } from '../db/schema.ts';

/** An OIDC client row with its product's name. */
export type OidcClientRecord = Selectable<OidcClientsTable> & { product_name: string };

function clientQuery(db: Db) {
  return db
    .selectFrom('oidc_clients')
    .innerJoin('products', 'products.id', 'oidc_clients.product_id')
    .selectAll('oidc_clients')
    .select('products.name as product_name');
}

/** A client by its public `client_id`, unless revoked. */
export async function findOidcClientByClientId(db: Db, clientId: string): Promise<OidcClientRecord | undefined> {
  // Every token and userinfo request reads its client: a prepared statement.
  const [row] = await executePrepared(
    db,
    clientQuery(db).where('oidc_clients.client_id', '=', clientId).where('oidc_clients.revoked_at', 'is', null),
  );
  return row;
}

/** A product's client by public `client_id`, revoked or not. */
export async function findProductOidcClient(db: Db, productId: string, clientId: string): Promise<OidcClientRecord | undefined> {
  return clientQuery(db).where('oidc_clients.product_id', '=', productId).where('oidc_clients.client_id', '=', clientId).executeTakeFirst();
}

/** One page of a product's clients in id order (`limit + 1` rows). */
export async function findProductOidcClients(
  db: Db,
  productId: string,
  options: { afterId?: string; limit: number },
): Promise<OidcClientRecord[]> {
  let query = clientQuery(db)
    .where('oidc_clients.product_id', '=', productId)
    .orderBy('oidc_clients.id')
    .limit(options.limit + 1);
  if (options.afterId) query = query.where('oidc_clients.id', '>', options.afterId);
  return query.execute();
}

/** Inserts a client. */
export async function insertOidcClient(db: Db, values: Insertable<OidcClientsTable>): Promise<void> {
  await db.insertInto('oidc_clients').values(values).execute();
}

/** Marks a client revoked; its tokens stop working at once (the provider no longer finds it). */
export async function revokeOidcClient(db: Db, id: string, at: Date): Promise<void> {
  await db
    .updateTable('oidc_clients')
    .set({ revoked_at: at, updated_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

/** The client as oidc-provider reads it: code flow only, the secret's SHA-256 in place of the secret. */
export function clientMetadataOf(client: OidcClientRecord): ClientMetadata {
  return {
    client_id: client.client_id,
    client_name: client.name,
    ...(client.secret_hash ? { client_secret: client.secret_hash.toString('hex') } : {}),
    token_endpoint_auth_method: client.secret_hash ? 'client_secret_basic' : 'none',
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris,
    id_token_signed_response_alg: client.id_token_signing_alg,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    landlord_product: client.product_name,
    landlord_product_id: client.product_id,
  };
}
