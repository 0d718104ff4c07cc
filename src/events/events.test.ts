import { sql } from 'kysely';
import { v7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { createProduct, createTenant, productAdminKey } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { eventInsert, notifySequencer, recordEvent } from './events.repo.ts';

let landlord: TestLandlord;
beforeAll(async () => {
  landlord = await startTestLandlord();
});
afterAll(async () => {
  await landlord?.close();
});

/** Reads the whole feed from `after`, page by page, as a client would. */
async function readFeed(query: string, after?: string, client = landlord.admin) {
  const events: any[] = [];
  let cursor = after;
  for (;;) {
    const page = await client.get(`/v1/events?limit=500${query}${cursor ? `&after=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    events.push(...page.body.data);
    cursor = page.body.metadata.pagination.nextCursor;
    if (!page.body.metadata.pagination.hasMore) return { events, cursor };
  }
}

describe('GET /v1/events', () => {
  it("tells a tenant's story in order, numbered per tenant, with the tenant as it now is", async () => {
    const product = await createProduct(landlord.admin, { provisioning: { autoSendCreation: false } });
    const tenant = await createTenant(landlord.admin, product.name);
    await landlord.admin.patch(`/v1/tenants/${tenant.name}/metadata`, { crm: 7 });
    await landlord.admin.delete(`/v1/tenants/${tenant.name}`);
    const { events } = await eventually(async () => {
      const feed = await readFeed(`&tenant=${tenant.name}`);
      return feed.events.length === 4 ? feed : undefined;
    });
    expect(events.map((event) => event.type)).toEqual([
      'tenant.created',
      'tenant.metadata_changed',
      'tenant.status_changed',
      'tenant.deleted',
    ]);
    expect(events.map((event) => event.tenantSequence)).toEqual([1, 2, 3, 4]);
    expect(events[1].data.metadata).toEqual({ crm: 7 });
    expect(events[2].data).toMatchObject({ from: 'record_created', to: 'deleted', action: 'delete', actor: { type: 'admin_key' } });
    expect(events[3].data.tenant).toMatchObject({ name: tenant.name, status: 'deleted' });
    expect(events[3].data.tenant.actions).toBeUndefined();
  });

  it('filters by type (with a * prefix) and refuses an unknown type', async () => {
    const product = await createProduct(landlord.admin);
    await landlord.admin.patch(`/v1/products/${product.name}`, { displayName: 'Renamed' });
    const { events } = await eventually(async () => {
      const feed = await readFeed(`&product=${product.name}&type=product.*`);
      return feed.events.length === 2 ? feed : undefined;
    });
    expect(events.map((event) => event.type)).toEqual(['product.created', 'product.updated']);
    expect(events[1].data.before.displayName).toBe('A product');
    const unknown = await landlord.admin.get('/v1/events?type=tenant.exploded');
    expect(unknown.status).toBe(400);
    expect(unknown.body.metadata.errors[0].parameter).toBe('type');
  });

  it("shows a product-scoped credential only its own product's events", async () => {
    const mine = await createProduct(landlord.admin);
    const theirs = await createProduct(landlord.admin);
    await createTenant(landlord.admin, theirs.name);
    const scoped = landlord.as(await productAdminKey(landlord, mine.name));
    // Events reach the feed once sequenced, a few milliseconds after their commit.
    const { events } = await eventually(async () => {
      const feed = await readFeed('', undefined, scoped);
      return feed.events.length > 0 ? feed : undefined;
    });
    expect(events.every((event) => event.productId === mine.id)).toBe(true);
    expect((await scoped.get(`/v1/events?product=${theirs.name}`)).status).toBe(404);
  });

  it('gives a reader every event exactly once while many transactions commit concurrently', async () => {
    const { db } = landlord.node.services;
    const { cursor: start } = await readFeed('&type=product.deleted');
    const writers = 8;
    const perWriter = 25;
    const written: string[] = [];
    let done = false;

    const write = async (writer: number) => {
      for (let index = 0; index < perWriter; index++) {
        await db.transaction().execute(async (tx) => {
          const count = 1 + ((writer + index) % 3);
          for (let n = 0; n < count; n++) {
            written.push(await recordEvent(tx, { type: 'product.deleted', productId: null, data: { product: { writer, index, n } } }));
            // Hold the transaction open a little, so commits interleave out of id order.
            await sql`select pg_sleep(${Math.random() * 0.01})`.execute(tx);
          }
        });
      }
    };
    const seen: any[] = [];
    const read = async () => {
      let cursor = start;
      for (;;) {
        const finished = done;
        const page = await landlord.admin.get(`/v1/events?type=product.deleted&limit=37&after=${cursor}`);
        seen.push(...page.body.data);
        cursor = page.body.metadata.pagination.nextCursor;
        if (finished && !page.body.metadata.pagination.hasMore) return;
        if (!page.body.metadata.pagination.hasMore) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const reader = read();
    await Promise.all(Array.from({ length: writers }, (_, writer) => write(writer)));
    await eventually(async () => {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from events_pending`.execute(db);
      return rows[0]?.n === 0 ? true : undefined;
    });
    done = true;
    await reader;
    const ids = seen.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...written].sort());
  }, 60_000);

  it('sequences an event whose id was made long before it committed (a node whose clock lags, a long transaction)', async () => {
    const { db } = landlord.node.services;
    // Most passes look only at recent ids; the full pass that follows within a second or two finds this one.
    const id = v7({ msecs: Date.now() - 10 * 60_000 });
    const event = { type: 'product.deleted' as const, productId: null, data: { product: { late: true } } };
    await sql`with recorded as (${eventInsert(event, { id })}) ${notifySequencer(sql`recorded`, null)}`.execute(db);
    const late = await eventually(async () => {
      const row = await db.selectFrom('event_feed').select('position').where('event_id', '=', id).executeTakeFirst();
      return row?.position;
    });
    expect(late).toBeGreaterThan(0);
  });
});
