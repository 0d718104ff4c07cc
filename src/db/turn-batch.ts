import DataLoader from 'dataloader';
import type { Db } from './database.ts';

/** The most keys one statement carries; a busier turn runs several. */
const MAX_BATCH = 256;

/**
 * Loads asked for in the same turn of the event loop, by any number of requests, go to PostgreSQL as one
 * statement: a turn reads every socket that is ready before `setImmediate` runs, so at 50 concurrent requests one
 * round trip serves many of them, where each used to pay its own (on a 2-core virtual machine a round trip costs
 * more in system calls than the statement itself). Nothing is cached: every load reads the database as the
 * separate statements did. `batch` answers every key, in order (an `Error` fails only its own load); the same key
 * may appear more than once in a batch.
 */
export function turnBatch<K, V>(batch: (keys: readonly K[]) => Promise<readonly (V | Error)[]>): (key: K) => Promise<V> {
  const loader = new DataLoader<K, V>(batch, {
    cache: false,
    maxBatchSize: MAX_BATCH,
    batchScheduleFn: (run) => setImmediate(run),
  });
  return (key) => loader.load(key);
}

/**
 * A repository read that goes through a `turnBatch` of its pool, and alone inside a transaction (a batch
 * statement runs on the pool, outside the caller's transaction, and would not see its writes).
 */
export function turnBatchedRead<K, V>(
  batch: (db: Db, keys: readonly K[]) => Promise<readonly (V | Error)[]>,
  alone: (tx: Db, key: K) => Promise<V>,
): (db: Db, key: K) => Promise<V> {
  const perPool = new WeakMap<Db, (key: K) => Promise<V>>();
  return (db, key) => {
    if (db.isTransaction) return alone(db, key);
    let load = perPool.get(db);
    if (!load) {
      load = turnBatch((keys: readonly K[]) => batch(db, keys));
      perPool.set(db, load);
    }
    return load(key);
  };
}
