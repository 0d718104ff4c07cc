import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** This node's entry in the registry of running nodes. */
export interface NodeRegistration {
  nodeId: string;
  stop(): Promise<void>;
}

/**
 * Registers this node in `landlord_nodes` and keeps its heartbeat fresh. Every node
 * also looks for nodes whose heartbeat stopped (killed, frozen, cut off) and hands
 * their jobs back to the queue: graphile-worker keeps a dead worker's jobs locked
 * for four hours, far too long for a call a tenant is waiting on. The jobs of a dead
 * node are therefore retried within `deadAfterMs` plus one heartbeat.
 */
export async function registerNode(options: {
  db: Db;
  nodeId: string;
  role: string;
  workerPoolId: string | undefined;
  heartbeatMs: number;
  deadAfterMs: number;
  /** Releases whatever else the dead nodes held (leases), in the transaction that forgets them. */
  onNodesDead?: OnNodesDead;
  onError: (error: unknown) => void;
}): Promise<NodeRegistration> {
  const { db, nodeId } = options;
  await db
    .insertInto('landlord_nodes')
    .values({ id: nodeId, role: options.role, worker_pool_id: options.workerPoolId ?? null })
    .execute();

  const beat = async () => {
    await db.updateTable('landlord_nodes').set({ heartbeat_at: sql`now()` }).where('id', '=', nodeId).execute();
    await releaseDeadNodes(db, options.deadAfterMs, options.onNodesDead);
  };
  await releaseDeadNodes(db, options.deadAfterMs, options.onNodesDead);
  const timer = setInterval(() => beat().catch(options.onError), options.heartbeatMs);
  timer.unref();

  return {
    nodeId,
    async stop() {
      clearInterval(timer);
      await db.deleteFrom('landlord_nodes').where('id', '=', nodeId).execute();
    },
  };
}

/** Work to undo for nodes found dead, in the transaction that forgets them. */
export type OnNodesDead = (tx: Db, nodeIds: string[]) => Promise<void>;

/** Unlocks the jobs of every node silent for longer than `deadAfterMs` and forgets those nodes. */
export async function releaseDeadNodes(db: Db, deadAfterMs: number, onNodesDead?: OnNodesDead): Promise<string[]> {
  return db.transaction().execute(async (tx) => {
    // Skip rows another node is already releasing; it will finish the job.
    const dead = await tx
      .selectFrom('landlord_nodes')
      .select(['id', 'worker_pool_id'])
      .where('heartbeat_at', '<', sql<Date>`now() - make_interval(secs => ${deadAfterMs / 1000})`)
      .forUpdate()
      .skipLocked()
      .execute();
    if (dead.length === 0) return [];
    const poolIds = dead.map((node) => node.worker_pool_id).filter((id): id is string => id !== null);
    if (poolIds.length) await sql`select graphile_worker.force_unlock_workers(${poolIds}::text[])`.execute(tx);
    await onNodesDead?.(
      tx,
      dead.map((node) => node.id),
    );
    await tx
      .deleteFrom('landlord_nodes')
      .where(
        'id',
        'in',
        dead.map((node) => node.id),
      )
      .execute();
    return dead.map((node) => node.id);
  });
}
