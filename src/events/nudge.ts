import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** Channel that only wakes sequencers: unlike `landlord_events`, it tells no cache that anything changed. */
export const SEQUENCE_CHANNEL = 'landlord_sequence';

/** How long a nudge waits for others before its one NOTIFY: the writes meanwhile share it. */
const COALESCE_MS = 10;

/** Wakes the sequencers of every node, soon, for events a write recorded without a NOTIFY of its own. */
export type SequencerNudge = () => void;

/**
 * For hot writes whose events change nothing a cache holds (a one-off bill): a NOTIFY inside their statement
 * would make every such commit wait for the others (PostgreSQL serialises the commits of notifying
 * transactions), so they commit without one and call this afterwards. One NOTIFY, outside any transaction, then
 * serves every nudge of the next few milliseconds; if it is lost (the database away), the sequencer's idle pass
 * finds the events all the same.
 */
export function createSequencerNudge(db: Db, onError: (error: unknown) => void): SequencerNudge {
  let pending: NodeJS.Timeout | undefined;
  return () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      sql`select pg_notify(${SEQUENCE_CHANNEL}, '')`.execute(db).catch(onError);
    }, COALESCE_MS);
    pending.unref();
  };
}
