import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Component } from '../platform/supervisor.ts';

/** This node as the registry of running nodes knows it. */
export interface NodeIdentity {
  readonly id: string;
  readonly role: string;
  /** graphile-worker's pool id on a worker node (the job runner sets it at each start): the jobs it holds are locked under it. */
  workerPoolId: string | undefined;
}

/**
 * This node's heartbeat as a supervised component (`node-heartbeat`). It upserts the
 * node's entry in `landlord_nodes` (so a node that another one took for dead during a
 * long outage comes back) and keeps it fresh. Every node also looks for nodes whose
 * heartbeat stopped (killed, frozen, cut off) and hands their jobs back to the queue:
 * graphile-worker keeps a dead worker's jobs locked for four hours, far too long for a
 * call a tenant is waiting on. The jobs of a dead node are therefore retried within
 * `deadAfterMs` plus one heartbeat. A failed beat stops the component; the supervisor
 * starts it again. {@link forgetNode} removes the entry at shutdown.
 *
 * A node judges others only once its own heartbeat has been beating for `deadAfterMs`:
 * after a database outage every heartbeat is stale, and a node that came back first
 * must give the others time to beat before it takes them for dead (and hands the jobs
 * they are still running to someone else).
 */
export function nodeHeartbeatComponent(options: {
  db: Db;
  node: NodeIdentity;
  heartbeatMs: number;
  deadAfterMs: number;
  /** Releases whatever else the dead nodes held (leases), in the transaction that forgets them. */
  onNodesDead?: OnNodesDead;
}): Component {
  const { db, node } = options;
  const beat = () =>
    db
      .insertInto('landlord_nodes')
      .values({ id: node.id, role: node.role, worker_pool_id: node.workerPoolId ?? null })
      .onConflict((conflict) => conflict.column('id').doUpdateSet({ heartbeat_at: sql`now()`, worker_pool_id: node.workerPoolId ?? null }))
      .execute();
  return {
    name: 'node-heartbeat',
    async start(fail) {
      await beat();
      const beatingSince = Date.now();
      // The beat and the judging run apart: a slow release of dead nodes must not hold back this node's own beat.
      let beating: Promise<unknown> | undefined;
      let judging: Promise<unknown> | undefined;
      const timer = setInterval(() => {
        beating ??= beat()
          .catch(fail)
          .finally(() => {
            beating = undefined;
          });
        if (Date.now() - beatingSince < options.deadAfterMs) return;
        judging ??= releaseDeadNodes(db, options.deadAfterMs, options.onNodesDead, node.id)
          .catch(fail)
          .finally(() => {
            judging = undefined;
          });
      }, options.heartbeatMs);
      timer.unref();
      return {
        async stop() {
          clearInterval(timer);
          await Promise.all([beating, judging]);
        },
      };
    },
  };
}

/** Removes this node from the registry (a clean shutdown: nothing of it is left to release). */
export async function forgetNode(db: Db, nodeId: string): Promise<void> {
  await db.deleteFrom('landlord_nodes').where('id', '=', nodeId).execute();
}

/** Work to undo for nodes found dead, in the transaction that forgets them. */
export type OnNodesDead = (tx: Db, nodeIds: string[]) => Promise<void>;

/**
 * Unlocks the jobs of every node silent for longer than `deadAfterMs` and forgets those nodes — never
 * the judging node itself: a node whose own beat was late (a stalled event loop, a slow database) is
 * alive by definition, and unlocking its jobs while it runs them would make their calls twice.
 */
export async function releaseDeadNodes(db: Db, deadAfterMs: number, onNodesDead?: OnNodesDead, self?: string): Promise<string[]> {
  return db.transaction().execute(async (tx) => {
    // Skip rows another node is already releasing; it will finish the job.
    const dead = await tx
      .selectFrom('landlord_nodes')
      .select(['id', 'worker_pool_id'])
      .where('heartbeat_at', '<', sql<Date>`now() - make_interval(secs => ${deadAfterMs / 1000})`)
      .$if(self !== undefined, (query) => query.where('id', '!=', self as string))
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
