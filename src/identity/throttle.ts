import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Clock } from '../platform/clock.ts';

/** How many failures within a window block a key, and for how long. */
export interface ThrottleRule {
  maxFailures: number;
  windowSeconds: number;
  blockSeconds: number;
}

/**
 * Sign-in throttling. Per account (the e-mail, known or not, so the answer never tells
 * which) 5 failures in 15 minutes block it for 15 minutes; per address 20 — a shared
 * office behind one address should not lock itself out at once.
 */
export const THROTTLE_RULES = {
  account: { maxFailures: 5, windowSeconds: 900, blockSeconds: 900 },
  address: { maxFailures: 20, windowSeconds: 900, blockSeconds: 900 },
} as const satisfies Record<string, ThrottleRule>;

/** The keys one attempt counts against. */
export function throttleKeys(email: string, address: string): { account: string; address: string } {
  return { account: `account:${email.trim().toLowerCase()}`, address: `address:${address}` };
}

/** Seconds until the first of `keys` that is blocked unblocks; 0 when none is. */
export async function blockedFor(db: Db, clock: Clock, keys: string[]): Promise<number> {
  const now = clock.now();
  const row = await db
    .selectFrom('sign_in_throttle')
    .select((eb) => eb.fn.max('blocked_until').as('until'))
    .where('key', 'in', keys)
    .where('blocked_until', '>', now)
    .executeTakeFirst();
  const until = row?.until as Date | null | undefined;
  return until ? Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000)) : 0;
}

/**
 * Counts one failure against `key` in one statement (so concurrent attempts on several
 * nodes count exactly): a window older than the rule's starts again at 1; reaching the
 * limit blocks the key.
 */
export async function recordFailure(db: Db, clock: Clock, key: string, rule: ThrottleRule): Promise<void> {
  const now = clock.now();
  const windowStart = new Date(now.getTime() - rule.windowSeconds * 1000);
  const blockUntil = new Date(now.getTime() + rule.blockSeconds * 1000);
  await sql`
    insert into sign_in_throttle as t (key, failures, window_started_at, blocked_until)
    values (${key}, 1, ${now}, case when 1 >= ${rule.maxFailures} then ${blockUntil}::timestamptz end)
    on conflict (key) do update set
      failures = case when t.window_started_at < ${windowStart} then 1 else t.failures + 1 end,
      window_started_at = case when t.window_started_at < ${windowStart} then ${now} else t.window_started_at end,
      blocked_until = case
        when (case when t.window_started_at < ${windowStart} then 1 else t.failures + 1 end) >= ${rule.maxFailures}
        then ${blockUntil}::timestamptz else t.blocked_until end`.execute(db);
}

/** Forgets an account's failures after it signed in. */
export async function clearFailures(db: Db, key: string): Promise<void> {
  await db.deleteFrom('sign_in_throttle').where('key', '=', key).execute();
}
