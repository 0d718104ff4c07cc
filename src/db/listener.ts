import { type RawBuilder, sql } from 'kysely';
import pg from 'pg';
import type { Component } from '../platform/supervisor.ts';

/** One LISTEN connection per node, shared by every feature that waits on a channel. */
export interface Listener {
  /**
   * Calls `handler` with the payload of every NOTIFY on `channel`, and with `undefined`
   * after any gap in listening (a reconnect: anything may have changed). Never fails
   * for want of a connection: the channel is listened to as soon as there is one.
   * Resolves with a function that removes the handler again.
   */
  on(channel: string, handler: (payload: string | undefined) => void): Promise<() => void>;
}

/** The shared listener and the component that keeps its connection (run it under the supervisor). */
export interface SharedListener {
  listener: Listener;
  component: Component;
}

/**
 * The node's shared LISTEN connection. Handlers are kept here; the connection is a
 * supervised component (`listener`): when it drops, the supervisor reconnects with
 * backoff. Whatever was notified while it was down is unknown, so every handler is
 * called when the connection drops and again once it is back: handlers must treat a call as "something may
 * have changed", never as a count.
 */
export function createListener(connectionString: string): SharedListener {
  const handlers = new Map<string, Set<(payload: string | undefined) => void>>();
  let client: pg.Client | undefined;
  let fail: (cause: unknown) => void = () => {};

  const callAll = () => {
    for (const list of handlers.values()) for (const handler of list) handler(undefined);
  };
  const listen = async (on: pg.Client, channel: string) => {
    // A failed LISTEN means the connection broke: the instance fails and the next one listens again.
    await on.query(`listen ${pg.escapeIdentifier(channel)}`).catch(fail);
  };

  const listener: Listener = {
    async on(channel, handler) {
      const list = handlers.get(channel);
      if (list) list.add(handler);
      else {
        handlers.set(channel, new Set([handler]));
        if (client) await listen(client, channel);
      }
      return () => {
        handlers.get(channel)?.delete(handler);
      };
    },
  };

  const component: Component = {
    name: 'listener',
    async start(onFail) {
      const next = new pg.Client({ connectionString, application_name: 'landlord-listener' });
      let failed = false;
      const lost = (cause: unknown) => {
        if (failed) return;
        failed = true;
        if (client === next) client = undefined;
        callAll();
        onFail(cause);
      };
      next.on('notification', (message) => {
        for (const handler of handlers.get(message.channel) ?? []) handler(message.payload ?? '');
      });
      next.on('error', lost);
      next.on('end', () => lost(new Error('the LISTEN connection ended')));
      try {
        await next.connect();
        client = next;
        fail = lost;
        for (const channel of handlers.keys()) await next.query(`listen ${pg.escapeIdentifier(channel)}`);
      } catch (error) {
        failed = true;
        if (client === next) client = undefined;
        await next.end().catch(() => {});
        throw error;
      }
      callAll();
      return {
        async stop() {
          failed = true;
          if (client === next) client = undefined;
          await next.end().catch(() => {});
        },
      };
    },
  };
  return { listener, component };
}

/**
 * A select-list expression that notifies `channel` (at commit) once when the relation `rows` — a CTE of the same
 * statement — has any row, and not at all when it has none; it evaluates to how many notifications it sent (0 or 1).
 */
export function notifyIfAny(channel: string, rows: string): RawBuilder<number> {
  return sql<number>`(select count(*) from (select pg_notify(${channel}, '') from (select 1 from ${sql.table(rows)} limit 1) as any_row) as sent)::int`;
}
