import { type Insertable, type RawBuilder, type Selectable, sql, type Updateable } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { type Db, executePrepared } from '../db/database.ts';
import type { ProductRow, SpecificationsTable } from '../db/schema.ts';
import { isUuid } from '../platform/ids.ts';
import { productByRef } from '../products/products.repo.ts';
import type { SpecificationRule } from './specification-values.ts';

export type SpecificationRow = Selectable<SpecificationsTable>;

/** Finds a specification of a product by id or by (case-sensitive) name. */
export async function findSpecification(
  db: Db,
  productId: string,
  ref: string,
  options: { forUpdate?: boolean } = {},
): Promise<SpecificationRow | undefined> {
  let query = db.selectFrom('specifications').selectAll().where('product_id', '=', productId);
  query = isUuid(ref) ? query.where('id', '=', ref) : query.where('name', '=', ref);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** One page of a product's specifications ordered by id (`limit + 1` rows), optionally only (un)published ones. */
export async function findSpecifications(
  db: Db,
  options: { productId: string; published?: boolean; afterId?: string; limit: number },
): Promise<SpecificationRow[]> {
  let query = db
    .selectFrom('specifications')
    .selectAll()
    .where('product_id', '=', options.productId)
    .orderBy('id')
    .limit(options.limit + 1);
  if (options.published !== undefined) query = query.where('published', '=', options.published);
  if (options.afterId) query = query.where('id', '>', options.afterId);
  return query.execute();
}

/** Every published specification of a product, in id (creation) order. */
export async function findPublishedSpecifications(db: Db, productId: string): Promise<SpecificationRow[]> {
  return db
    .selectFrom('specifications')
    .selectAll()
    .where('product_id', '=', productId)
    .where('published', '=', true)
    .orderBy('id')
    .execute();
}

/**
 * The rules `checkSpecificationValues` checks a tenant's values against: the product's
 * published specifications, in creation order. With `forShare`, the rows stay locked
 * against change and deletion until the caller's transaction ends (so a value written
 * in it cannot outlive its specification).
 */
export async function findPublishedSpecificationRules(
  db: Db,
  productId: string,
  options: { forShare?: boolean } = {},
): Promise<SpecificationRule[]> {
  let query = db
    .selectFrom('specifications')
    .select(['name', 'type', 'required', 'pattern'])
    .where('product_id', '=', productId)
    .where('published', '=', true)
    .orderBy('id');
  if (options.forShare) query = query.forShare();
  return query.execute();
}

/** A rule with the identity and version of its specification, to tell later whether it changed. */
export type VersionedRule = SpecificationRule & { id: string; version: number };

/**
 * A product (by id or name) with the rules of its published specifications, in one
 * read that locks nothing: a write that relies on the rules checks, in its own
 * statement, that `rulesFingerprint` still matches (see `lockedRulesFingerprint`).
 */
export async function findProductWithRules(db: Db, ref: string): Promise<(ProductRow & { rules: VersionedRule[] }) | undefined> {
  const query = productByRef(db, ref).select((eb) =>
    jsonArrayFrom(
      eb
        .selectFrom('specifications')
        .select(['specifications.id', 'specifications.version', 'specifications.name', 'specifications.type'])
        .select(['specifications.required', 'specifications.pattern'])
        .whereRef('specifications.product_id', '=', 'products.id')
        .where('specifications.published', '=', true)
        .orderBy('specifications.id'),
    ).as('rules'),
  );
  const [product] = await executePrepared(db, query);
  return product as (ProductRow & { rules: VersionedRule[] }) | undefined;
}

/** Which published specifications, at which versions, `rules` are (ordered by id, as read). */
export function rulesFingerprint(rules: readonly VersionedRule[]): string {
  return rules.map((rule) => `${rule.id}:${rule.version}`).join(',');
}

/**
 * The same fingerprint worked out inside a write statement, with the product's
 * published specifications locked (shared) until its transaction ends, so a value
 * written cannot outlive its specification.
 */
export function lockedRulesFingerprint(productId: string): RawBuilder<string> {
  return sql<string>`(select coalesce(string_agg(locked.id::text || ':' || locked.version, ',' order by locked.id), '')
    from (select id, version from specifications where product_id = ${productId}::uuid and published for share) as locked)`;
}

/** Inserts a specification; a taken name raises 23505. */
export async function insertSpecification(db: Db, values: Insertable<SpecificationsTable>): Promise<SpecificationRow> {
  return db.insertInto('specifications').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Updates a specification and bumps its version. */
export async function updateSpecification(db: Db, id: string, values: Updateable<SpecificationsTable>): Promise<SpecificationRow> {
  return db
    .updateTable('specifications')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Counts the product's tenants (in any status) that have a value for the specification `name`. */
export async function countTenantsWithValue(db: Db, productId: string, name: string): Promise<number> {
  const row = await db
    .selectFrom('tenants')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('product_id', '=', productId)
    .where(sql<boolean>`specifications ? ${name}`)
    .executeTakeFirstOrThrow();
  return row.count;
}

/** Deletes a specification. */
export async function deleteSpecification(db: Db, id: string): Promise<void> {
  await db.deleteFrom('specifications').where('id', '=', id).execute();
}
