import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';

// A tenant name is at most 63 characters; the base leaves room for `-` and ten digits.
const MAX_BASE_LENGTH = 52;

/**
 * The start of a reseller tenant's code name: the reseller's prefix and the customer
 * reference, lower case, a–z and 0–9 only (`My Customer AB` → `mycustomerab`).
 */
export function codeNameBase(prefix: string, customerReference: string): string {
  const reference = customerReference
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
  if (!reference) {
    throw new AppError('request.invalid', {
      message: '"customerReference" needs at least one letter (a–z) or digit: the code name is made from it',
      parameter: 'customerReference',
    });
  }
  return `${prefix}${reference}`.slice(0, MAX_BASE_LENGTH);
}

/**
 * The next free code name for `base`: `<base>-<n>`, one more than the highest number
 * taken. Two requests for the same base are serialised by a transaction-scoped lock, so
 * they cannot pick the same number; a native tenant taking the name in between makes
 * the insert fail with `tenant.name_taken`, and the caller retries.
 */
export async function nextCodeName(db: Db, base: string): Promise<string> {
  await sql`select pg_advisory_xact_lock(hashtext(${`landlord.code_name:${base}`}))`.execute(db);
  // The base is a–z0–9 only, so it needs no escaping in a LIKE pattern.
  const taken = await db.selectFrom('tenants').select('name').where('name', 'like', `${base}-%`).execute();
  let highest = 0;
  const shape = new RegExp(`^${base}-(\\d{1,10})$`);
  for (const { name } of taken) {
    const match = shape.exec(name);
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  return `${base}-${highest + 1}`;
}
