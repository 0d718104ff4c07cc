import pg from 'pg';

/** One LISTEN connection per node, shared by every feature that waits on a channel. */
export interface Listener {
  /**
   * Calls `handler` with the payload of every NOTIFY on `channel`, and with `undefined`
   * after any gap in listening (a reconnect: anything may have changed).
   */
  on(channel: string, handler: (payload: string | undefined) => void): Promise<void>;
  close(): Promise<void>;
}

/**
 * Keeps one dedicated connection LISTENing on every channel asked for, reconnecting
 * with backoff (100 ms doubling to 5 s). Whatever was notified while the connection
 * was down is unknown, so every handler is called once the connection is back:
 * handlers must treat a call as "something may have changed", never as a count.
 */
export async function createListener(connectionString: string, onError: (error: unknown) => void): Promise<Listener> {
  const handlers = new Map<string, Array<(payload: string | undefined) => void>>();
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let delay = 100;
  const callAll = () => {
    for (const list of handlers.values()) for (const handler of list) handler(undefined);
  };

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString, application_name: 'landlord-listener' });
    next.on('notification', (message) => {
      for (const handler of handlers.get(message.channel) ?? []) handler(message.payload ?? '');
    });
    next.on('error', (error) => {
      onError(error);
      scheduleReconnect();
    });
    await next.connect();
    for (const channel of handlers.keys()) await next.query(`listen ${pg.escapeIdentifier(channel)}`);
    client = next;
    delay = 100;
    callAll();
  }

  function scheduleReconnect() {
    if (closed || retry) return;
    client?.end().catch(() => {});
    client = undefined;
    callAll();
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch((error) => {
        onError(error);
        delay = Math.min(delay * 2, 5000);
        scheduleReconnect();
      });
    }, delay);
    retry.unref();
  }

  await connect();
  return {
    async on(channel, handler) {
      const list = handlers.get(channel);
      if (list) {
        list.push(handler);
        return;
      }
      handlers.set(channel, [handler]);
      await client?.query(`listen ${pg.escapeIdentifier(channel)}`);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  };
}
